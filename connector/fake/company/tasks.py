"""Tasks of a generated company (independent tasks, some completed, some categorised)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from connector.fake.company import names
from connector.fake.company.parts import CompanyParts
from connector.fake.company.rand import between, pick, seeded_rng, zone_info
from connector.fake.model import ItemSpec


class TaskItems(CompanyParts):
    """The Tasks folder of :class:`~connector.fake.company.generator.FakeCompany`."""

    def _task(self, m: int, i: int) -> ItemSpec:
        rng = seeded_rng(self.seed, "task", m, i)
        staff = self.staff[m]
        tz = zone_info(staff.time_zone)
        status = pick(rng, ("NotStarted", "NotStarted", "InProgress", "Completed", "WaitingOnOthers", "Deferred"))
        pct = {"NotStarted": 0.0, "Completed": 100.0}.get(status, float(pick(rng, (25, 50, 75))))
        due_day = (self.anchor + timedelta(days=between(rng, -120, 60))).astimezone(tz).date()
        due = datetime.combine(due_day, time(0), tzinfo=tz)
        start = due - timedelta(days=between(rng, 1, 30))
        subject = pick(rng, names.TASK_SUBJECTS).format(p=pick(rng, names.PRODUCTS), n=between(rng, 1000, 9999))
        fields: dict[str, Any] = {
            "ItemClass": "IPM.Task",
            "Subject": subject,
            "Body": "",
            "Status": status,
            "PercentComplete": pct,
            "IsComplete": status == "Completed",
            "DueDate": due,
            "StartDate": start,
            "Importance": pick(rng, ("Low", "Normal", "Normal", "High")),
            "Sensitivity": "Normal",
            "Owner": staff.name,
            "ReminderIsSet": status != "Completed" and rng.random() < 0.5,
            "DateTimeCreated": min(start, self.anchor - timedelta(days=1)).astimezone(UTC),
        }
        if status == "Completed":
            fields["CompleteDate"] = min(due + timedelta(days=between(rng, -5, 5)), self.anchor)
        if rng.random() < 0.3:
            fields["Categories"] = (pick(rng, names.MESSAGE_CATEGORIES),)
        return ItemSpec("Task", fields, extra={"kind": "task"})
