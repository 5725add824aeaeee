"""Applying one sync page to the store: set-based upserts of people, organisations and interactions.

Everything a page needs is loaded with a handful of ``IN (...)`` queries up front (links, addresses,
organisations, interactions), so a 512-item page costs a constant number of round trips, not one
per item. Matching here is exact only (normalised e-mail, normalised company name, registrable
domain); fuzzy identity resolution is a separate step that merges what this leaves apart.

One module per what is applied: :mod:`.links`, :mod:`.directory`, :mod:`.contacts`, :mod:`.messages`,
:mod:`.meetings` (with :mod:`.interactions`, what e-mails and meetings share); :mod:`.page` holds
the transaction around them.
"""

from __future__ import annotations

from mapping.store.apply.page import RACE_RETRIES, apply_page, unlink_links

__all__ = ["RACE_RETRIES", "apply_page", "unlink_links"]
