"""Recording follow-up tasks a rebuilt store adopts from Outlook (see :mod:`mapping.followups_adopt`).

An adopted task becomes the planned follow-up's task: the follow-up takes the task's id (so later runs
find it by our id like any other) and is linked to the item, exactly as if this store had created it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from mapping.followups_adopt import FoundTask
from mapping.store.batching import chunked
from mapping.store.followups import TASKS_FOLDER, TaskWrite
from mapping.store.models import EntityType, FollowUp, ItemKind, ItemLink


def known_our_ids(session: Session, our_ids: Iterable[str]) -> set[str]:
    """Those of ``our_ids`` some follow-up in the store carries (any status): not orphans."""
    known: set[str] = set()
    for chunk in chunked(our_ids):
        known.update(session.scalars(sa.select(FollowUp.our_id).where(FollowUp.our_id.in_(chunk))))
    return known


def record_tasks_adopted(session: Session, adopted: Sequence[tuple[TaskWrite, FoundTask, bool]], now: datetime) -> None:
    """Each (planned create, the task it adopts, whether the task needs an update to match the plan):
    the follow-up takes the task's id and link; its pending create becomes an update where the task's
    due day differs from the plan's, else nothing is left to write."""
    if not adopted:
        return
    session.execute(
        sa.update(FollowUp),
        [
            {
                "id": w.follow_up_id,
                "our_id": task.our_id,
                "created_in_exchange_at": now,
                "pending_write": "update" if stale else None,
                "updated_at": now,
            }
            for w, task, stale in adopted
        ],
    )
    session.execute(
        sa.insert(ItemLink),
        [
            {
                "mailbox_id": w.mailbox_id,
                "folder": TASKS_FOLDER,
                "item_id": task.item_id,
                "change_key": task.change_key,
                "item_kind": ItemKind.TASK,
                "entity_type": EntityType.TASK,
                "entity_id": w.follow_up_id,
                "our_id": task.our_id,
                "first_seen_at": now,
                "last_seen_at": now,
            }
            for w, task, _ in adopted
        ],
    )
