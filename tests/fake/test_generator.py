"""The fake company generator: deterministic, lazy, realistic, with the planted duplicates."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.fake.company.generator import (
    DEFAULT_ANCHOR,
    HISTORY_DAYS,
    SCALES,
    FakeCompany,
    Scale,
    build_company,
    occurrence_starts,
)
from connector.fake.model import (
    FOLDER_KINDS,
    Attendee,
    ExtendedProp,
    ItemSpec,
    Mailbox,
    PhysicalAddress,
    Recurrence,
)

FOLDERS = tuple(FOLDER_KINDS)
FREEMAIL = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "gmx.de", "web.de", "icloud.com")


@pytest.fixture(scope="module")
def small() -> FakeCompany:
    return build_company(seed=42, mailboxes=4, scale="small")


@pytest.fixture(scope="module")
def tiny() -> FakeCompany:
    return build_company(seed=7, mailboxes=3, scale="tiny")


def all_items(company: FakeCompany, folder: str) -> Iterator[tuple[str, int, ItemSpec]]:
    for mb in company.mailboxes():
        for i, item in enumerate(company.folder(mb.email, folder)):
            yield mb.email, i, item


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower()


# ---- determinism and laziness ---------------------------------------------------------------------


def test_same_arguments_give_byte_identical_items() -> None:
    a = build_company(seed=3, mailboxes=3, scale="tiny")
    b = build_company(seed=3, mailboxes=3, scale="tiny")
    for folder in FOLDERS:
        assert [repr(x) for x in all_items(a, folder)] == [repr(x) for x in all_items(b, folder)]
    assert a.staff == b.staff and a.organisations == b.organisations and a.people == b.people


def test_another_seed_gives_another_world() -> None:
    a = build_company(seed=3, mailboxes=2, scale="tiny")
    b = build_company(seed=4, mailboxes=2, scale="tiny")
    assert [s.email for s in a.staff] != [s.email for s in b.staff]


def test_anchor_moves_the_whole_world_in_time() -> None:
    later = DEFAULT_ANCHOR + timedelta(days=365)
    company = build_company(seed=3, mailboxes=2, scale="tiny", anchor=later)
    sent = [item.fields["DateTimeSent"] for _, _, item in all_items(company, "inbox")]
    assert all(later - timedelta(days=HISTORY_DAYS + 1) <= s <= later for s in sent)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FOLDERS), st.integers(0, 10**6), st.integers(0, 2)), min_size=1, max_size=20))
def test_item_does_not_depend_on_access_order(reads: list[tuple[str, int, int]]) -> None:
    company = build_company(seed=11, mailboxes=3, scale="small")
    emails = [mb.email for mb in company.mailboxes()]
    first = []
    for folder, raw, m in reads:
        f = company.folder(emails[m], folder)
        first.append(repr(f[raw % len(f)]))
    fresh = build_company(seed=11, mailboxes=3, scale="small")
    again = []
    for folder, raw, m in reversed(reads):
        f = fresh.folder(emails[m], folder)
        again.append(repr(f[raw % len(f)]))
    assert first == list(reversed(again))


def test_large_company_is_built_lazily_in_bounded_memory() -> None:
    # Speed is measured in benchmarks, not here; laziness shows in memory, which load does not skew.
    build_company(seed=1, mailboxes=1, scale="tiny")  # imports and Faker's locale tables, once
    tracemalloc.start()
    company = build_company(seed=6, mailboxes=10, scale="large")
    inbox = company.folder(company.mailboxes()[-1].email, "inbox")
    assert len(inbox) >= 100_000
    assert inbox[-1] == inbox[len(inbox) - 1]  # the last item, without the 99,999 before it
    for i in range(0, len(inbox), 997):
        inbox[i]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # the model only; 100,000 items would need hundreds of MB


DIGEST_SCRIPT = """
import hashlib
from connector.fake.company.generator import build_company
c = build_company(seed=3, mailboxes=3, scale="tiny")
h = hashlib.sha256()
for mb in c.mailboxes():
    for f in ("contacts", "inbox", "sentitems", "calendar", "tasks"):
        for item in c.folder(mb.email, f):
            h.update(repr(item).encode())
print(h.hexdigest())
"""


def test_items_do_not_depend_on_the_process_hash_seed() -> None:
    # str hashes are salted per process; a generator that leaned on them would differ run to run.
    root = Path(__file__).resolve().parents[2]
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(root)}
        out = subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT], env=env, cwd=root, check=True, capture_output=True, text=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_folder_sequence_supports_len_slices_and_negative_indices(tiny: FakeCompany) -> None:
    f = tiny.folder(tiny.mailboxes()[0].email, "inbox")
    assert len(f) == SCALES["tiny"].inbox
    assert f[-1] == f[len(f) - 1]
    assert f[2:5] == [f[2], f[3], f[4]]
    assert len(list(f)) == len(f)
    with pytest.raises(IndexError):
        f[len(f)]


def test_unknown_mailbox_or_folder_is_a_key_error(tiny: FakeCompany) -> None:
    with pytest.raises(KeyError):
        tiny.folder("nobody@elsewhere.example", "inbox")
    with pytest.raises(KeyError):
        tiny.folder(tiny.mailboxes()[0].email, "junk")


def test_mailbox_lookup_ignores_case(tiny: FakeCompany) -> None:
    email = tiny.mailboxes()[0].email
    assert tiny.folder(email.upper(), "tasks")[0] == tiny.folder(email, "tasks")[0]


def test_custom_scale_sets_folder_lengths() -> None:
    company = build_company(seed=2, mailboxes=2, scale=Scale(5, 9, 7, 6, 3))
    email = company.mailboxes()[1].email
    assert [len(company.folder(email, f)) for f in FOLDERS] == [5, 9, 7, 6, 3]


# ---- the world ------------------------------------------------------------------------------------


def test_staff_span_zones_with_matching_windows_ids(small: FakeCompany) -> None:
    zones = {(s.time_zone, s.windows_tz) for s in small.staff}
    assert ("Europe/Berlin", "W. Europe Standard Time") in zones
    assert ("America/New_York", "Eastern Standard Time") in zones
    assert ("Asia/Tokyo", "Tokyo Standard Time") in zones
    assert all(m.mailbox_type == "Mailbox" and m.email.endswith("@" + small.domain) for m in small.mailboxes())
    assert len({s.email for s in small.staff}) == len(small.staff)


def test_only_reserved_or_freemail_domains_appear(small: FakeCompany) -> None:
    assert small.domain.endswith(".example")
    for org in small.organisations:
        assert org.domain.endswith((".example", "-example.co.uk")), org.domain
    allowed = (".example", "-example.co.uk", *FREEMAIL)
    for folder in ("inbox", "sentitems"):
        for _, _, item in all_items(small, folder):
            for mb in (item.fields["From"], *item.fields["ToRecipients"], *item.fields.get("CcRecipients", ())):
                assert domain_of(mb.email).endswith(allowed) or domain_of(mb.email) in FREEMAIL, mb.email


def test_external_people_have_phones_and_addresses_in_several_countries(small: FakeCompany) -> None:
    countries = {p.address.country for p in small.people}
    assert {"United States", "Germany", "United Kingdom"} <= countries
    assert all(p.business_phone and p.mobile_phone for p in small.people)


# ---- planted duplicates and hard negatives ----------------------------------------------------------


def contact(company: FakeCompany, kind: str, n: int) -> dict[str, Any]:
    loc = company.planted_case(kind).contacts[n]
    return company.folder(loc.mailbox, "contacts")[loc.index].fields


def test_every_planted_case_is_present(small: FakeCompany) -> None:
    kinds = {c.kind for c in small.planted}
    assert kinds == {
        "org_alias",
        "nickname",
        "two_addresses",
        "www_domain",
        "legal_form",
        "same_customer",
        "public_suffix",
        "hard_negative_org",
        "hard_negative_person",
        "own_domain",
    }
    for case in small.planted:
        for loc in case.contacts:
            assert loc.index < len(small.folder(loc.mailbox, "contacts"))


def test_ibm_appears_under_both_names(small: FakeCompany) -> None:
    a, b = contact(small, "org_alias", 0), contact(small, "org_alias", 1)
    assert {a["CompanyName"], b["CompanyName"]} == {"IBM", "International Business Machines, Inc."}
    assert domain_of(a["EmailAddresses"]["EmailAddress1"]) == domain_of(b["EmailAddresses"]["EmailAddress1"])


def test_steve_and_stephen_share_surname_and_company(small: FakeCompany) -> None:
    a, b = contact(small, "nickname", 0), contact(small, "nickname", 1)
    assert {a["GivenName"], b["GivenName"]} == {"Stephen", "Steve"}
    assert a["Surname"] == b["Surname"] and a["CompanyName"] == b["CompanyName"]
    assert a["PhoneNumbers"]["BusinessPhone"] == b["PhoneNumbers"]["BusinessPhone"]


def test_one_person_appears_with_two_addresses(small: FakeCompany) -> None:
    a, b = contact(small, "two_addresses", 0), contact(small, "two_addresses", 1)
    assert a["DisplayName"] == b["DisplayName"]
    assert a["EmailAddresses"]["EmailAddress1"] != b["EmailAddresses"]["EmailAddress1"]
    assert domain_of(b["EmailAddresses"]["EmailAddress1"]) in FREEMAIL
    assert a["PhoneNumbers"]["MobilePhone"] == b["PhoneNumbers"]["MobilePhone"]


def test_website_has_www_while_mail_domain_is_bare(small: FakeCompany) -> None:
    website, domain = small.planted_case("www_domain").values
    assert website == "www." + domain
    laura = contact(small, "www_domain", 1)
    assert laura["BusinessHomePage"] == f"http://{website}"
    assert domain_of(laura["EmailAddresses"]["EmailAddress1"]) == domain


def test_legal_form_variants_name_one_organisation(small: FakeCompany) -> None:
    names = {contact(small, "legal_form", i)["CompanyName"] for i in range(2)}
    assert names == {"Acme Corp", "ACME Corporation"}


def test_same_customer_is_a_contact_in_several_mailboxes(small: FakeCompany) -> None:
    case = small.planted_case("same_customer")
    assert len({loc.mailbox for loc in case.contacts}) == 3
    assert {loc.person for loc in case.contacts} == {case.contacts[0].person}
    emails = {contact(small, "same_customer", i)["EmailAddresses"]["EmailAddress1"] for i in range(3)}
    assert len(emails) == 1
    display = {contact(small, "same_customer", i)["DisplayName"] for i in range(3)}
    assert len(display) == 2  # "Oliver Grant" and "Grant, Oliver": slightly different data


def test_hard_negatives_are_distinct_organisations_and_people(small: FakeCompany) -> None:
    corp, bank = contact(small, "hard_negative_org", 0), contact(small, "hard_negative_org", 1)
    assert (corp["CompanyName"], bank["CompanyName"]) == ("Acme Corp", "Acme Bank")
    assert domain_of(corp["EmailAddresses"]["EmailAddress1"]) != domain_of(bank["EmailAddresses"]["EmailAddress1"])
    smith1, smith2 = contact(small, "hard_negative_person", 0), contact(small, "hard_negative_person", 1)
    assert smith1["DisplayName"] == smith2["DisplayName"] == "John Smith"
    assert smith1["CompanyName"] != smith2["CompanyName"]
    assert not small.planted_case("hard_negative_org").should_merge


def test_two_organisations_share_the_co_uk_suffix(small: FakeCompany) -> None:
    case = small.planted_case("public_suffix")
    assert all(d.endswith(".co.uk") for d in case.values) and len(set(case.values)) == 2
    a, b = contact(small, "public_suffix", 0), contact(small, "public_suffix", 1)
    assert a["CompanyName"] != b["CompanyName"]


def test_a_colleague_kept_as_contact_has_our_own_domain(small: FakeCompany) -> None:
    c = contact(small, "own_domain", 0)
    assert domain_of(c["EmailAddresses"]["EmailAddress1"]) == small.domain


def test_planted_cases_survive_a_single_mailbox_company() -> None:
    company = build_company(seed=9, mailboxes=1, scale="tiny")
    for case in company.planted:
        for loc in case.contacts:
            assert loc.index < SCALES["tiny"].contacts
    assert all(item.extra["kind"] != "internal" for _, _, item in all_items(company, "inbox"))


def test_contacts_carry_public_strings_extended_properties(small: FakeCompany) -> None:
    props = [p for _, _, item in all_items(small, "contacts") for p in item.fields.get("ExtendedProperty", ())]
    # The planted business case (connector.fake.company.business) adds its parent links and note.
    assert {p.property_name for p in props} == {
        "Source",
        "Referred By",
        "Industry",
        "Parent Organization",
        "What matters",
    }
    assert all(p.distinguished_set_id == "PublicStrings" and p.property_type == "String" for p in props)


# ---- mail ---------------------------------------------------------------------------------------------


def test_cross_mailbox_copies_share_message_id_and_content(small: FakeCompany) -> None:
    checked = 0
    for email, i, item in all_items(small, "inbox"):
        copies = item.extra.get("copies")
        if not copies:
            continue
        assert (email, "inbox", i) in copies
        holders = set()
        for mailbox, folder, slot in copies:
            other = small.folder(mailbox, folder)[slot]
            for key in ("InternetMessageId", "Subject", "DateTimeSent", "From", "ToRecipients", "Body"):
                assert other.fields[key] == item.fields[key]
            holders.add((mailbox, folder))
            checked += 1
        staff_rcpts = {
            mb.email
            for mb in (*item.fields["ToRecipients"], *item.fields.get("CcRecipients", ()))
            if domain_of(mb.email) == small.domain
        }
        assert {m for m, f in holders if f == "inbox"} == staff_rcpts
    assert checked > 50


def test_internal_mail_is_in_senders_sent_items_and_every_recipients_inbox(small: FakeCompany) -> None:
    for email, i, item in all_items(small, "sentitems"):
        if item.extra["kind"] != "internal":
            continue
        assert (email, "sentitems", i) in item.extra["copies"]
        assert item.fields["IsRead"] and item.fields["DateTimeReceived"] == item.fields["DateTimeSent"]
        for mailbox, folder, slot in item.extra["copies"]:
            copy = small.folder(mailbox, folder)[slot]
            assert copy.fields["InternetMessageId"] == item.fields["InternetMessageId"]
            if folder == "inbox":
                assert copy.fields["DateTimeReceived"] > item.fields["DateTimeSent"]


def test_small_mailboxes_hold_every_kind_of_mail(small: FakeCompany) -> None:
    inbox = [item for _, _, item in all_items(small, "inbox")]
    kinds = {item.extra["kind"] for item in inbox}
    assert {"internal", "outbound_cc", "inbound_multi", "thread", "newsletter", "noreply", "freemail"} <= kinds
    sensitivities = {item.fields["Sensitivity"] for item in inbox}
    assert {"Normal", "Private", "Confidential"} <= sensitivities
    senders = {item.fields["From"].email for item in inbox}
    assert any(s.startswith(("noreply@", "no-reply@", "donotreply@")) for s in senders)
    assert any(s.startswith("newsletter@") for s in senders)
    assert any(domain_of(s) in FREEMAIL for s in senders)
    assert any(item.fields["IsRead"] is False for item in inbox)


def test_internal_only_mail_has_no_external_participant(small: FakeCompany) -> None:
    internal = [item for _, _, item in all_items(small, "sentitems") if item.extra["kind"] == "internal"]
    assert internal
    for item in internal:
        people = (item.fields["From"], *item.fields["ToRecipients"], *item.fields.get("CcRecipients", ()))
        assert all(domain_of(mb.email) == small.domain for mb in people)


def test_customer_threads_run_both_ways_with_reply_headers(small: FakeCompany) -> None:
    email = small.mailboxes()[0].email
    threads: dict[int, dict[int, ItemSpec]] = {}
    for folder in ("inbox", "sentitems"):
        for item in small.folder(email, folder):
            if item.extra["kind"] == "thread":
                threads.setdefault(item.extra["thread"], {})[item.extra["position"]] = item
    both_ways = 0
    for msgs in threads.values():
        assert len({m.fields["ConversationId"] for m in msgs.values()}) == 1
        for pos, m in msgs.items():
            if pos == 0:
                assert "InReplyTo" not in m.fields
            else:
                refs = m.fields["References"].split()
                assert len(refs) == pos and m.fields["InReplyTo"] == refs[-1]
                assert m.fields["Subject"].startswith("RE: ")
                if pos - 1 in msgs:
                    assert msgs[pos - 1].fields["InternetMessageId"] == refs[-1]
                    assert msgs[pos - 1].fields["DateTimeSent"] < m.fields["DateTimeSent"]
        froms = {domain_of(m.fields["From"].email) == small.domain for m in msgs.values()}
        both_ways += froms == {True, False}
    assert both_ways >= 5


def test_message_ids_look_like_rfc5322_ids(small: FakeCompany) -> None:
    for _, _, item in all_items(small, "sentitems"):
        mid = item.fields["InternetMessageId"]
        assert mid.startswith("<") and mid.endswith(">") and "@" in mid


def test_mail_dates_lie_in_the_eighteen_months_before_the_anchor(small: FakeCompany) -> None:
    lo = small.anchor - timedelta(days=HISTORY_DAYS + 1)
    dates = [item.fields["DateTimeSent"] for _, _, item in all_items(small, "inbox")]
    assert all(lo <= d <= small.anchor for d in dates)
    assert max(dates) - min(dates) > timedelta(days=300)


# ---- calendar -------------------------------------------------------------------------------------------


def masters(company: FakeCompany) -> list[ItemSpec]:
    return [
        item for _, _, item in all_items(company, "calendar") if item.fields["CalendarItemType"] == "RecurringMaster"
    ]


def test_recurring_masters_have_exceptions_and_deleted_occurrences(small: FakeCompany) -> None:
    with_changes = [m for m in masters(small) if m.exceptions and m.deleted_occurrences]
    assert with_changes
    for master in with_changes:
        starts = occurrence_starts(master.fields["Recurrence"], master.fields["Start"], limit=50)
        for exc in master.exceptions:
            assert exc.fields["CalendarItemType"] == "Exception"
            assert exc.original_start in starts
            assert exc.fields["UID"] == master.fields["UID"]
            assert "Recurrence" not in exc.fields
        assert all(d in starts for d in master.deleted_occurrences)
        assert not {e.original_start for e in master.exceptions} & set(master.deleted_occurrences)
    patterns = {m.fields["Recurrence"].pattern for m in masters(small)}
    assert {"Weekly", "AbsoluteMonthly"} <= patterns


def test_some_series_cross_a_dst_change(small: FakeCompany) -> None:
    dst = [m for m in masters(small) if m.extra.get("shape") == "dst"]
    assert dst
    zones = set()
    for master in dst:
        starts = occurrence_starts(master.fields["Recurrence"], master.fields["Start"])
        assert starts[0].utcoffset() != starts[-1].utcoffset()
        assert starts[0].time() == starts[-1].time()  # wall clock kept, instant moves
        zones.add(master.fields["StartTimeZone"])
    assert zones & {"W. Europe Standard Time", "Eastern Standard Time"}


def test_all_day_events_start_and_end_at_midnight_in_their_zone(small: FakeCompany) -> None:
    all_day = [item for _, _, item in all_items(small, "calendar") if item.fields["IsAllDayEvent"]]
    assert all_day
    for item in all_day:
        start, end = item.fields["Start"], item.fields["End"]
        assert (start.hour, start.minute, end.hour, end.minute) == (0, 0, 0, 0)
        assert end > start


def test_calendar_has_private_internal_only_and_external_meetings(small: FakeCompany) -> None:
    items = [item for _, _, item in all_items(small, "calendar")]
    assert any(i.fields["Sensitivity"] == "Private" for i in items)
    meetings = [i for i in items if "RequiredAttendees" in i.fields]
    assert any(i.extra["internal_only"] for i in meetings)
    assert any(domain_of(i.fields["Organizer"].email) != small.domain for i in meetings)
    assert all(i.fields["UID"] for i in items)


def test_meeting_copies_share_uid_across_attendee_calendars(small: FakeCompany) -> None:
    checked = 0
    for _, _, item in all_items(small, "calendar"):
        for mailbox, folder, slot in item.extra.get("copies", ()):
            other = small.folder(mailbox, folder)[slot]
            assert other.fields["UID"] == item.fields["UID"] and other.fields["Start"] == item.fields["Start"]
            attendees = {other.fields["Organizer"].email}
            attendees |= {a.mailbox.email for a in other.fields.get("RequiredAttendees", ())}
            attendees |= {a.mailbox.email for a in other.fields.get("OptionalAttendees", ())}
            assert mailbox in attendees
            checked += 1
    assert checked > 20


def test_tiny_calendar_still_has_recurrence_dst_and_all_day(tiny: FakeCompany) -> None:
    items = [item for _, _, item in all_items(tiny, "calendar")]
    assert any(i.exceptions and i.deleted_occurrences for i in items)
    assert any(i.extra.get("shape") == "dst" for i in items)
    assert any(i.fields["IsAllDayEvent"] for i in items)


# ---- tasks ------------------------------------------------------------------------------------------------


def test_tasks_have_consistent_status_and_percent(small: FakeCompany) -> None:
    for _, _, item in all_items(small, "tasks"):
        f = item.fields
        assert f["IsComplete"] == (f["Status"] == "Completed")
        assert (f["PercentComplete"] == 100.0) == (f["Status"] == "Completed")
        assert ("CompleteDate" in f) == f["IsComplete"]


# ---- types match model.py -----------------------------------------------------------------------------------

STR = {
    "Subject",
    "Body",
    "ItemClass",
    "Sensitivity",
    "Importance",
    "InternetMessageId",
    "ConversationId",
    "ConversationTopic",
    "References",
    "InReplyTo",
    "DisplayName",
    "GivenName",
    "MiddleName",
    "Surname",
    "Nickname",
    "CompanyName",
    "JobTitle",
    "Department",
    "FileAs",
    "BusinessHomePage",
    "StartTimeZone",
    "EndTimeZone",
    "Location",
    "UID",
    "CalendarItemType",
    "LegacyFreeBusyStatus",
    "Status",
    "Owner",
}
DATETIME = {
    "DateTimeReceived",
    "DateTimeSent",
    "DateTimeCreated",
    "LastModifiedTime",
    "Start",
    "End",
    "DueDate",
    "StartDate",
    "CompleteDate",
}
BOOL = {"HasAttachments", "IsRead", "IsAllDayEvent", "IsCancelled", "IsComplete", "ReminderIsSet"}


def check_value(key: str, value: Any) -> None:
    if key in STR:
        assert isinstance(value, str), key
    elif key in DATETIME:
        assert isinstance(value, datetime) and value.utcoffset() is not None, key
    elif key in BOOL:
        assert isinstance(value, bool), key
    elif key == "Categories":
        assert isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    elif key == "ExtendedProperty":
        assert isinstance(value, tuple) and all(isinstance(v, ExtendedProp) for v in value)
    elif key in ("Sender", "From", "Organizer"):
        assert isinstance(value, Mailbox)
    elif key in ("ToRecipients", "CcRecipients", "BccRecipients"):
        assert isinstance(value, tuple) and value and all(isinstance(v, Mailbox) for v in value)
    elif key in ("RequiredAttendees", "OptionalAttendees"):
        assert isinstance(value, tuple) and all(isinstance(v, Attendee) for v in value)
    elif key in ("EmailAddresses", "PhoneNumbers"):
        assert isinstance(value, dict) and all(isinstance(v, str) and v for v in value.values())
        if key == "EmailAddresses":
            assert set(value) <= {"EmailAddress1", "EmailAddress2", "EmailAddress3"}
    elif key == "PhysicalAddresses":
        assert isinstance(value, dict) and set(value) <= {"Business", "Home", "Other"}
        assert all(isinstance(v, PhysicalAddress) for v in value.values())
    elif key == "Recurrence":
        assert isinstance(value, Recurrence)
    elif key == "PercentComplete":
        assert isinstance(value, float)
    else:
        raise AssertionError(f"field {key} is not in model.py's table")


def test_every_value_has_the_type_model_py_prescribes(tiny: FakeCompany) -> None:
    for folder, kind in FOLDER_KINDS.items():
        for _, _, item in all_items(tiny, folder):
            assert item.kind == kind
            for key, value in item.fields.items():
                check_value(key, value)
            for exc in item.exceptions:
                assert exc.original_start is not None and exc.original_start.utcoffset() is not None
                for key, value in exc.fields.items():
                    check_value(key, value)
            assert all(d.utcoffset() is not None for d in item.deleted_occurrences)
