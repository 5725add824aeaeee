"""Microsoft's own Graph SDK for Python (``msgraph-sdk``, with ``azure-identity``'s ClientSecretCredential
against the fake token service) drives the fake Graph through its request builders, and gets what
Microsoft Graph v1.0 documents.

The credential's authority is the fake token service (``authority=idp.authority_host``, instance
discovery off, ``connection_verify`` = the token service's self-signed certificate); the SDK's httpx
client trusts the fake Graph's certificate (``verify=graph.ca_file``), as the other Graph tests do, and
its request adapter's ``base_url`` is the fake's ``/v1.0``. Nothing is mocked: the SDK's own URL
templates (``delta()``), serialisers (``@odata.type`` in every body) and paging go over HTTPS.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from azure.identity import ClientSecretCredential
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from msgraph.generated.models.category_color import CategoryColor
from msgraph.generated.models.contact import Contact
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.outlook_category import OutlookCategory
from msgraph.generated.models.task_status import TaskStatus
from msgraph.generated.models.todo_task import TodoTask
from msgraph.generated.models.wellknown_list_name import WellknownListName
from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import (
    DeltaRequestBuilder as CalendarDeltaBuilder,
)
from msgraph.generated.users.item.messages.messages_request_builder import MessagesRequestBuilder
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import GraphClientFactory

from connector.fake.ews.server import FakeExchange
from connector.fake.graph.context import Request
from connector.fake.graph.replies import Reply
from connector.fake.graph.server import FakeGraph
from connector.fake.tokens import FakeTokenService

from ..company import ALICE, DANA, message

CLIENT_ID = "6f1c2b9e-0a4d-4c57-9a33-5d0b1c7e2f10"
SECRET = "sdk-secret-Xy7~q"
SCOPES = ["https://graph.microsoft.com/.default"]
T = TypeVar("T")


@pytest.fixture
def idp(exchange: FakeExchange) -> Iterator[FakeTokenService]:
    with FakeTokenService(exchange=exchange, clients={CLIENT_ID: SECRET}) as service:
        yield service


Scenario = Callable[[GraphServiceClient], Awaitable[T]]


@pytest.fixture
def seen(graph: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> list[Request]:
    """Every request the fake Graph answered (recorded on the fake's side; the SDK and HTTP are real)."""
    requests: list[Request] = []
    answer = graph.handle

    def record(req: Request) -> Reply:
        requests.append(req)
        return answer(req)

    monkeypatch.setattr(graph, "handle", record)
    return requests


@pytest.fixture
def run_sdk(graph: FakeGraph, idp: FakeTokenService) -> Callable[[Scenario[Any]], Any]:
    """Run a coroutine against a GraphServiceClient wired to the fakes (one event loop per call)."""

    def run(scenario: Scenario[T]) -> T:
        async def main() -> T:
            credential = ClientSecretCredential(
                idp.tenant,
                CLIENT_ID,
                SECRET,
                authority=idp.authority_host,
                disable_instance_discovery=True,
                connection_verify=str(idp.ca_file),
            )
            auth = AzureIdentityAuthenticationProvider(credential, scopes=SCOPES, allowed_hosts=[graph.host])
            async with httpx.AsyncClient(
                verify=ssl.create_default_context(cafile=str(graph.ca_file)), trust_env=False
            ) as http:
                adapter = GraphRequestAdapter(auth, GraphClientFactory.create_with_default_middleware(client=http))
                adapter.base_url = graph.base_url
                return await scenario(GraphServiceClient(request_adapter=adapter))

        return asyncio.run(main())

    return run


def got(value: T | None) -> T:
    """The SDK types every property and response as optional; a test asserts the one it reads is there."""
    assert value is not None
    return value


def _paged(page_size: int) -> RequestConfiguration[Any]:
    config: RequestConfiguration[Any] = RequestConfiguration()
    config.headers.add("Prefer", f"odata.maxpagesize={page_size}")
    return config


async def _to_the_end(first: Any, builder: Any) -> tuple[list[Any], str, int]:
    """Follow a delta round's nextLinks with the SDK's ``with_url``: (entries, deltaLink, pages)."""
    page, pages = first, 1
    entries: list[Any] = []
    entries.extend(page.value or [])
    while page.odata_next_link:
        page = await builder.with_url(page.odata_next_link).get()
        entries.extend(page.value or [])
        pages += 1
    assert page.odata_delta_link, "the last page of a round carries the deltaLink"
    return entries, page.odata_delta_link, pages


def test_contacts_delta_to_the_end_and_again_from_the_delta_link(
    run_sdk: Callable[[Scenario[Any]], Any], exchange: FakeExchange, idp: FakeTokenService, seen: list[Request]
) -> None:
    """contact-delta (https://learn.microsoft.com/en-us/graph/api/contact-delta) and the delta query
    overview (https://learn.microsoft.com/en-us/graph/delta-query-overview): every page but the last has
    an ``@odata.nextLink``; the last has the ``@odata.deltaLink``, which later returns only the changes."""
    mailbox = exchange.mailboxes[ALICE.email]

    async def scenario(client: GraphServiceClient) -> None:
        contacts = client.users.by_user_id(ALICE.email).contacts
        first = await contacts.delta.get(request_configuration=_paged(2))
        entries, link, pages = await _to_the_end(first, contacts.delta)
        assert pages == 2
        assert sorted(c.display_name for c in entries) == ["Dana Dunn", "Erin Estrada", "Steve O'Neil & Sons"]
        dana = next(c for c in entries if c.display_name == "Dana Dunn")
        assert [e.address for e in dana.email_addresses] == [DANA.email] and dana.categories == ["Customer"]
        unchanged = got(await contacts.delta.with_url(link).get())
        assert unchanged.value == [] and unchanged.odata_delta_link
        # staff change a contact in Outlook: the next round from the deltaLink has it, and only it
        item = dana.id.replace("-", "/").replace("_", "+")
        mailbox.update(item, JobTitle="Head of Purchasing")
        changed = got(await contacts.delta.with_url(unchanged.odata_delta_link).get())
        assert [(c.id, c.job_title) for c in got(changed.value)] == [(dana.id, "Head of Purchasing")]

    run_sdk(scenario)
    assert idp.token_requests >= 1  # the SDK's token came from the fake token service
    assert seen[0].path.endswith("/contacts/delta()")  # the SDK calls the function form


def test_messages_delta_to_the_end_and_again(run_sdk: Callable[[Scenario[Any]], Any], exchange: FakeExchange) -> None:
    """message-delta (https://learn.microsoft.com/en-us/graph/api/message-delta): a mail folder's
    messages page by page; a new message shows in the next round from the deltaLink."""

    async def scenario(client: GraphServiceClient) -> None:
        inbox = client.users.by_user_id(ALICE.email).mail_folders.by_mail_folder_id("inbox").messages
        first = await inbox.delta.get(request_configuration=_paged(2))
        entries, link, pages = await _to_the_end(first, inbox.delta)
        assert pages == 2
        assert sorted(m.subject for m in entries) == ["Offer for Fabrikam", "Private: lunch?", "Re: Offer for Fabrikam"]
        offer = next(m for m in entries if m.subject == "Offer for Fabrikam")
        assert offer.from_.email_address.address == DANA.email
        assert offer.received_date_time == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        exchange.mailboxes[ALICE.email].create("inbox", message(9, "Order 4711", DANA, (ALICE,)))
        again, _, _ = await _to_the_end(await inbox.delta.with_url(link).get(), inbox.delta)
        assert [m.subject for m in again] == ["Order 4711"]

    run_sdk(scenario)


def test_calendar_view_delta_to_the_end_and_again(
    run_sdk: Callable[[Scenario[Any]], Any], exchange: FakeExchange
) -> None:
    """event-delta (https://learn.microsoft.com/en-us/graph/api/event-delta): calendarView delta needs
    ``startDateTime`` and ``endDateTime`` in the first request only; the links carry the window."""

    async def scenario(client: GraphServiceClient) -> None:
        view = client.users.by_user_id(ALICE.email).calendar_view
        query = CalendarDeltaBuilder.DeltaRequestBuilderGetQueryParameters(
            start_date_time="2026-03-01T00:00:00Z", end_date_time="2026-03-31T00:00:00Z"
        )
        config = RequestConfiguration(query_parameters=query)
        config.headers.add("Prefer", "odata.maxpagesize=2")
        entries, link, pages = await _to_the_end(await view.delta.get(request_configuration=config), view.delta)
        assert pages >= 2
        review = next(e for e in entries if e.subject == "Quarterly review with Fabrikam")
        assert review.type.value == "singleInstance"
        assert review.start.date_time.startswith("2026-03-10T13:00:00") and review.start.time_zone == "UTC"
        assert {e.type.value for e in entries} >= {"singleInstance", "occurrence"}
        again = got(await view.delta.with_url(link).get())
        assert again.value == [] and again.odata_delta_link

    run_sdk(scenario)


def test_plain_messages_with_filter_top_and_a_refused_search(run_sdk: Callable[[Scenario[Any]], Any]) -> None:
    """user-list-messages (https://learn.microsoft.com/en-us/graph/api/user-list-messages) with ``$filter``,
    ``$select``, ``$top`` and nextLink paging; ``$search`` the fake does not evaluate is an ODataError
    with Graph's 400 error, not an unfiltered list."""

    async def scenario(client: GraphServiceClient) -> None:
        messages = client.users.by_user_id(ALICE.email).messages
        query = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(
            filter=f"from/emailAddress/address eq '{DANA.email}'", select=["subject"], top=1
        )
        page = got(await messages.get(RequestConfiguration(query_parameters=query)))
        subjects = [m.subject for m in got(page.value)]
        assert page.odata_next_link
        page = got(await messages.with_url(page.odata_next_link).get())
        subjects += [m.subject for m in got(page.value)]
        assert page.odata_next_link is None
        assert subjects == ["Re: Offer for Fabrikam", "Offer for Fabrikam"]
        search = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(search='"Fabrikam"')
        with pytest.raises(ODataError) as refused:
            await messages.get(RequestConfiguration(query_parameters=search))
        assert refused.value.response_status_code == 400
        assert got(refused.value.error).code == "ErrorInvalidUrlQuery"

    run_sdk(scenario)


def test_contact_patch_through_the_sdk(
    run_sdk: Callable[[Scenario[Any]], Any], exchange: FakeExchange, seen: list[Request]
) -> None:
    """contact-update (https://learn.microsoft.com/en-us/graph/api/contact-update): the SDK's body (with
    ``@odata.type`` on the contact and on each e-mail address) updates the given properties, keeps the rest."""

    async def scenario(client: GraphServiceClient) -> None:
        contacts = client.users.by_user_id(ALICE.email).contacts
        erin = next(c for c in got(got(await contacts.get()).value) if c.display_name == "Erin Estrada")
        patch = Contact(
            categories=["Customer", "Value: Superior"],
            job_title="Chief Technology Officer",
            company_name="Northwind Traders",
            business_phones=["+1 425 555 0100"],
            email_addresses=[
                EmailAddress(address="erin@northwind.test", name="Erin"),
                EmailAddress(address="erin@home.test"),
            ],
        )
        updated = got(await contacts.by_contact_id(got(erin.id)).patch(patch))
        assert updated.job_title == "Chief Technology Officer" and updated.change_key != erin.change_key
        again = got(await contacts.by_contact_id(got(erin.id)).get())
        assert again.categories == ["Customer", "Value: Superior"]
        assert again.company_name == "Northwind Traders" and again.business_phones == ["+1 425 555 0100"]
        assert [e.address for e in got(again.email_addresses)] == ["erin@northwind.test", "erin@home.test"]
        assert again.given_name == "Erin" and again.mobile_phone == erin.mobile_phone  # untouched
        return None

    run_sdk(scenario)
    spec = next(s for _, s in exchange.mailboxes[ALICE.email].items("contacts") if s.fields["GivenName"] == "Erin")
    assert spec.fields["JobTitle"] == "Chief Technology Officer"  # the same item over EWS
    body = next(r for r in seen if r.method == "PATCH").json()
    assert body["@odata.type"] == "#microsoft.graph.contact"  # annotations the SDK adds are accepted


def test_master_categories_through_the_sdk(run_sdk: Callable[[Scenario[Any]], Any]) -> None:
    """outlookuser-list-mastercategories and outlookuser-post-mastercategories
    (https://learn.microsoft.com/en-us/graph/api/outlookuser-post-mastercategories): a new category is
    201 with its id and preset colour; its display name is unique (409 for a second one)."""

    async def scenario(client: GraphServiceClient) -> None:
        master = client.users.by_user_id(ALICE.email).outlook.master_categories
        before = {c.display_name for c in got(got(await master.get()).value)}
        made = got(await master.post(OutlookCategory(display_name="Value: Superior", color=CategoryColor.Preset3)))
        assert made.id and made.display_name == "Value: Superior" and made.color == CategoryColor.Preset3
        after = {c.display_name: c.color for c in got(got(await master.get()).value)}
        assert set(after) == before | {"Value: Superior"} and after["Value: Superior"] == CategoryColor.Preset3
        with pytest.raises(ODataError) as twice:
            await master.post(OutlookCategory(display_name="value: superior", color=CategoryColor.Preset1))
        assert twice.value.response_status_code == 409

    run_sdk(scenario)


def test_todo_tasks_through_the_sdk(run_sdk: Callable[[Scenario[Any]], Any]) -> None:
    """To Do (https://learn.microsoft.com/en-us/graph/api/todotasklist-post-tasks, todotask-update,
    https://learn.microsoft.com/en-us/graph/api/todotask-delta): the default list, a task created with a
    due date, completed, and the tasks delta to the end and again."""

    async def scenario(client: GraphServiceClient) -> None:
        lists = got(got(await client.users.by_user_id(ALICE.email).todo.lists.get()).value)
        default = next(x for x in lists if x.wellknown_list_name == WellknownListName.DefaultList)
        tasks = client.users.by_user_id(ALICE.email).todo.lists.by_todo_task_list_id(got(default.id)).tasks
        entries, link, _ = await _to_the_end(await tasks.delta.get(), tasks.delta)
        assert sorted(t.title for t in entries) == ["Call Dana about renewal", "Send brochure"]
        made = got(
            await tasks.post(
                TodoTask(
                    title="Follow up: Dana Dunn",
                    categories=["Follow-up"],
                    due_date_time=DateTimeTimeZone(date_time="2026-04-01T00:00:00", time_zone="Europe/Berlin"),
                )
            )
        )
        assert made.status == TaskStatus.NotStarted and got(got(made.due_date_time).date_time).startswith("2026-04-01")
        done = got(await tasks.by_todo_task_id(got(made.id)).patch(TodoTask(status=TaskStatus.Completed)))
        assert done.status == TaskStatus.Completed and done.completed_date_time is not None
        changed, _, _ = await _to_the_end(await tasks.delta.with_url(link).get(), tasks.delta)
        assert [(t.id, t.status) for t in changed] == [(made.id, TaskStatus.Completed)]

    run_sdk(scenario)
