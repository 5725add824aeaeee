"""The Outlook categories relsync manages: what to write, how to merge, and what staff changed by hand.

Managed categories are the ones made from the configuration (:func:`all_managed_names`): one per type
("Customer"), one per tier ("Value: Superior"), one per potential ("Potential: High"), and one per status
if ``CategoryNames.status_template`` is set. Every other category on a contact belongs to its user and
is never touched. Outlook compares category names case-insensitively, and so does everything here.

**Merge** (:func:`merge_categories`): user categories stay, in their order; managed categories that are
no longer wanted go; wanted ones already present stay where they are (so a contact that is already
right merges to itself and is not written); missing ones are appended. The merge is idempotent.

**Overrides** (:func:`detect_overrides`) are a three-way comparison of what relsync last wrote on the
contact, what is on it now, and the managed names:

- a managed category on the contact now that relsync did not write was set by hand: it is an override
  of its dimension ("Value: Superior" -> tier Superior, "Vendor" -> type vendor). If staff added two for
  one dimension, the later one in the contact's list wins;
- a managed category relsync wrote that is gone, with nothing added for its dimension, is *not* an
  override: it is reported as ``None`` for its dimension, meaning "no override here". If staff had set
  that category by hand earlier (an override, which relsync then wrote back), removing it ends the
  override; if it was relsync's own computed category, relsync writes it again on the next run (it
  cannot tell "wrong" from "don't show", and a category per dimension is what staff rely on);
- relsync's own writes coming back through sync (the same set, in any order or case) change nothing:
  the result is empty;
- with no record of a previous write (``last_written is None``: a contact relsync never wrote, or a
  store rebuilt from scratch) nothing is an override: a stale category from an earlier install, or a
  "Customer" category a company used before relsync, must not pin a relationship forever. relsync
  writes its own categories, and staff override from there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mapping.classify_config import CategoryNames, ClassificationConfig
from mapping.relationship_records import Classification, Dimension


@dataclass(frozen=True)
class PlannedCategories:
    """One Outlook contact to bring to its managed categories, as the store last saw it: what the store
    plans (:func:`mapping.store.writeback_plan.category_plan`) and what a writer writes, one record.

    ``key`` is the caller's handle (the ItemLink id); ``current`` and ``change_key`` are the item's
    categories and ChangeKey as last synced or written; ``written`` the managed categories relsync last
    wrote on it (``ItemLink.written_categories``; None: never).
    """

    key: int
    mailbox: str
    item_id: str
    change_key: str | None
    current: tuple[str, ...]
    wanted: tuple[str, ...]
    written: tuple[str, ...] | None = None


def managed_categories(classification: Classification, names: CategoryNames) -> tuple[str, ...]:
    """The managed categories a contact of this relationship should carry, e.g.
    ``("Customer", "Value: Superior", "Potential: High")``."""
    out = [
        names.type_names[classification.type],
        names.value_template.format(tier=classification.tier),
        names.potential_template.format(potential=classification.potential),
    ]
    if names.status_template is not None:
        out.append(names.status_template.format(status=names.status_names[classification.status]))
    owner = names.owner_category(classification.owner)
    if owner is not None:
        out.append(owner)
    return tuple(out)


def managed_colours(config: ClassificationConfig) -> dict[str, str]:
    """Every managed category with its Outlook colour preset, for the mailbox's master category list."""
    names = config.categories
    out = {name: names.type_colour for name in names.type_names.values()}
    out.update({names.value_template.format(tier=vc.name): vc.colour for vc in config.value_classes})
    out.update({names.potential_template.format(potential=pc.name): pc.colour for pc in config.potential_classes})
    if names.status_template is not None:
        out.update({names.status_template.format(status=s): names.status_colour for s in names.status_names.values()})
    for address in names.owner_labels:
        category = names.owner_category(address)
        if category is not None:  # in every master category list, so staff can pick an owner
            out[category] = names.owner_colour
    return out


def all_managed_names(config: ClassificationConfig) -> frozenset[str]:
    """Every category name relsync may write."""
    return frozenset(managed_colours(config))


def merge_categories(current: Sequence[str], wanted_managed: Sequence[str], all_managed: frozenset[str]) -> list[str]:
    """The contact's categories after relsync writes ``wanted_managed`` (see the module docstring)."""
    wanted: dict[str, str] = {}
    for name in wanted_managed:
        wanted.setdefault(name.casefold(), name)
    managed = {name.casefold() for name in all_managed} | wanted.keys()
    out: list[str] = []
    placed: set[str] = set()
    for name in current:
        folded = name.casefold()
        if folded not in managed:
            out.append(name)
        elif folded in wanted and folded not in placed:
            out.append(wanted[folded])
            placed.add(folded)
    out.extend(name for folded, name in wanted.items() if folded not in placed)
    return out


def parse_managed(category: str, names: CategoryNames) -> tuple[Dimension, str] | None:
    """Which dimension and value a managed category stands for (``"Value: Superior"`` -> ``("tier",
    "Superior")``), or ``None`` if it is not made from ``names``. Does not check that the value exists:
    check membership in :func:`all_managed_names` first."""
    folded = category.casefold()
    for rel_type, name in names.type_names.items():
        if name.casefold() == folded:
            return "type", rel_type
    templates: list[tuple[Dimension, str, str]] = [
        ("tier", names.value_template, "{tier}"),
        ("potential", names.potential_template, "{potential}"),
    ]
    if names.status_template is not None:
        templates.append(("status", names.status_template, "{status}"))
    if names.owner_template is not None and names.owner_labels:
        templates.append(("owner", names.owner_template, "{owner}"))
    for dimension, template, placeholder in templates:
        prefix, _, suffix = template.partition(placeholder)
        if (
            len(category) > len(prefix) + len(suffix)
            and folded.startswith(prefix.casefold())
            and folded.endswith(suffix.casefold())
        ):
            value = category[len(prefix) : len(category) - len(suffix)]
            if dimension == "status":
                status = next((s for s, n in names.status_names.items() if n.casefold() == value.casefold()), None)
                if status is None:
                    continue
                value = status
            if dimension == "owner":
                owner = names.owner_of_label(value)
                if owner is None:
                    continue
                value = owner
            return dimension, value
    return None


def detect_overrides(
    last_written: Sequence[str] | None,
    current: Sequence[str],
    all_managed: frozenset[str],
    names: CategoryNames,
) -> dict[Dimension, str | None]:
    """Overrides staff made by hand on one contact: dimension -> value (set it) or ``None`` (no override
    on this dimension any more). See the module docstring for the rules."""
    if last_written is None:
        return {}
    managed = {name.casefold() for name in all_managed}
    written = {name.casefold() for name in last_written}
    present = {name.casefold() for name in current}
    result: dict[Dimension, str | None] = {}
    for name in last_written:
        folded = name.casefold()
        if folded in managed and folded not in present:
            parsed = parse_managed(name, names)
            if parsed is not None:
                result.setdefault(parsed[0], None)
    for name in current:
        folded = name.casefold()
        if folded in managed and folded not in written:
            parsed = parse_managed(name, names)
            if parsed is not None:
                result[parsed[0]] = parsed[1]
    return result
