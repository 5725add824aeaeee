"""Former name of :mod:`mapping.store.identity` (identity resolution against the store), kept so code
written before the rename still imports; new code imports ``mapping.store.identity``."""

from __future__ import annotations

from mapping.store.identity import KindPreview as KindPreview
from mapping.store.identity import LinkRef as LinkRef
from mapping.store.identity import ScanResult as ScanResult
from mapping.store.identity import StoreCalibration as StoreCalibration
from mapping.store.identity import apply_pairs as apply_pairs
from mapping.store.identity import duplicate_category_plan as duplicate_category_plan
from mapping.store.identity import fit_store_calibration as fit_store_calibration
from mapping.store.identity import org_candidates as org_candidates
from mapping.store.identity import person_candidates as person_candidates
from mapping.store.identity import record_categories as record_categories
from mapping.store.identity import scan as scan
