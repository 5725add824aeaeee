"""Applying a page of e-mails (Inbox, Sent Items): one interaction per Internet Message-ID."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from mapping.changes import ItemChange, Page
from mapping.policy import Decision, decide_message, org_domain_for
from mapping.records import MessageRecord
from mapping.store.apply.directory import Directory
from mapping.store.apply.interactions import DIRECTIONS, InteractionUpsert, new_participants, stored_interactions
from mapping.store.apply.links import Links, forget, touch_link, unlink
from mapping.store.models import (
    Base,
    EntityType,
    Interaction,
    InteractionKind,
)

_TABLES = Base.metadata.tables


def apply_messages(session: Session, page: Page, links: Links, directory: Directory, now: datetime) -> None:
    rules = directory.rules
    result = directory.result
    decided: list[tuple[ItemChange, MessageRecord, Decision]] = []
    for change in page.changes:
        if change.record is None:
            link = links.get(change.item_id)
            result.deleted += unlink(session, page, link, now, directory.rules)
            continue
        record = change.record
        assert isinstance(record, MessageRecord)
        decision = decide_message(record, rules.privacy, rules.internal_domains)
        if not decision.store:
            result.skipped[decision.reason or "skipped"] += 1
            forget(session, page, links.get(change.item_id))
            continue
        decided.append((change, record, decision))
    if not decided:
        return
    message_ids = {r.internet_message_id for _, r, _ in decided if r.internet_message_id}
    existing = {
        i.internet_message_id: i
        for i in stored_interactions(session, Interaction.internet_message_id, message_ids)
        if i.internet_message_id
    }
    addresses = {p.address for _, _, d in decided for p in d.participants}
    domains = {d for a in addresses if (d := org_domain_for(a, rules.internal_domains))}
    directory.load(addresses, set(), domains)
    directory.create_people(
        new_participants(
            ((r.internet_message_id, existing.get(r.internet_message_id or ""), d) for _, r, d in decided),
            directory,
        )
    )
    upsert = InteractionUpsert(existing)
    touched: list[tuple[ItemChange, str]] = []
    for change, record, decision in decided:
        message_id = record.internet_message_id
        assert message_id is not None and decision.direction is not None
        direction = DIRECTIONS[decision.direction]
        values: dict[str, object] = {
            "subject": record.subject,
            "conversation_id": record.conversation_id,
            "size_bytes": record.size,
            "snippet": record.snippet,
            "occurred_at": record.occurred_at,
        }
        identity = {"kind": InteractionKind.EMAIL, "internet_message_id": message_id, "direction": direction}
        upsert.put(session, message_id, identity, values, decision.participants, direction, directory)
        touched.append((change, message_id))
    session.flush()  # the people, organisations and updated interactions the page brought
    ids = upsert.insert(session, page.mailbox_id, (message_id for _, message_id in touched))
    for change, message_id in touched:
        created = touch_link(session, page, links, change, EntityType.INTERACTION, ids[message_id], now)
        result.created += created
        result.updated += not created
