"""Importing sales history into the store: match each customer key through identity resolution.

How a customer key is matched, first hit wins:

1. an e-mail address: the person with exactly that (normalised) address, and their organisation;
   an unknown address at a company domain (not free mail) matches that domain's organisation;
2. a domain (``acme.com``, ``www.acme.co.uk``, ``https://acme.com/``): the organisation owning it
   (exact host or registrable domain, in ``organisation_domains``);
3. a company name: the one live organisation with the same normalised name (two: ambiguous, left
   unmatched), else a fuzzy match through :mod:`mapping.identity` accepted only on a "merge" decision;
4. anything else (an external customer id, or a name that did not match): the match of an earlier
   transaction with the same customer key (case-insensitive).

Unmatched rows are stored with NULL ``organisation_id``/``person_id`` (nothing is lost) and listed;
:func:`rematch_unmatched` tries them again later (after a sync or an identity run), and the import
command calls it. Merged records are followed to their survivor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from mapping.hygiene import email_domain, is_free_mail, normalise_company_name, normalise_email, registrable_domain
from mapping.identity import DEFAULT_THRESHOLDS, MatchIndex, OrgCandidate, Thresholds, build_org_index
from mapping.sales_history import LineError, TransactionRow
from mapping.store import audit, sales_rollup
from mapping.store.batching import CHUNK, chunked
from mapping.store.identity import org_candidates
from mapping.store.models import (
    EmailAddress,
    Organisation,
    OrganisationDomain,
    Person,
    Transaction,
    TransactionKind,
    utcnow,
)


@dataclass(frozen=True, slots=True)
class Match:
    organisation_id: int | None
    person_id: int | None
    method: str  # email, email_domain, domain, name, fuzzy, previous


@dataclass(frozen=True, slots=True)
class UnmatchedRow:
    line: int
    customer: str
    reason: str


@dataclass
class ImportResult:
    """What one import did. ``errors`` are the parser's, passed through for one summary."""

    source_file: str
    imported: int = 0
    duplicates: int = 0
    unmatched: list[UnmatchedRow] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    matched_by: dict[str, int] = field(default_factory=dict)
    rematched: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.source_file,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "matched_by": dict(sorted(self.matched_by.items())),
            "rematched": self.rematched,
            "unmatched": [{"line": u.line, "customer": u.customer, "reason": u.reason} for u in self.unmatched],
            "errors": [{"line": e.line, "column": e.column, "message": e.message} for e in self.errors],
        }


def _looks_like_domain(key: str) -> str | None:
    """The host of a key that is a domain or URL (no spaces, a dot, a registrable domain), else None."""
    text = key.strip().lower()
    if " " in text or "." not in text or "@" in text:
        return None
    return registrable_domain(text)


class CustomerMatcher:
    """Resolves customer keys against one session's store; caches per key, builds the fuzzy index once."""

    def __init__(self, session: Session, thresholds: Thresholds = DEFAULT_THRESHOLDS, *, fuzzy: bool = True) -> None:
        """``fuzzy=False``: no fuzzy name match (it builds an index of every organisation: right for an
        import, too dear for a read repeated on every classification pass)."""
        self.session = session
        self.thresholds = thresholds
        self.fuzzy = fuzzy
        self._primary: dict[str, Match | str] = {}  # by e-mail, domain or name
        self._cache: dict[str, Match | str] = {}  # final, with the earlier-transaction fallback
        self._index: MatchIndex[Any, Any] | None = None
        self._org_roots: dict[int, int] = {}
        self._person_roots: dict[int, tuple[int, int | None]] = {}

    # --- following merges ---------------------------------------------------------------------
    def _org_root(self, org_id: int) -> int:
        if org_id not in self._org_roots:
            current, seen = org_id, set()
            while current not in seen:
                seen.add(current)
                parent = self.session.scalar(sa.select(Organisation.merged_into_id).where(Organisation.id == current))
                if parent is None:
                    break
                current = parent
            self._org_roots[org_id] = current
        return self._org_roots[org_id]

    def _person(self, person_id: int) -> tuple[int, int | None]:
        """The live person (after merges) and their organisation."""
        if person_id not in self._person_roots:
            current, seen = person_id, set()
            org: int | None = None
            while current not in seen:
                seen.add(current)
                row = self.session.execute(
                    sa.select(Person.merged_into_id, Person.organisation_id).where(Person.id == current)
                ).one()
                org = row.organisation_id
                if row.merged_into_id is None:
                    break
                current = row.merged_into_id
            self._person_roots[person_id] = (current, self._org_root(org) if org is not None else None)
        return self._person_roots[person_id]

    # --- batch preloads -----------------------------------------------------------------------
    def _preload_roots(self, org_ids: Iterable[int], person_ids: Iterable[int] = ()) -> None:
        """Records not merged are their own root: learn that for many at once (one query per chunk,
        not one per record); merged ones are still followed one by one, as they are rare."""
        people = [p for p in set(person_ids) if p not in self._person_roots]
        orgs: set[int] = {o for o in org_ids if o not in self._org_roots}
        live_people: dict[int, int | None] = {}
        for chunk in chunked(people):
            rows = self.session.execute(
                sa.select(Person.id, Person.merged_into_id, Person.organisation_id).where(Person.id.in_(chunk))
            )
            for pid, merged, org in rows:
                if merged is None:
                    live_people[pid] = org
                    if org is not None:
                        orgs.add(org)
        for chunk in chunked(sorted(orgs - self._org_roots.keys())):
            merges = self.session.execute(
                sa.select(Organisation.id, Organisation.merged_into_id).where(Organisation.id.in_(chunk))
            )
            self._org_roots.update((oid, oid) for oid, merged in merges if merged is None)
        for pid, org in live_people.items():
            self._person_roots[pid] = (pid, self._org_root(org) if org is not None else None)

    def prepare(self, keys: Iterable[str]) -> None:
        """Resolve e-mail and domain keys in a few set-based queries (names go one by one)."""
        emails: dict[str, list[str]] = {}
        domains: dict[str, list[str]] = {}
        for key in set(keys):
            if key in self._primary:
                continue
            if "@" in key:
                record = normalise_email(key)
                if record is not None:
                    emails.setdefault(record.address, []).append(key)
            elif (host := _looks_like_domain(key)) is not None:
                domains.setdefault(host, []).append(key)
        found: dict[str, int] = {}
        for chunk in chunked(emails):
            rows = self.session.execute(
                sa.select(EmailAddress.address, EmailAddress.person_id).where(EmailAddress.address.in_(chunk))
            )
            found.update((address, person_id) for address, person_id in rows)
        self._preload_roots((), found.values())
        for address, keys_ in emails.items():
            if address in found:
                person, org = self._person(found[address])
                for key in keys_:
                    self._primary[key] = Match(org, person, "email")
        wanted = {h for h in domains}
        for address in emails:
            if address not in found and (d := email_domain(address)) and not is_free_mail(d):
                wanted.add(d)
                wanted.update(x for x in (registrable_domain(d),) if x)
        owners = self._domain_owners(wanted)
        self._preload_roots(owners.values())
        for address, keys_ in emails.items():
            if address in found:
                continue
            d = email_domain(address)
            org_id = self._owner(owners, d) if d and not is_free_mail(d) else None
            for key in keys_:
                self._primary[key] = (
                    Match(org_id, None, "email_domain")
                    if org_id is not None
                    else f"no person with the address {address} and no organisation with its domain"
                )
        for host, keys_ in domains.items():
            org_id = self._owner(owners, host)
            for key in keys_:
                self._primary[key] = (
                    Match(org_id, None, "domain") if org_id is not None else f"no organisation with the domain {host}"
                )

    def _domain_owners(self, hosts: set[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for chunk in chunked(hosts):
            rows = self.session.execute(
                sa.select(OrganisationDomain.domain, OrganisationDomain.organisation_id).where(
                    OrganisationDomain.domain.in_(chunk)
                )
            )
            out.update((domain, org_id) for domain, org_id in rows)
        return out

    def _owner(self, owners: dict[str, int], host: str) -> int | None:
        for candidate in (host, registrable_domain(host)):
            if candidate and candidate in owners:
                return self._org_root(owners[candidate])
        return None

    # --- one key ------------------------------------------------------------------------------
    def resolve(self, key: str) -> Match | str:
        """The match of one customer key, or the reason there is none."""
        if key not in self._cache:
            if key not in self._primary:
                if "@" in key or _looks_like_domain(key) is not None:
                    self.prepare([key])
                    self._primary.setdefault(key, f"{key!r} is not a valid e-mail address")
                else:
                    self._primary[key] = self._by_name(key)
            result = self._primary[key]
            if isinstance(result, str) and "@" not in key and _looks_like_domain(key) is not None:
                named = self._by_name(key)  # "Booking.com" is a company name too
                result = named if isinstance(named, Match) else result
            if isinstance(result, str):
                result = self._by_previous(key) or result
            self._cache[key] = result
        return self._cache[key]

    def _by_name(self, key: str) -> Match | str:
        normalised = normalise_company_name(key)
        if not normalised:
            return "the customer key is not an e-mail, domain or company name"
        ids = list(
            self.session.scalars(
                sa.select(Organisation.id)
                .where(Organisation.normalised_name == normalised, Organisation.merged_into_id.is_(None))
                .order_by(Organisation.id)
                .limit(3)
            )
        )
        if len(ids) == 1:
            return Match(ids[0], None, "name")
        if len(ids) > 1:
            return f"ambiguous: several organisations are named {key!r} (resolve the duplicates first)"
        if not self.fuzzy:
            return f"no organisation named {key!r}"
        if self._index is None:
            self._index = build_org_index(org_candidates(self.session))
        pairs = [
            p for p in self._index.match(OrgCandidate(id="\x00csv", name=key), self.thresholds) if p.decision == "merge"
        ]
        if len({p.b for p in pairs}) == 1:
            return Match(self._org_root(int(pairs[0].b)), None, "fuzzy")
        if pairs:
            return f"ambiguous: {key!r} is close to several organisations"
        return f"no organisation named {key!r}"

    def _by_previous(self, key: str) -> Match | None:
        row = self.session.execute(
            sa.select(Transaction.organisation_id, Transaction.person_id)
            .where(
                sa.func.lower(Transaction.customer_key) == key.lower(),
                sa.or_(Transaction.organisation_id.is_not(None), Transaction.person_id.is_not(None)),
            )
            .order_by(Transaction.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        if row.person_id is not None:
            person, org = self._person(row.person_id)
            return Match(org, person, "previous")
        return Match(self._org_root(row.organisation_id), None, "previous")


def _insert(session: Session, values: list[dict[str, Any]]) -> int:
    """Insert rows, skipping any whose fingerprint is already stored (a concurrent import); returns inserted."""
    if not values:
        return 0
    dialect = session.get_bind().dialect.name
    before = sales_rollup.position(session)
    added: list[Any] = []
    for i in range(0, len(values), CHUNK):
        batch = values[i : i + CHUNK]
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt: Any = pg_insert(Transaction).on_conflict_do_nothing(index_elements=["fingerprint"])
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            stmt = sqlite_insert(Transaction).on_conflict_do_nothing(index_elements=["fingerprint"])
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            stmt = sa.insert(Transaction)
        t = Transaction
        added += session.execute(
            stmt.returning(t.id, t.occurred_on, t.product, t.currency, t.kind, t.amount), batch
        ).all()
    sales_rollup.record_inserted(session, added, before)  # the overview's revenue by product
    return len(added)


def import_sales_history(
    session: Session,
    rows: Sequence[TransactionRow],
    source_file: str,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> ImportResult:
    """Store parsed rows (in the caller's transaction): matched where identity resolution can, and
    idempotent: rows whose fingerprint is already stored are counted as duplicates and skipped."""
    result = ImportResult(source_file=source_file)
    existing: set[str] = set()
    fingerprints = [r.fingerprint for r in rows]
    for chunk in chunked(fingerprints):
        existing.update(session.scalars(sa.select(Transaction.fingerprint).where(Transaction.fingerprint.in_(chunk))))
    fresh = [r for r in rows if r.fingerprint not in existing]
    result.duplicates = len(rows) - len(fresh)
    matcher = CustomerMatcher(session, thresholds)
    matcher.prepare(r.customer for r in fresh)
    now = utcnow()
    values: list[dict[str, Any]] = []
    for r in fresh:
        match = matcher.resolve(r.customer)
        if isinstance(match, Match):
            result.matched_by[match.method] = result.matched_by.get(match.method, 0) + 1
            org_id, person_id, method = match.organisation_id, match.person_id, match.method
        else:
            result.unmatched.append(UnmatchedRow(r.line, r.customer, match))
            org_id = person_id = method = None
        values.append(
            {
                "occurred_on": r.occurred_on,
                "customer_key": r.customer,
                "organisation_id": org_id,
                "person_id": person_id,
                "matched_by": method,
                "kind": TransactionKind(r.kind),
                "amount": r.amount,
                "currency": r.currency,
                "product": r.product,
                "referred_key": r.referred,
                "external_id": r.external_id,
                "source_file": source_file[-255:],
                "source_line": r.line,
                "fingerprint": r.fingerprint,
                "imported_at": now,
            }
        )
    inserted = _insert(session, values)
    result.duplicates += len(values) - inserted
    result.imported = inserted
    audit.record(
        session,
        "import",
        "transactions",
        reason="sales history import",
        detail={
            "rows": len(rows),
            "imported": inserted,
            "duplicates": result.duplicates,
            "unmatched": len(result.unmatched),
            "file_name_hash": audit.audit_file_hash(source_file),
        },
    )
    return result


def rematch_unmatched(session: Session, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> int:
    """Try every stored transaction without a match again; returns how many now have one."""
    keys = sorted(
        set(
            session.scalars(
                sa.select(Transaction.customer_key).where(
                    Transaction.organisation_id.is_(None), Transaction.person_id.is_(None)
                )
            )
        )
    )
    if not keys:
        return 0
    matcher = CustomerMatcher(session, thresholds)
    matcher.prepare(keys)
    changed = 0
    for key in keys:
        match = matcher.resolve(key)
        if not isinstance(match, Match):
            continue
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            sa.update(Transaction)
            .where(
                Transaction.customer_key == key, Transaction.organisation_id.is_(None), Transaction.person_id.is_(None)
            )
            .values(organisation_id=match.organisation_id, person_id=match.person_id, matched_by=match.method)
            .execution_options(synchronize_session=False)
        )
        changed += result.rowcount
    return changed


__all__ = ["CustomerMatcher", "ImportResult", "Match", "UnmatchedRow", "import_sales_history", "rematch_unmatched"]
