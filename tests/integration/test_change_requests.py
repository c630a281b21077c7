"""Filing, reading, listing and cancelling change requests over HTTP against PostgreSQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from gateway.core.db.connection import fetch
from tests.database import auth
from tests.payloads import VALID_IBAN_COMPACT, iban_change, plan_change, with_change

Client = httpx.AsyncClient


async def file(http: Client, key: str, body: dict[str, Any]) -> Any:
    return await http.post("/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex))


async def test_iban_change_is_filed_with_masked_data_only(http: Client, api_key: str) -> None:
    response = await file(http, api_key, iban_change())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "new"
    assert created["payload"]["iban_masked"] == "DE****3000"
    assert created["payload"]["bic"] == "COBADEFFXXX"
    assert created["payload"]["bank_name"]
    assert VALID_IBAN_COMPACT not in response.text
    fetched = await http.get(f"/v1/change-requests/{created['id']}", headers=auth(api_key))
    assert fetched.json() == created


async def test_the_iban_is_stored_encrypted_with_a_keyed_hash(http: Client, api_key: str) -> None:
    await file(http, api_key, iban_change())
    [row] = await fetch(
        "SELECT iban_ciphertext, iban_hash, details::text AS details FROM change_requests"
    )
    assert row["iban_ciphertext"].startswith("v1:aes256gcm:")
    assert VALID_IBAN_COMPACT not in row["iban_ciphertext"] + row["iban_hash"] + row["details"]
    dump = await fetch("SELECT string_agg(t::text, '|') AS everything FROM change_requests t")
    audit = await fetch("SELECT string_agg(a::text, '|') AS everything FROM audit_records a")
    for text in (dump[0]["everything"], audit[0]["everything"]):
        assert VALID_IBAN_COMPACT not in (text or "")


async def test_second_request_with_the_same_iban_points_at_the_first(
    http: Client, api_key: str
) -> None:
    first = (await file(http, api_key, iban_change())).json()
    second = (await file(http, api_key, iban_change())).json()
    assert second["payload"]["other_requests_with_same_iban"] == [first["id"]]


async def test_plan_change_gets_tier_details_and_contract_flag(http: Client, api_key: str) -> None:
    response = await file(http, api_key, plan_change(contract_signed_on="2018-02-01"))
    assert response.status_code == 201, response.text
    payload = response.json()["payload"]
    assert payload["target_tier"] == {
        "name": "team",
        "min_seats": 2,
        "max_seats": 4,
        "monthly_price_minor": 4900,
        "currency": "EUR",
    }
    assert payload["direction"] == "upgrade"
    assert payload["needs_new_contract"] is True


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (iban_change(iban="DE89370400440532013001"), 422, "iban_checksum_failed"),
        (iban_change(iban="DE8937040044053201300"), 422, "iban_wrong_length"),
        (iban_change(iban="BR1800360305000010009795493C1"), 422, "iban_not_sepa"),
        (iban_change(bic="BNPAFRPP"), 422, "bic_mismatch"),
        (iban_change(targets=["somewhere_else"]), 400, "validation_failed"),
        (iban_change(targets=[]), 400, "validation_failed"),
        (
            plan_change(current_tier="business", target_tier="team", committed=True),
            422,
            "downgrade_not_allowed",
        ),
        (plan_change(target_tier="platinum"), 422, "unknown_tier"),
        (with_change(iban_change(), "customer", {}), 422, "customer_unidentified"),
        (with_change(iban_change(), "kind", "refund"), 400, "validation_failed"),
        (with_change(iban_change(), "payload.surprise", 1), 400, "validation_failed"),
        (with_change(iban_change(), "requester.name", 42), 400, "validation_failed"),
        (
            with_change(iban_change(), "requester.name", "card 4111 1111 1111 1111"),
            422,
            "card_number_not_accepted",
        ),
        (
            with_change(iban_change(), "contact_reasons", ["4000056655665556"]),
            422,
            "card_number_not_accepted",
        ),
    ],
)
async def test_bad_input_gets_a_problem_and_stores_nothing(
    http: Client, api_key: str, body: dict[str, Any], status: int, code: str
) -> None:
    response = await file(http, api_key, body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert problem["detail"] and problem["request_id"] == response.headers["x-request-id"]
    assert await fetch("SELECT id FROM change_requests") == []
    assert "4111" not in problem["detail"] and "DE893704" not in response.text


async def test_refused_attempts_are_audited(http: Client, api_key: str) -> None:
    await file(
        http, api_key, plan_change(current_tier="business", target_tier="team", committed=True)
    )
    actions = [row["action"] for row in await fetch("SELECT action FROM audit_records")]
    assert "change_request.create.refused" in actions


async def test_malformed_json_is_its_own_problem(http: Client, api_key: str) -> None:
    response = await http.post(
        "/v1/change-requests",
        content=b'{"kind":',
        headers={**auth(api_key, "k"), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"


async def test_a_second_open_request_for_the_ticket_names_the_first(
    http: Client, api_key: str
) -> None:
    first = (await file(http, api_key, iban_change(ticket="T-1"))).json()
    response = await file(http, api_key, iban_change(ticket="T-1"))
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_open_request"
    assert response.json()["existing_id"] == first["id"]
    refusals = await fetch(
        "SELECT target_id FROM audit_records WHERE action = 'change_request.create.refused'"
    )
    assert len(refusals) == 1  # the refusal is in the trail, as every refusal is
    # a plan change on the same ticket is another kind of work and is accepted
    assert (await file(http, api_key, plan_change(ticket="T-1"))).status_code == 201


async def test_cancel_then_the_ticket_may_file_again(http: Client, api_key: str) -> None:
    first = (await file(http, api_key, iban_change(ticket="T-2"))).json()
    cancelled = await http.post(
        f"/v1/change-requests/{first['id']}/cancel",
        json={"reason": "customer withdrew"},
        headers=auth(api_key, "c1"),
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancellation_reason"] == "customer withdrew"
    again = await http.post(
        f"/v1/change-requests/{first['id']}/cancel",
        json={"reason": "twice"},
        headers=auth(api_key, "c2"),
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert again.json()["status"] == 409 and again.json()["current_status"] == "cancelled"
    assert (await file(http, api_key, iban_change(ticket="T-2"))).status_code == 201
    actions = [r["action"] for r in await fetch("SELECT action FROM audit_records ORDER BY id")]
    assert actions.count("change_request.cancel.succeeded") == 1


async def test_unknown_request_is_404(http: Client, api_key: str) -> None:
    response = await http.get(f"/v1/change-requests/{uuid.uuid4()}", headers=auth(api_key))
    assert response.status_code == 404
    assert response.json()["code"] == "change_request_not_found"


async def test_list_filters_and_pages_with_a_cursor(http: Client, api_key: str) -> None:
    ids = [(await file(http, api_key, iban_change(ticket=f"P-{n}"))).json()["id"] for n in range(5)]
    await file(http, api_key, plan_change(ticket="P-9"))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"kind": "iban_change", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await http.get("/v1/change-requests", params=params, headers=auth(api_key))).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    by_ticket = (
        await http.get(
            "/v1/change-requests", params={"ticket": "zendesk:P-3"}, headers=auth(api_key)
        )
    ).json()
    assert [item["id"] for item in by_ticket["items"]] == [ids[3]]
    by_customer = (
        await http.get(
            "/v1/change-requests", params={"customer": "cus_Demo1"}, headers=auth(api_key)
        )
    ).json()
    assert [item["kind"] for item in by_customer["items"]] == ["plan_change"]
    bad = await http.get(
        "/v1/change-requests", params={"cursor": "nonsense"}, headers=auth(api_key)
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_cursor"


async def test_a_card_number_hidden_in_json_escapes_is_refused(http: Client, api_key: str) -> None:
    body = json.dumps(iban_change()).replace('"Camille"', '"\\u0034111111111111111"')
    response = await http.post(
        "/v1/change-requests",
        content=body.encode(),
        headers={**auth(api_key, "escaped"), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "card_number_not_accepted"
    assert await fetch("SELECT id FROM change_requests") == []


async def test_an_iban_in_a_cancel_reason_is_refused(http: Client, api_key: str) -> None:
    created = (await file(http, api_key, iban_change())).json()
    response = await http.post(
        f"/v1/change-requests/{created['id']}/cancel",
        json={"reason": "new one is de89 3704 0044 0532 0130 00"},
        headers=auth(api_key, "cancel-iban"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "iban_outside_iban_field"
    assert (await http.get(f"/v1/change-requests/{created['id']}", headers=auth(api_key))).json()[
        "status"
    ] == "new"


async def test_a_card_number_in_a_path_is_not_echoed(http: Client, api_key: str) -> None:
    response = await http.get("/v1/change-requests/4111111111111111", headers=auth(api_key))
    assert response.status_code == 404
    assert "4111111111111111" not in response.text
