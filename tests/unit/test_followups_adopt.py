"""Which task already in Outlook a planned follow-up adopts (mapping.followups_adopt): pure, no I/O."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mapping.followups_adopt import FoundTask, PlannedTask, match_orphans

DAY = date(2026, 12, 7)


def orphan(n: int, subject: str, due: date | None = DAY) -> FoundTask:
    return FoundTask(f"relsync-fu-{n}", f"item-{n}", f"ck-{n}", subject, due)


def test_a_planned_task_adopts_the_orphan_with_its_subject_and_due_day_first() -> None:
    planned = [PlannedTask(1, "Follow up: Acme (monthly: e-mail)", DAY)]
    orphans = [
        orphan(1, "Follow up: Acme (monthly: e-mail)", DAY - timedelta(days=3)),
        orphan(2, "Follow up: Acme (monthly: e-mail)", DAY),
    ]
    assert match_orphans(planned, orphans) == {1: orphans[1]}


def test_without_the_same_due_day_the_subject_alone_is_enough() -> None:
    planned = [PlannedTask(1, "Follow up: Acme (monthly: e-mail)", DAY)]
    orphans = [orphan(1, "follow up:  ACME (monthly: e-mail)", None)]
    assert match_orphans(planned, orphans) == {1: orphans[0]}


def test_another_relationships_task_is_never_adopted() -> None:
    planned = [PlannedTask(1, "Follow up: Acme (monthly: e-mail)", DAY)]
    assert match_orphans(planned, [orphan(1, "Follow up: Acme (weekly: e-mail)", DAY)]) == {}


def test_a_task_staff_copied_is_adopted_once_and_the_copy_stays_theirs() -> None:
    planned = [PlannedTask(1, "Follow up: Acme (monthly: e-mail)", DAY)]
    orphans = [orphan(1, "Follow up: Acme (monthly: e-mail)"), orphan(2, "Follow up: Acme (monthly: e-mail)")]
    assert match_orphans(planned, orphans) == {1: orphans[0]}


SUBJECTS = st.sampled_from(
    ["Follow up: A (weekly: e-mail)", "Follow up: B (monthly: e-mail)", "Hand over: C (recommend a competitor)"]
)
DAYS = st.integers(0, 3).map(lambda n: DAY + timedelta(days=n))


@given(st.lists(st.tuples(SUBJECTS, DAYS), max_size=6), st.lists(st.tuples(SUBJECTS, DAYS), max_size=6))
def test_each_orphan_is_adopted_at_most_once_by_a_task_with_its_subject(
    wanted: list[tuple[str, date]], there: list[tuple[str, date]]
) -> None:
    planned = [PlannedTask(n, s, d) for n, (s, d) in enumerate(wanted)]
    orphans = [orphan(n, s, d) for n, (s, d) in enumerate(there)]
    matched = match_orphans(planned, orphans)
    assert len({t.item_id for t in matched.values()}) == len(matched)
    by_key = {p.key: p for p in planned}
    assert all(by_key[k].subject == t.subject for k, t in matched.items())
    # Nothing that could have been adopted is left to be created again: per subject, as many adopted as
    # the fewer of planned and orphaned.
    for subject in {s for s, _ in wanted}:
        n_planned = sum(s == subject for s, _ in wanted)
        n_orphans = sum(s == subject for s, _ in there)
        assert sum(by_key[k].subject == subject for k in matched) == min(n_planned, n_orphans)
