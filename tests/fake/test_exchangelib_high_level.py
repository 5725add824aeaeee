"""exchangelib's high-level query API (not only the services relsync uses) drives the fake Exchange.

Each answer is compared with what Exchange documents for the request exchangelib sends; every response
is still validated against the EWS schema (the ``make_server`` fixture fails the test otherwise).
"""

from __future__ import annotations

import base64
from datetime import timedelta

from exchangelib import BASIC, IMPERSONATION, UTC, Account, Configuration, Credentials, FailFast, Message
from exchangelib.folders import Drafts, JunkEmail, Outbox
from exchangelib.properties import ENTRY_ID, EWS_ID, HEX_ENTRY_ID, AlternateId

from connector.fake.ews.server import FakeExchange
from connector.fake.model import ItemSpec, Recurrence

from .company import ALICE, DANA, ERIN, T0
from .conftest import AccountFactory
from .extprops import FIELD

INBOX = ["Offer for Fabrikam", "Re: Offer for Fabrikam", "Private: lunch?"]  # received at T0 + 1h, 2h, 3h


def test_order_by_sorts_on_the_server_as_sortorder_documents(alice: Account) -> None:
    """FindItem SortOrder: the first FieldOrder is the primary key, Order="Descending" reverses it
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/sortorder)."""
    newest_first = [m.subject for m in alice.inbox.all().order_by("-datetime_received").only("subject")]
    assert newest_first == INBOX[::-1]
    by_subject = [m.subject for m in alice.inbox.all().order_by("subject").only("subject")]
    assert by_subject == sorted(INBOX, key=str.casefold)
    # two keys: sender's display name first (Dana before Erin), then newest first
    two_keys = [m.subject for m in alice.inbox.all().order_by("sender", "-datetime_received").only("subject")]
    assert two_keys == ["Re: Offer for Fabrikam", "Offer for Fabrikam", "Private: lunch?"]


def test_filter_on_dates_compares_instants(alice: Account) -> None:
    """IsGreaterThanOrEqualTo / IsLessThan on item:DateTimeReceived
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isgreaterthanorequalto)."""
    since = T0 + timedelta(hours=2)
    assert [m.subject for m in alice.inbox.filter(datetime_received__gte=since)] == INBOX[1:]
    assert [m.subject for m in alice.inbox.filter(datetime_received__lt=since)] == INBOX[:1]
    assert alice.inbox.filter(datetime_received__range=(since, since + timedelta(minutes=30))).count() == 1


def test_filter_on_sender_and_from_matches_the_address(alice: Account) -> None:
    """message:Sender and message:From compared with an SMTP address, case ignored, as Exchange compares
    strings (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isequalto)."""
    assert [m.subject for m in alice.inbox.filter(sender=DANA.email)] == INBOX[:2]
    assert [m.subject for m in alice.inbox.filter(author=ERIN.email.upper())] == INBOX[2:]
    assert alice.inbox.filter(sender="nobody@nowhere.test").count() == 0
    assert [m.subject for m in alice.inbox.exclude(sender=DANA.email)] == INBOX[2:]


def test_filter_on_read_state_and_count_agree_with_the_folder_counts(alice: Account) -> None:
    """count() is FindItem's TotalItemsInView; GetFolder's TotalCount and UnreadCount count the same items
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/unreadcount,
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/totalcount)."""
    unread = alice.inbox.filter(is_read=False)
    assert [m.subject for m in unread] == ["Offer for Fabrikam", "Private: lunch?"]
    alice.inbox.refresh()
    assert alice.inbox.total_count == alice.inbox.all().count() == 3
    assert alice.inbox.unread_count == unread.count() == 2
    first = alice.inbox.get(subject="Offer for Fabrikam")
    first.is_read = True
    first.save(update_fields=["is_read"])
    alice.inbox.refresh()
    assert alice.inbox.unread_count == alice.inbox.filter(is_read=False).count() == 1


def test_filter_on_recurrence(fake: FakeExchange, alice: Account) -> None:
    """calendar:IsRecurring as Exchange documents it for a series' master: false in the organizer's calendar,
    true in an attendee's; false for a single item
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isrecurring)."""
    assert alice.calendar.filter(is_recurring=True).count() == 0  # Alice organizes "Weekly sync"
    invited = ItemSpec(
        "CalendarItem",
        {
            "Subject": "Dana's monthly call",
            "Start": T0,
            "End": T0 + timedelta(hours=1),
            "Recurrence": Recurrence("Weekly", 4, T0.date(), days_of_week=("Monday",), occurrences=3),
            "Organizer": DANA,
            "IsMeeting": True,
        },
    )
    fake.mailboxes[ALICE.email].create("calendar", invited)
    recurring = alice.calendar.filter(is_recurring=True)
    assert [(c.subject, c.is_recurring, c.type) for c in recurring] == [
        ("Dana's monthly call", True, "RecurringMaster")
    ]
    masters = {c.subject: c.is_recurring for c in alice.calendar.filter(type="RecurringMaster")}
    assert masters == {"Weekly sync": False, "Dana's monthly call": True}
    assert "Quarterly review with Fabrikam" in {c.subject for c in alice.calendar.filter(is_recurring=False)}


def test_query_string_filters_on_simple_aqs_terms(alice: Account) -> None:
    """QueryString (AQS) property:value terms
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/querystring-querystringtype)."""
    assert [m.subject for m in alice.inbox.filter("subject:offer")] == INBOX[:2]
    assert [m.subject for m in alice.inbox.filter(f"from:{ERIN.email}")] == INBOX[2:]
    assert [m.subject for m in alice.inbox.filter('subject:"offer for" from:dana')] == INBOX[:2]


def test_a_message_saved_by_createitem_is_stamped_as_exchange_stamps_it(alice: Account) -> None:
    """CreateItem with MessageDisposition SaveOnly: the store stamps DateTimeCreated, DateTimeReceived and
    LastModifiedTime; the unsent message is a draft without DateTimeSent
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/createitem,
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/isdraft)."""
    m = Message(account=alice, folder=alice.inbox, subject="Saved by a client", to_recipients=[DANA.email])
    m.save()
    m.refresh()
    assert m.datetime_created is not None and m.datetime_received == m.datetime_created
    assert m.last_modified_time == m.datetime_created
    assert m.is_draft is True and m.datetime_sent is None
    assert alice.inbox.filter(datetime_received__gte=m.datetime_created).count() == 1


def test_every_mailbox_has_the_standard_folders(alice: Account) -> None:
    """Drafts, Deleted Items, Junk Email and Outbox are distinguished folders of every mailbox
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/distinguishedfolderid)."""
    assert isinstance(alice.drafts, Drafts) and isinstance(alice.junk, JunkEmail)
    assert isinstance(alice.outbox, Outbox)
    assert alice.trash.name == "Deleted Items" and alice.trash.total_count == 0
    Message(account=alice, folder=alice.drafts, subject="A draft").save()
    assert [m.subject for m in alice.drafts.all()] == ["A draft"]
    assert alice.inbox.all().count() == 3


def test_an_account_without_a_pinned_version_detects_it(fake: FakeExchange) -> None:
    """exchangelib guesses the version from the ServerVersionInfo header of its first answer
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/serverversioninfo)."""
    config = Configuration(
        service_endpoint=fake.url,
        credentials=Credentials(fake.username, fake.password),
        auth_type=BASIC,
        retry_policy=FailFast(),
    )
    account = Account(ALICE.email, config=config, access_type=IMPERSONATION, default_timezone=UTC)
    assert account.version.build.major_version == 15 and account.version.build.minor_version == 1
    assert account.inbox.all().count() == 3


def test_a_second_mailbox_is_addressed_by_impersonation(fake: FakeExchange, account_for: AccountFactory) -> None:
    """ConnectingSID/PrimarySmtpAddress selects the mailbox
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/connectingsid)."""
    bob = account_for(fake, email="bob@contoso.test")
    assert bob.inbox.all().count() == 0 and [c.display_name for c in bob.contacts.all()] == ["Frank Fischer"]


def test_convert_id_round_trips_between_formats(fake: FakeExchange, alice: Account) -> None:
    """ConvertId: EwsId -> HexEntryId -> EwsId gives the id back; the hex form is the EntryId's bytes
    (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/convertid-operation)."""
    item_id = alice.inbox.all().only("id")[0].id
    hexed = list(
        alice.protocol.convert_ids(
            [AlternateId(id=item_id, format=EWS_ID, mailbox=ALICE.email)], destination_format=HEX_ENTRY_ID
        )
    )
    assert hexed[0].format == HEX_ENTRY_ID and hexed[0].id == base64.b64decode(item_id).hex().upper()
    back = list(alice.protocol.convert_ids([hexed[0]], destination_format=EWS_ID))
    assert back[0].id == item_id and back[0].mailbox == ALICE.email
    folder = list(
        alice.protocol.convert_ids(
            [AlternateId(id=alice.inbox.id, format=EWS_ID, mailbox=ALICE.email)], destination_format=ENTRY_ID
        )
    )
    assert folder[0].id == alice.inbox.id


def test_filters_on_contacts_tasks_categories_and_extended_properties(alice: Account) -> None:
    """Restrictions on the other item types the fake serves: contacts:CompanyName (strings compare ignoring
    case), Contains with Prefixed or Substring and IgnoreCase, item:Categories (any value) and an extended
    property (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/contains,
    https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/extendedfielduri)."""
    assert [c.display_name for c in alice.contacts.filter(company_name="FABRIKAM")] == ["Dana Dunn"]
    assert [c.display_name for c in alice.contacts.filter(display_name__istartswith="steve")] == ["Steve O'Neil & Sons"]
    assert [t.subject for t in alice.tasks.filter(subject__icontains="DANA")] == ["Call Dana about renewal"]
    assert [m.subject for m in alice.inbox.filter(categories__contains=["Customer"])] == ["Offer for Fabrikam"]
    assert [c.display_name for c in alice.contacts.filter(**{FIELD: "crm-dana"})] == ["Dana Dunn"]
