"""The Exchange store's task rules, shared by the fake EWS (UpdateItem) and the fake Graph (To Do tasks).

Setting ``Status`` or ``PercentComplete`` keeps the other, ``IsComplete`` and ``CompleteDate`` consistent:
https://learn.microsoft.com/en-us/exchange/client-developer/exchange-web-services/how-to-work-with-tasks-by-using-ews-in-exchange
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def task_rules(fields: dict[str, Any], changed: str) -> None:
    """Keep Status, PercentComplete, IsComplete and CompleteDate consistent, as the Exchange store does."""
    if changed == "Status":
        status = fields.get("Status")
        if status == "Completed":
            fields["PercentComplete"] = 100.0
            fields["IsComplete"] = True
            fields.setdefault("CompleteDate", datetime.now(UTC).replace(microsecond=0))
        else:
            fields["IsComplete"] = False
            fields.pop("CompleteDate", None)
            if status == "NotStarted" or float(fields.get("PercentComplete") or 0) >= 100:
                fields["PercentComplete"] = 0.0
    elif changed == "PercentComplete":
        pc = float(fields.get("PercentComplete") or 0)
        if pc >= 100:
            fields["Status"] = "Completed"
            fields["IsComplete"] = True
            fields.setdefault("CompleteDate", datetime.now(UTC).replace(microsecond=0))
        else:
            fields["IsComplete"] = False
            fields.pop("CompleteDate", None)
            if pc <= 0:
                fields["Status"] = "NotStarted" if fields.get("Status") in (None, "Completed") else fields["Status"]
            elif fields.get("Status") in (None, "NotStarted", "Completed"):
                fields["Status"] = "InProgress"
