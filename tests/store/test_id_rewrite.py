"""Re-keying a mailbox's links from EWS ids to Graph ids: one transaction with the folder's state, then a
full read under the new ids upserts onto the very same rows."""

from __future__ import annotations

import sqlalchemy as sa

from mapping.changes import ItemChange, Page, SyncRules
from mapping.records import ContactRecord, EmailRecord
from mapping.store.id_rewrite import (
    legacy_links,
    pair_by_key,
    parked,
    parked_links,
    replace_returned_links,
    rewrite_item_ids,
    unpark,
)
from mapping.store.models import EntityType, ItemKind, ItemLink, MailboxBackend, Person, StaffMailbox, SyncState
from mapping.store.store import Store

RULES = SyncRules(internal_domains=frozenset({"northwind.example"}))


def _contact(item_id: str, name: str) -> ContactRecord:
    address = f"{name.lower()}@acme.example"
    return ContactRecord(
        item_id=item_id,
        change_key=f"ck-{item_id}",
        display_name=name,
        emails=(EmailRecord(address=address, original=address, is_valid=True),),
    )


def _page(mailbox_id: int, records: list[ContactRecord], state: str, *, full: bool = False) -> Page:
    changes = tuple(ItemChange(item_id=r.item_id, change_key=r.change_key, record=r) for r in records)
    return Page(
        mailbox_id=mailbox_id, folder="contacts", folder_id=None, changes=changes, new_state=state, full_sync=full
    )


def _links(store: Store, folder: str) -> dict[str, int]:
    with store.session() as s:
        rows = s.execute(sa.select(ItemLink.item_id, ItemLink.id).where(ItemLink.folder == folder))
        return {item_id: link_id for item_id, link_id in rows}


def _synced_over_ews(store: Store) -> int:
    mailbox = store.ensure_mailbox("lara@northwind.example", "Lara")
    names = ["Ann", "Bob", "Cid"]
    store.apply_page(_page(mailbox.id, [_contact(f"EWS+{n}/", n) for n in names], "H4sIAAAEWSstate"), RULES)
    with store.session() as s:  # two follow-up tasks created over EWS
        s.add_all(
            ItemLink(
                mailbox_id=mailbox.id,
                folder="tasks",
                item_id=f"EWS+task{n}/",
                item_kind=ItemKind.TASK,
                entity_type=EntityType.TASK,
                entity_id=n,
            )
            for n in (1, 2)
        )
    return mailbox.id


def test_links_tasks_and_state_move_together_and_a_full_read_upserts_onto_the_same_rows(store: Store) -> None:
    mailbox_id = _synced_over_ews(store)
    legacy = legacy_links(store, mailbox_id, "contacts")
    assert sorted(legacy.item_ids) == ["EWS+Ann/", "EWS+Bob/", "EWS+Cid/"] and legacy.tasks is not None
    before, tasks_before = _links(store, "contacts"), _links(store, "tasks")

    # Cid could not be translated (say, deleted meanwhile): he keeps his EWS id.
    done = rewrite_item_ids(
        store,
        mailbox_id,
        "contacts",
        {"EWS+Ann/": "REST-Ann_", "EWS+Bob/": "REST-Bob_"},
        task_ids={"EWS+task1/": "REST-task1_", "EWS+task2/": "REST-task2_"},
    )

    assert (done.rewritten, done.unchanged, done.collisions, done.tasks_rewritten) == (2, 0, 0, 2)
    assert _links(store, "contacts") == {
        "REST-Ann_": before["EWS+Ann/"],
        "REST-Bob_": before["EWS+Bob/"],
        "EWS+Cid/": before["EWS+Cid/"],
    }
    assert _links(store, "tasks") == {
        "REST-task1_": tasks_before["EWS+task1/"],
        "REST-task2_": tasks_before["EWS+task2/"],
    }
    with store.session() as s:
        state = s.scalars(sa.select(SyncState)).one()
        assert (state.state, state.full_syncs) == (None, 1)
        assert s.scalar(sa.select(StaffMailbox.backend)) == MailboxBackend.GRAPH
    assert legacy_links(store, mailbox_id, "inbox").tasks is None  # tasks move once per mailbox

    result = store.apply_page(
        _page(
            mailbox_id, [_contact("REST-Ann_", "Ann"), _contact("REST-Bob_", "Bob")], "https://graph/delta", full=True
        ),
        RULES,
    )
    assert (result.created, result.updated) == (0, 2)
    assert _links(store, "contacts")["REST-Ann_"] == before["EWS+Ann/"]
    with store.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Person)) == 3
        assert s.scalar(sa.select(sa.func.count()).select_from(ItemLink).where(ItemLink.folder == "contacts")) == 3


def test_an_id_another_link_holds_already_is_left_alone_and_counted(store: Store) -> None:
    mailbox_id = _synced_over_ews(store)
    # A link under Ann's Graph id exists already (a Graph read before the migration, since unlinked).
    store.apply_page(_page(mailbox_id, [_contact("REST-Ann_", "Ann")], "https://graph/delta"), RULES)
    store.unlink_missing(mailbox_id, "contacts", {"EWS+Ann/", "EWS+Bob/", "EWS+Cid/"}, max_share=1.0)
    before = _links(store, "contacts")

    done = rewrite_item_ids(
        store, mailbox_id, "contacts", {"EWS+Ann/": "REST-Ann_", "EWS+Bob/": "REST-Bob_", "EWS+Cid/": "EWS+Cid/"}
    )

    assert (done.rewritten, done.unchanged, done.collisions) == (1, 1, 1)
    assert _links(store, "contacts") == {
        "EWS+Ann/": before["EWS+Ann/"],
        "REST-Ann_": before["REST-Ann_"],
        "REST-Bob_": before["EWS+Bob/"],
        "EWS+Cid/": before["EWS+Cid/"],
    }
    with store.session() as s:  # no task_ids given: the tasks and the mailbox's backend stay as they were
        assert s.scalar(sa.select(StaffMailbox.backend)) == MailboxBackend.EWS
    assert sorted(_links(store, "tasks")) == ["EWS+task1/", "EWS+task2/"]


def test_without_a_translation_old_links_are_folded_into_the_new_ones_keeping_what_relsync_wrote(
    store: Store,
) -> None:
    mailbox_id = _synced_over_ews(store)
    before = _links(store, "contacts")
    with store.session() as s:  # relsync wrote categories on Ann's card over EWS
        s.execute(
            sa.update(ItemLink)
            .where(ItemLink.item_id == "EWS+Ann/")
            .values(written_categories=["VIP"], our_id="ours-ann")
        )
    # Graph refused the translation: the state is reset and the full read links Ann and Bob under Graph ids;
    # Cid is gone.
    rewrite_item_ids(store, mailbox_id, "contacts", {})
    store.apply_page(
        _page(mailbox_id, [_contact("G-Ann", "Ann"), _contact("G-Bob", "Bob")], "https://graph/delta", full=True), RULES
    )
    seen = {"G-Ann", "G-Bob"}

    done = replace_returned_links(store, mailbox_id, "contacts", set(before), seen, RULES)

    assert (done.merged, done.unlinked) == (2, 0)
    assert _links(store, "contacts") == {
        "G-Ann": before["EWS+Ann/"],
        "G-Bob": before["EWS+Bob/"],
        "EWS+Cid/": before["EWS+Cid/"],
    }  # the old rows, under the new ids
    with store.session() as s:
        ann = s.scalars(sa.select(ItemLink).where(ItemLink.item_id == "G-Ann")).one()
        assert (ann.written_categories, ann.our_id, ann.change_key) == (["VIP"], "ours-ann", "ck-G-Ann")
        assert s.scalar(sa.select(sa.func.count()).select_from(Person)) == 3
    # Only Cid is left for the safety rail: one of three.
    assert store.unlink_missing(mailbox_id, "contacts", seen, max_share=0.5, rules=RULES) == 1


def test_a_second_old_copy_of_an_entity_that_came_back_is_unlinked_and_one_whose_entity_did_not_is_left(
    store: Store,
) -> None:
    mailbox_id = _synced_over_ews(store)
    with store.session() as s:  # a second card of Ann in the same folder
        ann = s.scalars(sa.select(ItemLink).where(ItemLink.item_id == "EWS+Ann/")).one()
        s.add(
            ItemLink(
                mailbox_id=mailbox_id,
                folder="contacts",
                item_id="EWS+Ann2/",
                item_kind=ann.item_kind,
                entity_type=ann.entity_type,
                entity_id=ann.entity_id,
            )
        )
    old = set(_links(store, "contacts"))
    store.apply_page(_page(mailbox_id, [_contact("G-Ann", "Ann")], "https://graph/delta", full=True), RULES)

    done = replace_returned_links(store, mailbox_id, "contacts", old, {"G-Ann"}, RULES)

    assert (done.merged, done.unlinked) == (1, 1)
    with store.session() as s:
        live = set(
            s.scalars(sa.select(ItemLink.item_id).where(ItemLink.folder == "contacts", ItemLink.deleted_at.is_(None)))
        )
    assert live == {"G-Ann", "EWS+Bob/", "EWS+Cid/"}  # Bob and Cid did not come back: the caller's rail judges


def test_old_keys_pair_with_new_ones_in_order_and_the_surplus_is_named() -> None:
    pairs, extra = pair_by_key([("a", 1), ("b", 2), ("a", 3), ("c", 4), ("a", 5)], [("a", "x"), ("a", "y"), ("b", "z")])
    assert pairs == [(1, "x"), (2, "z"), (3, "y")]
    assert extra == [5]  # "c" found no new thing at all: in neither list


def test_parked_links_are_found_by_their_prefix_and_unparked_ones_get_their_own_ids_back(store: Store) -> None:
    mailbox_id = _synced_over_ews(store)
    before = _links(store, "contacts")
    rewrite_item_ids(store, mailbox_id, "contacts", {i: parked(i) for i in before})  # Graph refused to translate
    assert parked_links(store, mailbox_id, "contacts") == (frozenset(parked(i) for i in before), frozenset())
    assert parked_links(store, mailbox_id, "inbox") == (frozenset(), frozenset())

    assert unpark(store, mailbox_id, "contacts", {parked("EWS+Cid/"), "EWS+nobody/"}) == {"EWS+Cid/"}

    assert _links(store, "contacts") == {
        parked("EWS+Ann/"): before["EWS+Ann/"],
        parked("EWS+Bob/"): before["EWS+Bob/"],
        "EWS+Cid/": before["EWS+Cid/"],
    }
