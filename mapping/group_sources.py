"""Where parent links come from besides a user field: configured rules and confirmed domain families. Pure.

The business case ("organisations grouped under a parent (from a user-defined field, an import column,
a rule, or subsidiaries sharing a registrable domain family the admin confirms)"). Both turn into
:class:`mapping.org_groups.ParentLink` records that :func:`mapping.org_groups.resolve_groups` resolves
with the others (cycles, second parents and the rest reported there).

- **Rules** (``[[groups.rules]]``): ``parent`` names the parent organisation (as a user field would:
  its name, or an e-mail address of one of its people), and ``name`` or ``domain`` a shell-style
  pattern (``*``, ``?``, ``[...]``; case-insensitive) an organisation's name or one of its domains must
  match. The parent itself matching its own rule is no link (not a problem: ``Acme *`` matches
  ``Acme Holdings``). A rule whose parent names no organisation is one problem, and matches nothing.
- **Domain families** (:func:`domain_families`): organisations whose domains share a family
  (:func:`mapping.hygiene.domain_family`: ``acme`` of ``acme.com`` and ``acme.co.uk``) are a candidate
  group; nothing is grouped until the admin confirms the family with its parent
  (``relsync groups confirm``), after which :func:`family_links` links the other members to it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from mapping.org_groups import GroupProblem, ParentLink

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ParentRule:
    """``parent`` is the parent of every organisation whose name matches ``name`` or one of whose
    domains matches ``domain`` (exactly one of the two is given)."""

    parent: str
    name: str | None = None
    domain: str | None = None

    @property
    def label(self) -> str:
        what = f"name {self.name!r}" if self.name is not None else f"domain {self.domain!r}"
        return f"rule {what} -> {self.parent!r}"


@dataclass(frozen=True, slots=True)
class OrgProfile:
    """What the rules and families look at: an organisation's relationship id, name and domains."""

    relationship_id: int
    name: str
    domains: tuple[str, ...] = ()


def _matcher(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(fnmatch.translate(pattern.strip().casefold()))
    return lambda text: compiled.match(text.strip().casefold()) is not None


def rule_links(
    orgs: Sequence[OrgProfile],
    rules: Sequence[ParentRule],
    find_parent: Callable[[str], int | None],
) -> tuple[list[ParentLink], list[GroupProblem]]:
    """The parent links the rules make (in rule order), and a problem per rule naming no parent."""
    links: list[ParentLink] = []
    problems: list[GroupProblem] = []
    for rule in rules:
        parent = find_parent(rule.parent)
        if parent is None:
            problems.append(
                GroupProblem(
                    (),
                    f"{rule.label}: no organisation is named {rule.parent!r}; the rule is ignored: correct "
                    "its parent in [[groups.rules]]",
                )
            )
            continue
        if rule.name is not None:
            by_name = _matcher(rule.name)
            hits = [o for o in orgs if by_name(o.name)]
        else:
            by_domain = _matcher(rule.domain or "")
            hits = [o for o in orgs if any(by_domain(d) for d in o.domains)]
        links += [ParentLink(o.relationship_id, parent, rule.label) for o in hits if o.relationship_id != parent]
    return links, problems


@dataclass(frozen=True, slots=True)
class Family:
    """Organisations sharing a domain family, with the domains that put each one in it."""

    family: str
    members: tuple[int, ...]  # relationship ids, sorted
    domains: Mapping[int, tuple[str, ...]]


def domain_families(orgs: Iterable[OrgProfile], family_of: Callable[[str], str | None]) -> list[Family]:
    """Every family two or more organisations share (by family name). ``family_of``: a domain's
    family (:func:`mapping.hygiene.domain_family`)."""
    found: dict[str, dict[int, list[str]]] = {}
    for o in orgs:
        for d in o.domains:
            fam = family_of(d)
            if fam:
                found.setdefault(fam, {}).setdefault(o.relationship_id, []).append(d)
    return [
        Family(fam, tuple(sorted(members)), {rid: tuple(sorted(ds)) for rid, ds in members.items()})
        for fam, members in sorted(found.items())
        if len(members) > 1
    ]


def family_links(families: Sequence[Family], confirmed: Mapping[str, int]) -> list[ParentLink]:
    """Links from each member of a confirmed family (family -> the parent's relationship id the admin
    chose) to its parent; a confirmed family no longer shared (its organisations merged or gone) makes
    no link. Cycles and second parents are :func:`mapping.org_groups.resolve_groups`' to report."""
    links: list[ParentLink] = []
    by_name = {f.family: f for f in families}
    for fam, parent in sorted(confirmed.items()):
        family = by_name.get(fam)
        if family is None:
            continue
        links += [
            ParentLink(rid, parent, f"domain family {fam!r} confirmed") for rid in family.members if rid != parent
        ]
    return links


def suggest_parent(family: Family, revenue: Mapping[int, Decimal], names: Mapping[int, str]) -> int:
    """The member a confirmation picks when the admin names none: the largest revenue, then the
    shortest name (``Acme`` before ``Acme Deutschland``), then the lowest id."""
    return min(family.members, key=lambda rid: (-revenue.get(rid, _ZERO), len(names.get(rid, "")), rid))
