"""Records and pages cross to the writer process pickled (mapping.store.page_writer): what arrives
equals what was sent, field for field, for every record kind."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from mapping.changes import ItemChange, MeetingSeries, Page, SkippedItem
from mapping.records import ContactRecord, MeetingRecord, MessageRecord

_records = st.one_of(
    st.from_type(ContactRecord),
    st.from_type(MessageRecord),
    st.builds(
        MeetingSeries,
        item=st.from_type(MeetingRecord),
        occurrences=st.lists(st.from_type(MeetingRecord), max_size=3).map(tuple),
    ),
    st.none(),
)
_changes = st.builds(
    ItemChange,
    item_id=st.text(),
    change_key=st.none() | st.text(),
    record=_records,
    categories=st.lists(st.text(), max_size=3).map(tuple),
)


@given(
    changes=st.lists(_changes, max_size=4),
    skipped=st.lists(st.from_type(SkippedItem), max_size=2),
    state=st.none() | st.text(),
)
def test_a_page_of_records_arrives_as_it_was_sent(
    changes: list[ItemChange], skipped: list[SkippedItem], state: str | None
) -> None:
    page = Page(
        mailbox_id=1, folder="inbox", folder_id="f", changes=tuple(changes), new_state=state, skipped=tuple(skipped)
    )
    arrived = pickle.loads(pickle.dumps(page, pickle.HIGHEST_PROTOCOL))
    assert arrived == page
    assert [type(c.record) for c in arrived.changes] == [type(c.record) for c in page.changes]
