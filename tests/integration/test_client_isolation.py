"""Keys belong to a client (a support tool's organisation): a key reads, lists and cancels its
own client's change requests only, unless it holds `change-requests:all-clients`; a duplicate
IBAN is reported to the filer without a word about the other customer."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from litestar import Litestar

from audit.entry import SYSTEM
from gateway.api_keys.scopes import Scope
from gateway.api_keys.service import issue_key
from gateway.core.db.connection import fetch
from tests.database import auth
from tests.payloads import iban_change

Client = httpx.AsyncClient
WORK = [Scope.CHANGE_REQUESTS_READ, Scope.CHANGE_REQUESTS_WRITE]


async def key_of(name: str, scopes: list[Scope] = WORK, **options: Any) -> str:
    return (await issue_key(name, scopes, actor=SYSTEM, **options)).secret


async def file(http: Client, key: str, body: dict[str, Any]) -> httpx.Response:
    response = await http.post(
        "/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex)
    )
    assert response.status_code == 201, response.text
    return response


def other_customer(ticket: str) -> dict[str, Any]:
    body = iban_change(ticket=ticket)
    body["customer"] = {"backoffice_id": "shop-666", "company_name": "Mallory Trading Ltd"}
    body["requester"] = {"name": "Mallory", "email": "mallory@example.net"}
    body["payload"]["account_holder"] = "Mallory Trading Ltd"
    body["payload"]["account_holder_email"] = "accounts@mallory.example"
    return body


async def test_another_clients_key_cannot_read_list_or_cancel_a_request(http: Client) -> None:
    acme = await key_of("zendesk-acme")
    other = await key_of("intercom-other")
    filed = (await file(http, acme, iban_change(ticket="ISO-1"))).json()

    read = await http.get(f"/v1/change-requests/{filed['id']}", headers=auth(other))
    assert read.status_code == 404, read.text
    assert read.json()["code"] == "change_request_not_found"
    others = await http.get("/v1/change-requests", headers=auth(other))
    assert others.json()["items"] == []
    by_ticket = await http.get("/v1/change-requests?ticket=zendesk:ISO-1", headers=auth(other))
    assert by_ticket.json()["items"] == []
    cancel = await http.post(
        f"/v1/change-requests/{filed['id']}/cancel",
        json={"reason": "not yours"},
        headers=auth(other, uuid.uuid4().hex),
    )
    assert cancel.status_code == 404, cancel.text
    assert cancel.json()["code"] == "change_request_not_found"
    assert (await fetch("SELECT status FROM change_requests"))[0]["status"] == "new"

    # the filing client still sees and cancels its own
    own = await http.get(f"/v1/change-requests/{filed['id']}", headers=auth(acme))
    assert own.status_code == 200 and own.json()["id"] == filed["id"]
    listed = (await http.get("/v1/change-requests", headers=auth(acme))).json()["items"]
    assert [item["id"] for item in listed] == [filed["id"]]


async def test_two_keys_that_only_share_a_name_are_two_clients(http: Client) -> None:
    # a key's name is free text: two organisations may both call theirs "zendesk"
    first = await key_of("zendesk")
    second = await key_of("zendesk")
    filed = (await file(http, first, iban_change(ticket="ISO-9"))).json()
    read = await http.get(f"/v1/change-requests/{filed['id']}", headers=auth(second))
    assert read.status_code == 404, read.text
    assert (await http.get("/v1/change-requests", headers=auth(second))).json()["items"] == []


async def test_a_rotated_key_of_the_same_client_keeps_its_requests(http: Client) -> None:
    old = await key_of("zendesk-acme", client="zendesk-acme")
    filed = (await file(http, old, iban_change(ticket="ISO-2"))).json()
    rotated = await key_of("zendesk-acme-2027", client="zendesk-acme")
    read = await http.get(f"/v1/change-requests/{filed['id']}", headers=auth(rotated))
    assert read.status_code == 200, read.text
    cancel = await http.post(
        f"/v1/change-requests/{filed['id']}/cancel",
        json={"reason": "customer withdrew"},
        headers=auth(rotated, uuid.uuid4().hex),
    )
    assert cancel.status_code == 200, cancel.text


async def test_the_all_clients_scope_sees_every_clients_requests(http: Client) -> None:
    acme = await key_of("zendesk-acme")
    other = await key_of("intercom-other")
    supervisor = await key_of(
        "billing-ops", [Scope.CHANGE_REQUESTS_READ, Scope("change-requests:all-clients")]
    )
    first = (await file(http, acme, iban_change(ticket="ISO-3"))).json()
    second = (await file(http, other, iban_change(ticket="ISO-4"))).json()
    listed = (await http.get("/v1/change-requests", headers=auth(supervisor))).json()
    assert {item["id"] for item in listed["items"]} == {first["id"], second["id"]}
    read = await http.get(f"/v1/change-requests/{first['id']}", headers=auth(supervisor))
    assert read.status_code == 200


async def test_one_ticket_number_in_two_clients_tools_is_two_tickets(http: Client) -> None:
    """Ticket 4711 in one company's Zendesk is not ticket 4711 in another's: the second
    client's filing is not refused as a duplicate, nor told the first one's id."""
    acme = await key_of("zendesk-acme")
    other = await key_of("zendesk-other")
    await file(http, acme, iban_change(ticket="4711"))
    await file(http, other, other_customer("4711"))


async def test_a_duplicate_iban_names_no_other_customer(http: Client) -> None:
    acme = await key_of("zendesk-acme")
    other = await key_of("intercom-other")
    victim = iban_change(ticket="ISO-5")
    victim["payload"]["account_holder_email"] = "compta@atelier-lumiere.example"
    first = (await file(http, acme, victim)).json()
    # the same customer's own second request is not "another customer", and its client may
    # read the first one anyway
    again = (await file(http, acme, iban_change(ticket="ISO-6"))).json()
    assert again["payload"]["iban_on_file_for_another_customer"] is False
    assert again["payload"]["other_requests_with_same_iban"] == [first["id"]]

    answer = await file(http, other, other_customer("ISO-7"))
    payload = answer.json()["payload"]
    assert payload["iban_on_file_for_another_customer"] is True
    assert payload["other_requests_with_same_iban"] == []
    for detail in ("Atelier", "A00000101", "shop-101", "camille@", "compta@", first["id"]):
        assert detail not in answer.text


async def test_staff_see_who_else_has_the_iban_in_the_back_office(
    http: Client, app: Litestar
) -> None:
    from gateway.staff.roles import Role
    from tests.integration.staff import enrol

    acme = await key_of("zendesk-acme")
    other = await key_of("intercom-other")
    await file(http, acme, iban_change(ticket="ISO-8"))
    suspicious = (await file(http, other, other_customer("ISO-9"))).json()
    sam = await enrol(app, "sam", Role.SPECIALIST)
    await fetch(
        "UPDATE change_requests SET status = 'assigned', assignee_id = $1 WHERE id = $2",
        (await fetch("SELECT id FROM staff_users WHERE username = 'sam'"))[0]["id"],
        uuid.UUID(suspicious["id"]),
    )
    [row] = await sam.rows("my_queue")
    elsewhere = row["same_iban_elsewhere"]
    for detail in ("zendesk #ISO-8", "Atelier Lumière SARL", "A00000101", "camille@example.com"):
        assert detail in elsewhere
    assert "client zendesk-acme" in elsewhere
