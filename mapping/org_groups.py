"""Parent and related organisations: groups, their revenue, and concentration. Pure.

The business case ("track your concentration with any one parent organisation"). The store hands in
:class:`ParentLink` records (from a user field, an import column, a rule, or a confirmed domain family)
resolved to relationship ids. :func:`resolve_groups` gives every organisation its group's root (the
top parent; an organisation without a parent is its own group) and reports links it could not use: a
parent cycle (A parent of B parent of A: every link of the cycle is ignored and the cycle's members
stand alone), a second parent, a parent of oneself. The rest proceeds.

:func:`concentration` gives each group's share of total revenue as an exact fraction and as a
percentage with two decimals that add up to exactly 100.00 (largest remainder), and flags groups
above the configured concentration. Only positive group revenue makes up the total (a group at a
loss has a share of 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from mapping.classify import value_percents
from mapping.classify_business import TierMode
from mapping.relationship_records import RelationshipFacts

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ParentLink:
    """``parent_id`` is the parent organisation of ``child_id``, as ``source`` says."""

    child_id: int
    parent_id: int
    source: str


@dataclass(frozen=True, slots=True)
class GroupProblem:
    ids: tuple[int, ...]
    message: str


def resolve_groups(
    ids: Iterable[int],
    links: Iterable[ParentLink],
    names: Mapping[int, str],
) -> tuple[dict[int, int], list[GroupProblem]]:
    """``{organisation id: its group's root id}`` for every id (and every id a link names)."""

    def name(i: int) -> str:
        return names.get(i, str(i))

    parent: dict[int, int] = {}
    problems: list[GroupProblem] = []
    every = set(ids)
    for ln in links:
        every.update((ln.child_id, ln.parent_id))
        if ln.child_id == ln.parent_id:
            problems.append(
                GroupProblem(
                    (ln.child_id,),
                    (f"{name(ln.child_id)} is recorded as its own parent ({ln.source}); the link is ignored"),
                )
            )
        elif ln.child_id in parent and parent[ln.child_id] != ln.parent_id:
            problems.append(
                GroupProblem(
                    (ln.child_id,),
                    (
                        f"{name(ln.child_id)} has a second parent {name(ln.parent_id)} ({ln.source}); "
                        f"{name(parent[ln.child_id])} is kept: correct one of the two"
                    ),
                )
            )
        else:
            parent[ln.child_id] = ln.parent_id
    # Cycles: walk each chain once (colouring), cut every link of a cycle found.
    state: dict[int, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(every):
        path: list[int] = []
        node: int | None = start
        while node is not None and state.get(node) is None:
            state[node] = 1
            path.append(node)
            node = parent.get(node)
        if node is not None and state.get(node) == 1:
            cycle = path[path.index(node) :]
            chain = " -> ".join(name(i) for i in [*cycle, node])
            problems.append(
                GroupProblem(tuple(cycle), (f"parent cycle {chain}: these parent links are ignored, fix one of them"))
            )
            for i in cycle:
                parent.pop(i, None)
        for i in path:
            state[i] = 2
    root: dict[int, int] = {}
    for i in sorted(every):
        links_up: list[int] = []
        node = i
        while node not in root and node in parent:
            links_up.append(node)
            node = parent[node]
        top = root.get(node, node)
        root[node] = top
        for c in links_up:
            root[c] = top
    return root, problems


def group_revenue(root_of: Mapping[int, int], revenue: Mapping[int, Decimal]) -> dict[int, Decimal]:
    """Each group's revenue (root id -> the sum over its members, the root included)."""
    out: dict[int, Decimal] = {}
    for rid, r in root_of.items():
        out[r] = out.get(r, _ZERO) + revenue.get(rid, _ZERO)
    return out


def group_values(revenue_by_group: Mapping[int, Decimal]) -> dict[int, int]:
    """Each group's value percent among the groups, ranked exactly as relationships are
    (:func:`mapping.classify.value_percents`: 1..100 for positive revenue, 0, or -1..-100 for a loss),
    so a group's tier is the value class that holds it."""
    roots = sorted(revenue_by_group)
    facts = [
        RelationshipFacts(
            f"{r:020d}",
            "organization",
            str(r),
            orders=max(revenue_by_group[r], _ZERO),
            returns=max(-revenue_by_group[r], _ZERO),
        )
        for r in roots
    ]
    return {r: v for r, (v, _) in zip(roots, value_percents(facts), strict=True)}


@dataclass(frozen=True, slots=True)
class GroupShare:
    root_id: int
    revenue: Decimal
    share: Fraction  # exact, of the total positive revenue
    percent: Decimal  # two decimals; all groups' add up to exactly 100.00 (when any revenue)
    warning: str | None


def concentration(
    revenue_by_group: Mapping[int, Decimal],
    warn_above_percent: Decimal,
    names: Mapping[int, str],
) -> list[GroupShare]:
    """Every group's share of total revenue, largest first; a warning above ``warn_above_percent``."""
    positive = {g: Fraction(r) for g, r in revenue_by_group.items() if r > 0}
    total = sum(positive.values(), Fraction(0))
    shares = {g: (positive.get(g, Fraction(0)) / total if total else Fraction(0)) for g in revenue_by_group}
    # Largest remainder in hundredths of a percent, so the printed shares add up to 100.00 exactly.
    units = {g: s * 10000 for g, s in shares.items()}
    floors = {g: int(u) for g, u in units.items()}
    left = (10000 - sum(floors.values())) if total else 0
    for g in sorted(units, key=lambda g: (-(units[g] - floors[g]), g))[:left]:
        floors[g] += 1
    out = []
    for g in sorted(revenue_by_group, key=lambda g: (-shares[g], g)):
        pct = Decimal(floors[g]).scaleb(-2)  # 75.00, not 75
        warn = None
        if shares[g] * 100 > Fraction(warn_above_percent):
            warn = (
                f"{names.get(g, str(g))} holds {pct} % of revenue, above the {warn_above_percent} % concentration limit"
            )
        out.append(GroupShare(g, revenue_by_group[g], shares[g], pct, warn))
    return out


def effective_tiers(
    root_of: Mapping[int, int],
    own_tier: Mapping[int, str],
    group_tier: Mapping[int, str],
    mode: TierMode,
) -> dict[int, str]:
    """The tier each organisation gets: its own (``individual``), or its group's (``group``; a member
    whose group has no tier keeps its own)."""
    if mode == "individual":
        return dict(own_tier)
    return {rid: group_tier.get(root_of.get(rid, rid), t) for rid, t in own_tier.items()}
