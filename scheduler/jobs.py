"""Jobs: load the config, call the connector, which applies each page to the store in one transaction.

The main job syncs every configured mailbox's folders into the store. A mailbox that cannot be read
is recorded as needing attention (``relsync status`` shows it) and the others go on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import structlog

from connector.backends import Backends
from connector.engine import MailboxReport, Progress, SyncSettings
from connector.errors import ExchangeError
from connector.ews.categories import DEFAULT_CHUNK_SIZE
from connector.ews.client import EwsConnection
from connector.writer import BatchWrite, PlannedCategories
from mapping.categories import managed_colours
from mapping.changes import FolderName, SyncRules
from mapping.identity import Thresholds
from mapping.policy import PrivacyRules
from mapping.store import audit, identity
from mapping.store.classification_pass import classify_relationships, open_overrides
from mapping.store.identity import ScanResult
from mapping.store.job_marks import advance_mark, read_mark
from mapping.store.models import utcnow
from mapping.store.store import Store
from mapping.store.writeback_plan import PlanQuery, category_plan, read_plan, record_write_back
from scheduler.calibration import configured_calibration
from scheduler.config import ConfigError, LoadedConfig
from scheduler.connect import as_backends, ews_settings, oauth_settings, open_backends

__all__ = ["as_backends", "ews_settings", "oauth_settings"]  # re-exported: older callers import them here

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class MailboxResult:
    """What one mailbox's run produced, as the CLI prints it."""

    mailbox: str
    ok: bool
    folders: dict[str, int | None] = field(default_factory=dict)
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync_rules(loaded: LoadedConfig) -> SyncRules:
    """The store-side decisions from the config."""
    config = loaded.config
    privacy = config.privacy
    return SyncRules(
        internal_domains=frozenset(config.organisation.internal_domains),
        privacy=PrivacyRules(
            skip_private=privacy.skip_private,
            skip_confidential=privacy.skip_confidential,
            skip_internal_only=privacy.skip_internal_only,
            blocklist=tuple(privacy.blocklist),
            snippet_chars=privacy.snippet_chars,
        ),
        person_policy=config.sync.create_people_from,
        keep_interactions_on_delete=config.sync.keep_interactions_on_delete,
        suppression_key=audit.audit_key() if audit.has_key() else None,
    )


def sync_settings(loaded: LoadedConfig) -> SyncSettings:
    config = loaded.config
    return SyncSettings(
        page_size=config.sync.page_size,
        fast_reader=config.sync.fast_reader,
        calendar_days_back=config.sync.calendar_days_back,
        calendar_days_ahead=config.sync.calendar_days_ahead,
        default_region=config.organisation.default_region,
        snippet_chars=config.privacy.snippet_chars,
        # The classification's fields and the business case's (referrals, parents, what matters).
        user_fields=tuple(dict.fromkeys([*config.classification.user_fields, *loaded.business.user_fields])),
    )


def selected_mailboxes(loaded: LoadedConfig, only: list[str] | None) -> list[str]:
    """The configured mailboxes, or the ``only`` ones, which must be configured."""
    addresses = loaded.config.mailboxes.addresses
    if not only:
        return list(addresses)
    wanted = {a.lower() for a in only}
    unknown = wanted - set(addresses)
    if unknown:
        raise ConfigError(
            loaded.path,
            [
                f"{loaded.path}: mailboxes.addresses: {', '.join(sorted(unknown))} is not configured. "
                "Fix: add it to mailboxes.addresses or check the spelling"
            ],
        )
    return [a for a in addresses if a in wanted]


def run_sync(
    loaded: LoadedConfig,
    only: list[str] | None = None,
    folders: list[FolderName] | None = None,
    full: bool = False,
    progress: Progress | None = None,
    lease_wait: float = 60.0,
) -> list[MailboxReport]:
    """Sync every configured mailbox (or the ``only`` ones) into the store: the main job.

    Each mailbox is synced holding its lease, so this is safe while daemons run: a mailbox a daemon
    is syncing is waited for up to ``lease_wait`` seconds, then reported as held (by whom)."""
    from scheduler.followups_job import run_followups
    from scheduler.lease_sync import sync_with_lease

    config = loaded.config
    addresses = selected_mailboxes(loaded, only)
    connection = open_backends(loaded)
    store = Store(config.store.url)
    engine = connection.engine(store, sync_rules(loaded), sync_settings(loaded))
    started = utcnow()
    try:
        reports = [
            sync_with_lease(
                engine,
                address,
                folders or list(config.sync.folders),
                full=full,
                progress=progress,
                wait_seconds=lease_wait,
                interval_seconds=config.sync.interval_minutes * 60,
            )
            for address in addresses
        ]
        # What this run brought in is checked against everyone we know, so staff cannot create
        # duplicates silently; they see the doubtful ones flagged on their Outlook contacts.
        resolve_identities_since_last_pass(store, loaded, started)
        mark_possible_duplicates(connection, store, config.identity.duplicate_category)
        classify_and_write_back(connection, store, loaded)
        # Follow-ups last: they read the owners and tiers the steps before just wrote.
        run_followups(loaded, connection=connection, store=store)
        return reports
    finally:
        connection.close()
        store.dispose()


def thresholds(loaded: LoadedConfig) -> Thresholds:
    identity = loaded.config.identity
    return Thresholds(merge=identity.merge_threshold, review=identity.review_threshold)


IDENTITY_MARK = "identity_resolution"


def resolve_identities_since_last_pass(store: Store, loaded: LoadedConfig, started: datetime) -> ScanResult:
    """Check everything created since the last *completed* identity pass (a full pass the first time).

    The mark moves to this run's start only once the pass has committed, so records brought in by a
    run that was killed before it got here are checked by the next run, not forgotten.
    """
    result = resolve_identities(store, loaded, new_since=read_mark(store, IDENTITY_MARK))
    advance_mark(store, IDENTITY_MARK, started)
    return result


def resolve_identities(store: Store, loaded: LoadedConfig, new_since: datetime | None = None) -> ScanResult:
    """Merge sure duplicates and queue doubtful ones: a full pass, or only records new since a time
    (with the weights of ``[identity] calibration_file`` when it names one)."""
    calibrations = configured_calibration(loaded)
    result = identity.resolve(store, thresholds(loaded), new_since=new_since, calibrations=calibrations)
    log.info("identities resolved", merged=result.merged, queued=result.queued, full=new_since is None)
    return result


def mark_possible_duplicates(connection: Backends | EwsConnection, store: Store, category: str) -> tuple[int, int]:
    """Put the duplicate category on the contacts waiting for review, and take it off resolved ones.

    A failure on one contact is logged and retried on the next run; it never fails the sync.
    """
    backends = as_backends(connection)
    add, remove = identity.plan_duplicate_category(store, category)
    done = [0, 0]
    for n, (refs, adding) in enumerate(((add, True), (remove, False))):
        for ref in refs:
            try:
                written = backends.writer(ref.mailbox).update_categories(
                    ref.item_id, add=[category] if adding else [], remove=[] if adding else [category]
                )
            except ExchangeError as exc:
                log.warning("category not written", mailbox=ref.mailbox, item_id=ref.item_id, error=str(exc))
                continue
            identity.save_categories(store, ref.link_id, written.categories, written.change_key)
            done[n] += 1
    return done[0], done[1]


@dataclass(frozen=True)
class WriteBackReport:
    """One category write-back: contacts planned, written, failed; categories added to master lists."""

    planned: int = 0
    written: int = 0
    failed: int = 0
    master_added: dict[str, list[str]] = field(default_factory=dict)
    #: Contacts written per mailbox (for ``Metrics.record_writes(mailbox, "categories", n)``).
    written_by_mailbox: dict[str, int] = field(default_factory=dict)


def write_back_categories(
    connection: Backends | EwsConnection,
    store: Store,
    plan_fn: PlanQuery,
    managed: Sequence[tuple[str, int]],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> WriteBackReport:
    """Write the managed categories (name, Outlook colour index) onto the planned contacts.

    Each mailbox in the plan first gets the managed categories in its master category list (a no-op
    once they are there); then only contacts whose categories differ are written, in batches, and
    what was written (categories and new ChangeKey) is recorded in one transaction, so the same
    categories coming back through sync cause no new write. Failures are logged per contact or
    mailbox and retried on the next run; they never fail the job.
    """
    backends = as_backends(connection)
    rows = read_plan(store, plan_fn)
    names = [name for name, _ in managed]
    master_added: dict[str, list[str]] = {}
    for mailbox in dict.fromkeys(row.mailbox for row in rows):
        try:
            added = backends.writer(mailbox).ensure_master_categories(managed)
        except ExchangeError as exc:
            log.warning("master category list not updated", mailbox=mailbox, error=str(exc))
            continue
        if added:
            master_added[mailbox] = added
            audit.log_master_categories(store, mailbox, added, reason="classification write-back")
    plans: dict[str, list[PlannedCategories]] = {}
    for r in rows:
        plans.setdefault(r.mailbox, []).append(r)
    results: list[BatchWrite] = []
    for mailbox, plan in plans.items():
        try:
            results += backends.writer(mailbox).write_categories(plan, names, chunk_size)
        except ExchangeError as exc:  # the mailbox itself cannot be reached: every contact of it waits
            results += [BatchWrite(p.key, p.mailbox, p.item_id, p.current, p.change_key, False, str(exc)) for p in plan]
    for failed in (r for r in results if not r.ok):
        log.warning("categories not written", mailbox=failed.mailbox, item_id=failed.item_id, error=failed.error)
    audit.log_exchange_writes(
        store,
        "categories",
        ((f"link:{r.key}", {}) for r in results if not r.ok),
        outcome="failed",
        reason="classification write-back",
    )
    known = {r.key: (r.current, r.change_key) for r in rows}
    # What relsync last wrote (its managed categories now on the item) is the base against which
    # later hand edits are told apart from our own writes (staff overrides).
    managed_folded = {name.casefold() for name in names}
    written_before = {r.key: r.written for r in rows}
    ours = ((r.key, tuple(c for c in r.categories if c.casefold() in managed_folded)) for r in results if r.ok)
    record_write_back(
        store,
        ((r.key, r.categories, r.change_key) for r in results if r.ok and (r.categories, r.change_key) != known[r.key]),
        ((key, cats) for key, cats in ours if cats != written_before[key]),
    )
    written = Counter(r.mailbox for r in results if r.ok and r.changed)
    return WriteBackReport(
        planned=len(rows),
        written=sum(r.changed for r in results),
        failed=sum(not r.ok for r in results),
        master_added=master_added,
        written_by_mailbox=dict(written),
    )


@dataclass(frozen=True)
class ClassificationReport:
    """One classification pass: relationships classified, overrides opened/closed, the write-back."""

    relationships: int
    overrides_opened: int
    overrides_closed: int
    write_back: WriteBackReport


def colour_index(preset: str) -> int:
    """Outlook's colour index of a configured colour ("Preset4" -> 4, "None" -> -1)."""
    return -1 if preset == "None" else int(preset.removeprefix("Preset"))


def classify_and_write_back(
    connection: Backends | EwsConnection, store: Store, loaded: LoadedConfig, now: datetime | None = None
) -> ClassificationReport:
    """Classify every relationship and put its managed categories on its people's Outlook contacts.

    1. every organisation, and every person without one, gets its relationship row;
    2. managed categories staff set or removed by hand since relsync last wrote them open or close
       staff overrides (before classifying, so they count in this very pass);
    3. everything is classified (business rules, then overrides) and stored;
    4. each mailbox's master category list gets the managed categories and colours; every live
       contact of a person whose categories differ from the wanted ones is written, in batches
       (unless ``classification.write_back = false``).
    """
    config = loaded.classification
    now = now or utcnow()
    changes = open_overrides(store, config, now)
    results, wanted = classify_relationships(
        store, config, loaded.rules, now, currency=loaded.config.classification.currency, business=loaded.business
    )
    managed = [(name, colour_index(colour)) for name, colour in managed_colours(config).items()]
    if loaded.config.classification.write_back:
        report = write_back_categories(connection, store, lambda session: category_plan(session, wanted), managed)
    else:
        report = WriteBackReport()
    log.info(
        "relationships classified",
        relationships=len(results),
        overrides_opened=changes.opened,
        overrides_closed=changes.closed,
        contacts_planned=report.planned,
        contacts_written=report.written,
        contacts_failed=report.failed,
    )
    return ClassificationReport(len(results), changes.opened, changes.closed, report)


def run_main_job(loaded: LoadedConfig, only: list[str] | None = None) -> list[MailboxResult]:
    """Run the main job once (sync every mailbox) and summarise it per mailbox."""
    return [summarise(report) for report in run_sync(loaded, only)]


def summarise(report: MailboxReport) -> MailboxResult:
    folders: dict[str, int | None] = {f.folder: f.result.created + f.result.updated for f in report.folders}
    return MailboxResult(mailbox=report.mailbox, ok=report.ok, folders=folders, detail=report.error or "")
