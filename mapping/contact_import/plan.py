"""What an import would do, decided without I/O: the cleaned rows against the store's people and
organisations (as plain records), through the same identity engine and thresholds as sync.

Organisations first: each distinct company of the file is matched against the store's organisations
and against the file's other companies ("A&B" and "A and B" in one file become one). Then people: each
row against the store's people (with the resolved organisation as evidence) and against the other
rows. A sure match merges (into the store's person, or rows into one new person); a doubtful one
creates the person and queues the pair for review; the rest are created. Field values of a merge
follow the configured precedence per field: ``keep`` the store's value, ``take`` the import's, or
``fill`` only what is empty (the default).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from mapping.contact_import.clean import ContactRow, Phone, Postal
from mapping.heap import without_cyclic_gc
from mapping.hygiene import normalise_company_name
from mapping.identity import (
    DEFAULT_THRESHOLDS,
    MatchPair,
    OrgCandidate,
    PersonCandidate,
    Thresholds,
    build_org_index,
    build_person_index,
    match_new,
)
from mapping.identity.orgs import org_features
from mapping.identity.people import (
    PersonFeatures,
    compare_person_features,
    held_for_review,
    person_block_keys,
    person_features,
    separate_mailboxes,
)

Precedence = Literal["keep", "take", "fill"]
#: The fields whose precedence can be set, and the default for each.
PRECEDENCE_FIELDS = ("name", "job_title", "department", "organisation", "address", "attributes")
DEFAULT_PRECEDENCE: dict[str, Precedence] = dict.fromkeys(PRECEDENCE_FIELDS, "fill")


@dataclass(frozen=True, slots=True)
class StorePerson:
    """One live person of the store, as the planner needs it."""

    id: int
    display_name: str
    given: str | None = None
    middle: str | None = None
    surname: str | None = None
    job_title: str | None = None
    department: str | None = None
    organisation_id: int | None = None
    organisation_name: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    postal: Postal | None = None
    user_fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NewOrg:
    """An organisation the import creates (``key`` names it until it has an id)."""

    key: str
    name: str
    normalised_name: str
    website: str | None
    lines: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class OrgReview:
    """A doubtful pair: the new organisation ``key`` may be the store's ``store_id``."""

    key: str
    store_id: int
    store_name: str
    score: float
    evidence: EvidenceRows = ()


EvidenceRows = tuple[tuple[str, str, float], ...]


@dataclass(frozen=True, slots=True)
class Review:
    """A doubtful pair for the review queue: ``other`` is a store person id, or another new person's key."""

    other: int | str
    score: float
    evidence: EvidenceRows


def _evidence(pair: MatchPair) -> EvidenceRows:
    return tuple((e.kind, e.detail, round(e.weight, 3)) for e in pair.score.evidence)


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class PersonPlan:
    """One person the import creates or changes; ``lines`` are the rows that became it (first = base).

    ``org`` is a store organisation id (int), a :class:`NewOrg` key (str) or ``None``. For a merge,
    ``target`` is the store person and ``changes`` are the fields that change; ``new_emails``,
    ``new_phones`` and ``new_postal`` are added to the person (created or existing)."""

    key: str
    lines: tuple[int, ...]
    target: int | None
    target_name: str | None
    score: float | None
    row: ContactRow
    org: int | str | None
    changes: tuple[FieldChange, ...]
    new_emails: tuple[str, ...]
    new_phones: tuple[Phone, ...]
    new_postal: Postal | None
    user_fields: Mapping[str, str]
    reviews: tuple[Review, ...] = ()

    @property
    def creates(self) -> bool:
        return self.target is None

    @property
    def changed(self) -> bool:
        return bool(self.creates or self.changes or self.new_emails or self.new_phones or self.new_postal)


@dataclass(frozen=True)
class ImportPlan:
    new_orgs: tuple[NewOrg, ...]
    org_merges: Mapping[str, tuple[int, str, float]]  # company key -> (store id, store name, score)
    org_reviews: tuple[OrgReview, ...]
    people: tuple[PersonPlan, ...]
    notes: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        created = [p for p in self.people if p.creates]
        merged = [p for p in self.people if not p.creates]
        return {
            "people_to_create": len(created),
            "rows_merged_into_existing": sum(len(p.lines) for p in merged),
            "people_changed": sum(1 for p in merged if p.changed),
            "people_unchanged": sum(1 for p in merged if not p.changed),
            "rows_merged_within_file": sum(len(p.lines) - 1 for p in created),
            "people_to_review": sum(1 for p in self.people if p.reviews),
            "organisations_to_create": len(self.new_orgs),
            "organisations_merged": len(self.org_merges),
            "organisations_to_review": len(self.org_reviews),
        }


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb), key=_order)
            self.parent[hi] = lo


def _order(key: str) -> tuple[int, str]:
    head, _, tail = key.partition(":")
    return (int(tail), head) if tail.isdigit() else (0, key)


_WEB_SUFFIXES = frozenset({"com", "net", "org", "io", "biz", "info", "de", "co", "uk", "fr", "eu"})


@functools.lru_cache(maxsize=65536)  # a company recurs on many rows, and each row asks twice
def company_key(name: str) -> str:
    """The name as compared exactly: legal form, "&" / "and", punctuation and a web suffix do not count
    ("Example.com, Inc." and "Example", "A&B" and "A and B", "E.ON" and "EON" share a key)."""
    words = (normalise_company_name(name) or name.casefold()).split()
    while len(words) > 1 and words[-1] in _WEB_SUFFIXES:
        words.pop()
    return " ".join(words)


def _plan_orgs(
    rows: Sequence[ContactRow], store_orgs: Sequence[OrgCandidate], thresholds: Thresholds
) -> tuple[dict[str, int | str], list[NewOrg], dict[str, tuple[int, str, float]], list[OrgReview]]:
    """company key of each row -> store org id or new org key; the new orgs; merges; reviews."""
    companies: dict[str, tuple[str, set[str], str | None, list[int]]] = {}
    for row in rows:
        if not row.company:
            continue
        key = company_key(row.company)
        name, domains, website, lines = companies.setdefault(key, (row.company, set(), row.website, []))
        domains.update(e.rpartition("@")[2] for e in row.emails)
        lines.append(row.line)
        if website is None and row.website:
            companies[key] = (name, domains, row.website, lines)
    keys = list(companies)
    cands = [
        OrgCandidate(
            id=f"c:{n}", name=companies[k][0], domains=tuple(sorted(companies[k][1]))[:8], website=companies[k][2]
        )
        for n, k in enumerate(keys)
    ]
    names = {o.id: o.name for o in store_orgs}
    by_key: dict[str, list[int]] = {}
    for o in store_orgs:
        by_key.setdefault(company_key(o.name), []).append(int(o.id))
    best: dict[str, tuple[int, float]] = {}
    for n, k in enumerate(keys):
        # The same name once legal form, "&", punctuation and web suffix are set aside: a sure match when
        # one store organisation has it (several: the engine decides between them, or review does).
        if len(by_key.get(k, ())) == 1:
            best[f"c:{n}"] = (by_key[k][0], 1.0)
    union = _Union()
    review_pairs: dict[str, list[tuple[int, float, EvidenceRows]]] = {}
    # Companies the exact key already placed need no fuzzy pass; the rest meet the store and each other.
    open_cands = [c for c in cands if c.id not in best]
    if open_cands:
        pairs = match_new(
            open_cands,
            build_org_index(store_orgs),
            thresholds,
            within_batch=True,
            features=[org_features(c) for c in open_cands],
        )
        for p in pairs:
            if p.b.startswith("c:"):
                if p.score.decision == "merge":
                    union.union(p.a, p.b)
                continue
            if p.a.startswith("c:") and p.b.isdigit():
                if p.score.decision == "merge":
                    if p.a not in best or (p.score.score > best[p.a][1] and best[p.a][1] < 1.0):
                        best[p.a] = (int(p.b), p.score.score)
                else:
                    review_pairs.setdefault(p.a, []).append((int(p.b), p.score.score, _evidence(p)))
    # A cluster of the file's companies takes its best store match, or becomes one new organisation.
    cluster_target: dict[str, tuple[int, float]] = {}
    for cid, (store_id, score) in best.items():
        root = union.find(cid)
        if root not in cluster_target or score > cluster_target[root][1]:
            cluster_target[root] = (store_id, score)
    resolved: dict[str, int | str] = {}
    new_orgs: dict[str, NewOrg] = {}
    merges: dict[str, tuple[int, str, float]] = {}
    reviews: list[OrgReview] = []
    for n, key in enumerate(keys):
        cid = f"c:{n}"
        root = union.find(cid)
        if root in cluster_target:
            store_id, score = cluster_target[root]
            resolved[key] = store_id
            merges[key] = (store_id, names.get(str(store_id), ""), score)
            continue
        new_key = f"new-org:{root[2:]}"
        resolved[key] = new_key
        name, _, website, lines = companies[key]
        if new_key not in new_orgs:
            new_orgs[new_key] = NewOrg(new_key, name, normalise_company_name(name), website, tuple(lines))
            for store_id, score, evidence in sorted(review_pairs.get(cid, ()), key=lambda x: -x[1])[:3]:
                reviews.append(OrgReview(new_key, store_id, names.get(str(store_id), ""), score, evidence))
        else:
            old = new_orgs[new_key]
            new_orgs[new_key] = NewOrg(
                old.key, old.name, old.normalised_name, old.website or website, old.lines + tuple(lines)
            )
    return resolved, list(new_orgs.values()), merges, reviews


def _candidate(row: ContactRow, org: int | str | None) -> PersonCandidate:
    return PersonCandidate(
        id=f"r:{row.line}",
        display_name=row.display_name,
        given=row.given,
        surname=row.surname,
        emails=row.emails,
        phones=tuple(p.e164 for p in row.phones),
        org_id=str(org) if org is not None else None,
        org_name=row.company,
        addresses=(row.postal.line(),) if row.postal else (),
        postcode=row.postal.postcode,
        city=row.postal.city,
    )


def store_candidate(p: StorePerson) -> PersonCandidate:
    """The identity engine's view of a store person."""
    return PersonCandidate(
        id=str(p.id),
        display_name=p.display_name,
        given=p.given,
        surname=p.surname,
        emails=p.emails,
        phones=p.phones,
        org_id=str(p.organisation_id) if p.organisation_id is not None else None,
        org_name=p.organisation_name,
        addresses=(p.postal.line(),) if p.postal else (),
        postcode=p.postal.postcode if p.postal else None,
        city=p.postal.city if p.postal else None,
    )


def _merged_row(rows: Sequence[ContactRow]) -> ContactRow:
    """Rows of one person in file order: the first non-empty value of each field wins."""
    from dataclasses import replace

    base = rows[0]
    for other in rows[1:]:
        base = replace(
            base,
            given=base.given or other.given,
            middle=base.middle or other.middle,
            surname=base.surname or other.surname,
            emails=base.emails + tuple(e for e in other.emails if e not in base.emails),
            phones=base.phones + tuple(p for p in other.phones if all(p.e164 != q.e164 for q in base.phones)),
            job_title=base.job_title or other.job_title,
            department=base.department or other.department,
            company=base.company or other.company,
            website=base.website or other.website,
            postal=base.postal or other.postal,
            attributes={**other.attributes, **base.attributes},
        )
    return base


def _decide(policy: Precedence, before: str | None, after: str | None) -> str | None:
    """The value a field ends with under ``policy`` (``None``-safe)."""
    if not after or policy == "keep":
        return before
    if policy == "take":
        return after
    return before or after


def _changes(
    row: ContactRow, org: int | str | None, p: StorePerson, precedence: Mapping[str, Precedence]
) -> tuple[list[FieldChange], Postal | None, dict[str, str]]:
    out: list[FieldChange] = []
    name_policy = precedence.get("name", "fill")
    for fname, before, after in (
        ("given_name", p.given, row.given),
        ("middle_name", p.middle, row.middle),
        ("surname", p.surname, row.surname),
    ):
        value = _decide(name_policy, before, after)
        if value != before:
            out.append(FieldChange(fname, before, value))
    if any(c.field in ("given_name", "surname", "middle_name") for c in out):
        parts = {c.field: c.after for c in out}
        display = " ".join(
            x
            for x in (
                parts.get("given_name", p.given),
                parts.get("middle_name", p.middle),
                parts.get("surname", p.surname),
            )
            if x
        )
        if display and display != p.display_name:
            out.append(FieldChange("display_name", p.display_name, display))
    for fname, before, after in (
        ("job_title", p.job_title, row.job_title),
        ("department", p.department, row.department),
    ):
        value = _decide(precedence.get(fname, "fill"), before, after)
        if value != before:
            out.append(FieldChange(fname, before, value))
    if org is not None and org != p.organisation_id:
        policy = precedence.get("organisation", "fill")
        if policy == "take" or (policy == "fill" and p.organisation_id is None):
            out.append(
                FieldChange("organisation_id", None if p.organisation_id is None else str(p.organisation_id), str(org))
            )
    new_postal = None
    if row.postal:
        policy = precedence.get("address", "fill")
        if p.postal is None and policy != "keep":
            new_postal = row.postal
        elif p.postal is not None and policy == "take" and p.postal.line() != row.postal.line():
            out.append(FieldChange("address", p.postal.line(), row.postal.line()))
    fields = dict(p.user_fields)
    attr_policy = precedence.get("attributes", "fill")
    for key, value in row.attributes.items():
        decided = _decide(attr_policy, fields.get(key), value)
        if decided is not None and decided != fields.get(key):
            out.append(FieldChange(f"user_field:{key}", fields.get(key), decided))
            fields[key] = decided
    return out, new_postal, fields


@without_cyclic_gc  # the whole plan, not only its matching passes: see mapping.heap
def plan_import(
    rows: Sequence[ContactRow],
    store_orgs: Sequence[OrgCandidate],
    store_people: Sequence[StorePerson],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    precedence: Mapping[str, Precedence] = DEFAULT_PRECEDENCE,
) -> ImportPlan:
    """Decide what importing ``rows`` does to a store holding ``store_orgs`` and ``store_people``."""
    org_of, new_orgs, org_merges, org_reviews = _plan_orgs(rows, store_orgs, thresholds)
    row_org: dict[int, int | str | None] = {
        r.line: org_of.get(company_key(r.company)) if r.company else None for r in rows
    }
    cands = [_candidate(r, row_org[r.line]) for r in rows]
    by_id = {p.id: p for p in store_people}
    email_owner = {e: p.id for p in store_people for e in p.emails}
    # The store's people are prepared once (features and the blocks the rows can meet), each row's once.
    row_features = [person_features(c) for c in cands]
    row_keys = {k for f in row_features for k in person_block_keys(f)}
    index = build_person_index((store_candidate(p) for p in store_people), only_keys=row_keys)
    del row_keys
    # A row whose e-mail address one store person has is scored against that person first: when the
    # engine merges them, the row needs no blocked search (the common case of a re-import or a CRM
    # export of people staff already e-mailed). Everything else meets the store and the other rows.
    pairs: list[MatchPair] = []
    rest: list[PersonCandidate] = []
    rest_features: list[PersonFeatures] = []
    for cand, features in zip(cands, row_features, strict=True):
        owners = {email_owner[e] for e in cand.emails if e in email_owner}
        if len(owners) == 1:
            known = next(iter(owners))
            theirs = index.features_of(str(known))
            assert theirs is not None
            score = compare_person_features(features, theirs, thresholds)
            if score.decision == "merge":
                pairs.append(MatchPair(cand.id, str(known), score))
                continue
        rest.append(cand)
        rest_features.append(features)
    del cands, row_features, email_owner
    if rest:
        pairs += match_new(rest, index, thresholds, within_batch=True, features=rest_features)
    del index, rest, rest_features
    union = _Union()
    best: dict[str, tuple[int, float]] = {}
    doubtful: dict[str, list[Review]] = {}
    row_emails = {f"r:{r.line}": r.emails for r in rows}
    for pair in pairs:
        within = pair.b.startswith("r:")
        other_emails = row_emails[pair.b] if within else by_id[int(pair.b)].emails
        if pair.score.decision == "merge" and separate_mailboxes(row_emails[pair.a], other_emails):
            # The engine already holds colleagues back; a store person's own addresses may be more than
            # the candidate it was scored as, so the rule is checked on the full lists here too.
            pair = MatchPair(pair.a, pair.b, held_for_review(pair.score, thresholds))
        if pair.score.decision == "merge":
            if within:
                union.union(pair.a, pair.b)
            elif pair.a not in best or pair.score.score > best[pair.a][1]:
                best[pair.a] = (int(pair.b), pair.score.score)
        else:
            doubtful.setdefault(pair.a, []).append(
                Review(pair.b if within else int(pair.b), pair.score.score, _evidence(pair))
            )
    clusters: dict[str, list[ContactRow]] = {}
    for r in rows:
        clusters.setdefault(union.find(f"r:{r.line}"), []).append(r)
    claimed: dict[str, str] = {e: str(p.id) for p in store_people for e in p.emails}
    people: list[PersonPlan] = []
    notes: list[str] = []
    for root, members in clusters.items():
        row = _merged_row(members)
        lines = tuple(m.line for m in members)
        hits = [best[f"r:{m.line}"] for m in members if f"r:{m.line}" in best]
        org = next((row_org[m.line] for m in members if row_org[m.line] is not None), None)
        target = max(hits, key=lambda h: h[1]) if hits else None
        owner = str(target[0]) if target else root
        emails = []
        for e in row.emails:
            holder = claimed.setdefault(e, owner)
            if holder == owner:
                emails.append(e)
            else:
                notes.append(f"line {lines[0]}: e-mail {e} belongs to another person (#{holder}): not added")
        if target is None:
            reviews: dict[int | str, Review] = {}
            for m in members:
                for review in doubtful.get(f"r:{m.line}", ()):
                    other = review.other
                    if isinstance(other, str):
                        other = union.find(other)
                        if other == root:
                            continue
                    if other not in reviews or review.score > reviews[other].score:
                        reviews[other] = Review(other, review.score, review.evidence)
            people.append(
                PersonPlan(
                    key=root,
                    lines=lines,
                    target=None,
                    target_name=None,
                    score=None,
                    row=row,
                    org=org,
                    changes=(),
                    new_emails=tuple(emails),
                    new_phones=row.phones,
                    new_postal=row.postal or None,
                    user_fields=dict(row.attributes),
                    reviews=tuple(sorted(reviews.values(), key=lambda r: -r.score)[:3]),
                )
            )
            continue
        existing = by_id[target[0]]
        changes, new_postal, fields = _changes(row, org, existing, precedence)
        people.append(
            PersonPlan(
                key=root,
                lines=lines,
                target=existing.id,
                target_name=existing.display_name,
                score=target[1],
                row=row,
                org=org,
                changes=tuple(changes),
                new_emails=tuple(e for e in emails if e not in existing.emails),
                new_phones=tuple(p for p in row.phones if p.e164 not in existing.phones),
                new_postal=new_postal,
                user_fields=fields,
            )
        )
    # Only the organisations a created or changed person points at need creating.
    used = {p.org for p in people if p.creates or any(c.field == "organisation_id" for c in p.changes)}
    kept = tuple(o for o in new_orgs if o.key in used)
    return ImportPlan(kept, org_merges, tuple(r for r in org_reviews if r.key in used), tuple(people), tuple(notes))
