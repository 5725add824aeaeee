"""What matters to them: a short staff-kept note per relationship, shown first in every follow-up. Pure.

Seed "Relationship Value": "the three most important elements of the relationship from the other
party's perspective". Staff keep it in an Outlook user-defined field on the contact (``"What
matters"`` by default); relsync reads it on sync and puts it at the top of every follow-up task body
and in ``relsync explain``.

The rule for a long note (also in ``config.example.toml``, ``[what_matters]``): control
characters are dropped, runs of blank space become one space per line, and a note longer than
``limit`` characters (default 500) is cut at the last word boundary before the limit with "..."
appended; the cut is reported, naming the relationship, the field and the length, so staff can
shorten it. The note is never refused: a cut note still says most of what matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_FIELD = "What matters"
DEFAULT_LIMIT = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Note:
    """The note as shown (None: no note), and the message about cutting it (None: not cut)."""

    text: str | None
    problem: str | None = None


def what_matters(name: str, raw: str | None, limit: int = DEFAULT_LIMIT, field: str = DEFAULT_FIELD) -> Note:
    """The bounded note of relationship ``name`` from the raw user-field value."""
    if limit < 20:
        raise ValueError("what_matters.limit must be at least 20 characters")
    if raw is None:
        return Note(None)
    lines = [" ".join(_CONTROL.sub(" ", ln).split()) for ln in raw.replace("\r\n", "\n").split("\n")]
    text = "\n".join(ln for ln in lines if ln)
    if not text:
        return Note(None)
    if len(text) <= limit:
        return Note(text)
    cut = text[: limit - 3]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space >= limit // 2:
        cut = cut[:space]
    return Note(
        cut.rstrip() + "...",
        (
            f"the {field!r} field of {name} holds {len(text)} characters; only the first {limit} are shown: "
            "shorten it in Outlook"
        ),
    )


def with_what_matters(body: str, note: Note) -> str:
    """``body`` with the note on top (``What matters to them: ...``); the body unchanged without one."""
    if note.text is None:
        return body
    first, *rest = note.text.split("\n")
    head = [f"What matters to them: {first}", *(f"  {ln}" for ln in rest)]
    return "\n".join([*head, "", body])


def explain_lines(note: Note) -> list[str]:
    """Lines for ``relsync explain``: the note (or that there is none) and the cut message, if any."""
    out = [f"What matters to them: {note.text}" if note.text else "What matters to them: (no note)"]
    if note.problem:
        out.append(f"  note: {note.problem}")
    return out
