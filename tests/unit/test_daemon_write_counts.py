"""What the daemon counts as tasks written to Exchange after a follow-up run (pure)."""

from __future__ import annotations

from scheduler.daemon import task_writes
from scheduler.followups_job import FollowUpRunReport


def test_tasks_written_count_what_relsync_changed_not_what_staff_did() -> None:
    report = FollowUpRunReport()
    ann = report.owner("ann@northwind.example")
    ann.created, ann.updated, ann.completed, ann.deleted = 3, 2, 1, 1
    ann.staff_completed, ann.dismissed, ann.found_again, ann.failed = 5, 4, 2, 1
    report.owner("bob@northwind.example")

    assert task_writes(report) == {"ann@northwind.example": 7, "bob@northwind.example": 0}
