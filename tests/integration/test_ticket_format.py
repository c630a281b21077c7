# ruff: noqa: RUF001  (full-width digits are the point)
"""One ticket format (issue 16, item 4): a ticket filed in one spelling is found in any other,
in change requests and blocklist sources alike."""

from __future__ import annotations

import uuid

import httpx

from tests.database import auth
from tests.payloads import iban_change, plan_change


async def _file(http: httpx.AsyncClient, key: str, body: dict[str, object]) -> httpx.Response:
    return await http.post("/v1/change-requests", json=body, headers=auth(key, str(uuid.uuid4())))


async def _found(http: httpx.AsyncClient, key: str, typed: str) -> list[str]:
    answer = await http.get("/v1/change-requests", params={"ticket": typed}, headers=auth(key))
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


async def test_a_request_filed_as_zendesk_1001_is_found_in_every_spelling(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = iban_change()
    body["ticket"] = "zendesk #1001"
    filed = await _file(http, api_key, body)
    assert filed.status_code == 201, filed.text
    assert filed.json()["ticket"] == "zendesk:1001"
    assert filed.json()["ticket_display"] == "zendesk #1001"
    other = plan_change()
    other["ticket"] = {"system": "intercom", "id": "#1001"}
    assert (await _file(http, api_key, other)).json()["ticket"] == "intercom:1001"
    for typed in (
        "zendesk:1001",
        "Zendesk 1001",
        "ZENDESK#1001",
        "zendesk #１００１",
        "zendesk #١٠٠١",
    ):
        assert await _found(http, api_key, typed) == [filed.json()["id"]], typed
    assert len(await _found(http, api_key, "1001")) == 2  # the id alone: any system
    assert await _found(http, api_key, "freshdesk:1001") == []
    # the same ticket in another spelling is the same open request
    again = iban_change()
    again["ticket"] = {"system": "zendesk", "id": "1001"}
    duplicate = await _file(http, api_key, again)
    assert duplicate.status_code == 409, duplicate.text
    assert "zendesk #1001" in duplicate.json()["detail"]


async def test_a_ticket_naming_two_systems_or_none_is_refused(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = iban_change()
    body["ticket"] = {"system": "zendesk", "id": "freshdesk #5"}
    refused = await _file(http, api_key, body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "ticket_invalid"
    body["ticket"] = "1001"
    assert (await _file(http, api_key, body)).json()["code"] == "ticket_invalid"
    body["ticket"] = "jira:5"
    assert (await _file(http, api_key, body)).json()["code"] == "ticket_invalid"


async def test_a_blocklist_entry_filed_with_zendesk_77_is_matched_as_zendesk_77(
    http: httpx.AsyncClient, api_key: str
) -> None:
    entry = {
        "kind": "ip",
        "value": "203.0.113.77",
        "reason": "fraud ring",
        "source_ticket": "zendesk #77",
    }
    created = await http.post("/v1/blocklist/entries", json=entry, headers=auth(api_key, "blk-77"))
    assert created.status_code == 201, created.text
    assert created.json()["source_ticket"] == "zendesk:77"
    assert created.json()["source_ticket_display"] == "zendesk #77"
    for typed in ("zendesk:77", "Zendesk 77", "zendesk #７７", "77"):
        listed = await http.get(
            "/v1/blocklist/entries", params={"source_ticket": typed}, headers=auth(api_key)
        )
        assert [item["id"] for item in listed.json()["items"]] == [created.json()["id"]], typed
