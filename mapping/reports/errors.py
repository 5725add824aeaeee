"""The one error a report's input can raise: a date range or an as-of day that cannot be."""

from __future__ import annotations

from typing import ClassVar

from mapping.errors import EXIT_USAGE, RelsyncError


class ReportInputError(RelsyncError, ValueError):
    """A report asked for something impossible (a range ending before it starts, an as-of day in the
    future): one sentence naming the argument and the fix; exit code 2."""

    exit_code: ClassVar[int] = EXIT_USAGE
    topic: ClassVar[str] = "report"
