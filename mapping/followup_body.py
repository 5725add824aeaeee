"""The follow-up task's body with the business case's additions on top of :func:`mapping.followups.task_body`.

Order, most important first: what matters to them (:mod:`mapping.what_matters`), why now (the key-date
triggers the task carries, :class:`mapping.trigger_planning.Merged.lines`, and the contact-pressure
line, :mod:`mapping.contact_pressure`), the ordinary summary, then what to offer next
(:mod:`mapping.next_offer`). Pure: the store gathers the parts, the connector writes the text.
"""

from __future__ import annotations

from collections.abc import Sequence

from mapping.followups import TaskSummary, task_body
from mapping.next_offer import Suggestion
from mapping.what_matters import Note, with_what_matters


def full_task_body(
    summary: TaskSummary,
    note: Note | None = None,
    reasons: Sequence[str] = (),
    offers: Sequence[Suggestion] = (),
    pressure_line: str | None = None,
) -> str:
    """The task body; without any addition exactly :func:`mapping.followups.task_body`."""
    parts: list[str] = []
    why = [*reasons, *([pressure_line] if pressure_line else [])]
    if why:
        parts += ["Why now:", *(f"  {r}" for r in why), ""]
    parts.append(task_body(summary))
    if offers:
        parts += ["", "Offer next (what similar customers buy):", *(f"  {s.line()}" for s in offers)]
    body = "\n".join(parts)
    return with_what_matters(body, note) if note is not None else body
