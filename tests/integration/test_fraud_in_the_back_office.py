"""Fraud-stop in the back office over HTTP: a team lead stops a request's card and IP (and the
rest) in one action, lists and filters the blocklist, unblocks with a reason; a bulk unblock
waits for a second person, whoever sends the approval; specialists see none of it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar

from admin.screens import EntryKind
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.fraud.normalise import KINDS
from gateway.fulfilment.service import Applier
from gateway.fulfilment.wiring import fulfilment_service
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from tests.database import auth, issue_test_key
from tests.integration.staff import Staff, enrol
from tests.payloads import VALID_IBAN_COMPACT, iban_change

CARD = "fp_Stolen42"
IP = "203.0.113.9"
REQUESTER_IP = "198.51.100.7"


@pytest.fixture
async def team(app: Litestar) -> dict[str, Staff]:
    return {
        "sam": await enrol(app, "sam", Role.SPECIALIST),
        "lee": await enrol(app, "lee", Role.TEAM_LEAD),
        "lena": await enrol(app, "lena", Role.TEAM_LEAD),
        "ada": await enrol(app, "ada", Role.ADMIN),
    }


def suspicious_request(ticket: str) -> dict[str, Any]:
    body = iban_change(ticket=ticket, targets=["zuora_collection"])
    del body["payload"]["account_holder_email"]  # what is blocked: the requester, not the holder
    body["requester"]["ip"] = REQUESTER_IP
    return body


async def file(http: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex))


async def screen(http: httpx.AsyncClient, key: str, **values: str) -> dict[str, Any]:
    response = await http.post("/v1/fraud/screen", json=values, headers=auth(key))
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


async def fraud_stop(staff: Staff, **fields: str) -> httpx.Response:
    return await staff.form("fraud-stop", {"reason": "chargeback ring", **fields})


async def live_entries() -> dict[str, list[str]]:
    rows = await fetch(
        "SELECT kind, display FROM blocklist_entries WHERE removed_at IS NULL ORDER BY id"
    )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["kind"], []).append(row["display"])
    return found


async def audit_actions(target_type: str) -> list[tuple[str, str]]:
    rows = await fetch(
        "SELECT action, actor_id FROM audit_records WHERE target_type = $1 ORDER BY id",
        target_type,
    )
    return [(row["action"], row["actor_id"]) for row in rows]


async def test_a_lead_stops_a_requests_card_and_ip_in_one_action(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    assert (await file(http, api_key, suspicious_request("1001"))).status_code == 201
    lee = team["lee"]
    screening_key = await issue_test_key(["fraud:screen"])
    assert (await screen(http, screening_key, card_fingerprint=CARD, ip=IP))["decision"] == "allow"

    answer = await fraud_stop(lee, request="zendesk #1001", card_fingerprint=CARD, ip=IP)
    assert answer.status_code == 200, answer.text
    said = answer.json()["custom_form_success"]
    assert said.startswith("FRAUD-STOP for zendesk #1001: blocked card fingerprint fp_Stolen42")
    for shown in (f"IP address {IP}", f"IP address {REQUESTER_IP}", "IBAN DE****3000"):
        assert shown in said
    assert "email address camille@example.com" in said and "customer shop-101" in said
    assert VALID_IBAN_COMPACT not in said

    verdict = await screen(http, screening_key, card_fingerprint=CARD, ip=IP)
    assert verdict["decision"] == "block"
    assert {match["kind"] for match in verdict["matches"]} == {"card_fingerprint", "ip"}
    assert await live_entries() == {
        "card_fingerprint": [CARD],
        "ip": [IP, REQUESTER_IP],
        "email": ["camille@example.com"],
        "iban": ["DE****3000"],
        "customer": ["shop-101", "A00000101"],
    }
    # Each block is its own audit entry, by the lead.
    created = await audit_actions("blocklist_entry")
    assert created == [("blocklist.create_entry.succeeded", "lee")] * 7
    # The same IBAN, filed again for this customer, is now refused.
    again = await file(http, api_key, iban_change(ticket="1002"))
    assert again.status_code == 422 and again.json()["code"] == "blocked_by_fraud_stop"


async def test_the_blocklist_screen_lists_filters_and_never_shows_an_ibans_hash(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    await file(http, api_key, suspicious_request("2001"))
    lee, ada = team["lee"], team["ada"]
    assert (await fraud_stop(lee, request="zendesk #2001", ip=IP)).status_code == 200
    assert (await fraud_stop(ada, customer="cus_Other9", ticket="zendesk #2002")).status_code == 200
    [iban_hash] = [row["iban_hash"] for row in await fetch("SELECT iban_hash FROM change_requests")]

    listing = await lee.get("/lead/api/tables/blocklist/", __page_size=100, __readable="true")
    assert listing.status_code == 200
    assert iban_hash not in listing.text and VALID_IBAN_COMPACT not in listing.text
    schema = await lee.get("/lead/api/tables/blocklist/schema/")
    assert "value" not in schema.json()["properties"]
    [iban] = await lee.rows("blocklist", kind="iban")
    assert iban["display"] == "DE****3000" and iban["active"] is True
    assert iban["author"] == "staff:lee" and iban["source_ticket"] == "zendesk:2001"
    by_ticket = await ada.rows("blocklist", source_ticket="zendesk #2002")
    assert [(row["kind"], row["display"]) for row in by_ticket] == [("customer", "cus_Other9")]
    assert await lee.rows("blocklist", source_ticket="2002") == []  # matched whole
    assert len(await lee.rows("blocklist", active="true", __page_size=100)) == 7
    assert await lee.rows("blocklist", active="false") == []
    assert {kind.value.value for kind in EntryKind} == set(KINDS)


async def test_a_second_fraud_stop_counts_what_is_blocked_already_as_done(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    await file(http, api_key, suspicious_request("3001"))
    lee, lena = team["lee"], team["lena"]
    await fraud_stop(lee, card_fingerprint=CARD, ticket="zendesk #3000")
    answer = await fraud_stop(lena, request="zendesk #3001", card_fingerprint=CARD, ip=IP)
    assert answer.status_code == 200, answer.text
    said = answer.json()["custom_form_success"]
    assert "Already blocked: card fingerprint fp_Stolen42 (entry " in said
    assert f"IP address {IP}" in said.split("Already blocked")[0]
    repeat = await fraud_stop(lena, request="zendesk #3001", card_fingerprint=CARD, ip=IP)
    assert repeat.status_code == 200
    assert "nothing new to block" in repeat.json()["custom_form_success"]
    assert sum(len(values) for values in (await live_entries()).values()) == 7


async def test_bad_values_are_refused_and_nothing_is_blocked(team: dict[str, Staff]) -> None:
    lee = team["lee"]
    refusals = [
        ({"customer": "shop-9", "card_fingerprint": CARD, "ip": "203.0.113"}, "IPv4 or IPv6"),
        ({"card_fingerprint": "4242 4242 4242 4242"}, "card number"),
        ({"customer": VALID_IBAN_COMPACT}, "IBAN"),
        ({"request": "zendesk #404", "card_fingerprint": CARD}, "No request"),
        ({"customer": "shop-9", "reason": f"iban {VALID_IBAN_COMPACT}"}, "IBAN"),
        ({}, "Give a request or a customer"),
    ]
    for fields, why in refusals:
        refused = await fraud_stop(lee, **fields)
        assert refused.status_code == 422, refused.text
        assert why in refused.json()["custom_form_error"]
    missing_reason = await lee.form("fraud-stop", {"customer": "shop-9"})
    assert missing_reason.status_code == 422
    assert await live_entries() == {}
    assert await audit_actions("blocklist_entry") == []


async def test_a_specialist_reaches_no_fraud_stop_form_or_screen(team: dict[str, Staff]) -> None:
    sam = team["sam"]
    for table in ("blocklist", "bulk_unblock_list"):
        assert (await sam.get(f"/specialist/api/tables/{table}/")).status_code == 404
        assert (await sam.get(f"/lead/api/tables/{table}/")).status_code == 403
    forms = {
        "fraud-stop": {"customer": "shop-1", "reason": "looks odd"},
        "unblock-entry": {"entry_id": 1, "reason": "mistake"},
        "bulk-unblock": {"entry_ids": "1", "reason": "mistake"},
        "approve-bulk-unblock": {"bulk_unblock_id": 1},
    }
    for slug, body in forms.items():
        assert (await sam.form(slug, body)).status_code == 404
        assert (await sam.form(slug, body, mount="lead")).status_code == 403
        assert (await sam.form(slug, body, mount="admin")).status_code == 403
    assert await live_entries() == {}


async def test_unblocking_needs_a_reason_and_keeps_the_entry_as_history(
    http: httpx.AsyncClient, team: dict[str, Staff]
) -> None:
    lee = team["lee"]
    await fraud_stop(lee, customer="shop-7", ip=IP)
    [entry] = await lee.rows("blocklist", kind="ip")
    for body in ({"entry_id": entry["entry_id"]}, {"entry_id": entry["entry_id"], "reason": ""}):
        refused = await lee.form("unblock-entry", body)
        assert refused.status_code == 422
    assert (await lee.rows("blocklist", kind="ip"))[0]["active"] is True

    done = await lee.form(
        "unblock-entry", {"entry_id": entry["entry_id"], "reason": "our own office IP"}
    )
    assert done.status_code == 200, done.text
    assert f"IP address {IP}" in done.json()["custom_form_success"]
    [after] = await lee.rows("blocklist", kind="ip")
    assert after["active"] is False and after["removed_by"] == "staff:lee"
    assert after["removal_reason"] == "our own office IP"
    key = await issue_test_key(["fraud:screen"])
    assert (await screen(http, key, ip=IP))["decision"] == "allow"
    twice = await lee.form("unblock-entry", {"entry_id": entry["entry_id"], "reason": "again"})
    assert twice.status_code == 422 and "already unblocked" in twice.json()["custom_form_error"]
    removed = [row for row in await audit_actions("blocklist_entry") if "remove_entry" in row[0]]
    assert removed == [("blocklist.remove_entry.succeeded", "lee")]


async def test_a_bulk_unblock_waits_for_a_second_person(
    http: httpx.AsyncClient, api_key: str, team: dict[str, Staff]
) -> None:
    await file(http, api_key, suspicious_request("5001"))
    lee, lena = team["lee"], team["lena"]
    await fraud_stop(lee, request="zendesk #5001", card_fingerprint=CARD, ip=IP)
    ids = [row["entry_id"] for row in await lee.rows("blocklist", active="true", __page_size=50)]
    assert len(ids) == 7

    asked = await lee.form(
        "bulk-unblock", {"entry_ids": ", ".join(map(str, ids)), "reason": "false positive"}
    )
    assert asked.status_code == 200, asked.text
    [pending] = await lena.rows("bulk_unblock_list", status="pending")
    assert pending["requested_by"] == "lee" and pending["entry_count"] == 7
    bulk_id = pending["bulk_unblock_id"]
    assert str(bulk_id) in asked.json()["custom_form_success"]

    own = await lee.form("approve-bulk-unblock", {"bulk_unblock_id": bulk_id})
    assert own.status_code == 403
    assert "another team lead or admin" in own.json()["detail"]
    assert len(await lee.rows("blocklist", active="true", __page_size=50)) == 7

    approved = await lena.form("approve-bulk-unblock", {"bulk_unblock_id": bulk_id})
    assert approved.status_code == 200, approved.text
    assert await lee.rows("blocklist", active="true") == []
    gone = await lee.rows("blocklist", active="false", __page_size=50)
    assert {row["removed_by"] for row in gone} == {"staff:lena"}
    assert {row["removal_reason"] for row in gone} == {
        f"false positive (bulk unblock {bulk_id}, asked by lee)"
    }
    [done] = await lee.rows("bulk_unblock_list")
    assert done["status"] == "approved" and done["decided_by"] == "lena" and done["completed_at"]
    key = await issue_test_key(["fraud:screen"])
    assert (await screen(http, key, card_fingerprint=CARD, ip=IP))["decision"] == "allow"
    assert await audit_actions("blocklist_bulk_unblock") == [
        ("blocklist.bulk_unblock.started", "lee"),
        ("blocklist.approve_bulk_unblock.refused", "lee"),  # the maker, refused: on record
        ("blocklist.approve_bulk_unblock.succeeded", "lena"),
        ("blocklist.bulk_unblock.succeeded", "lena"),
    ]
    removals = [row for row in await audit_actions("blocklist_entry") if "remove_entry" in row[0]]
    assert removals == [("blocklist.remove_entry.succeeded", "lena")] * 7
    # Approving again changes nothing; the maker is still refused.
    again = await lena.form("approve-bulk-unblock", {"bulk_unblock_id": bulk_id})
    assert again.status_code == 200 and "Unblocked: none" in again.json()["custom_form_success"]
    assert (await lee.form("approve-bulk-unblock", {"bulk_unblock_id": bulk_id})).status_code == 403


async def test_an_admin_approves_a_leads_bulk_unblock_and_a_rejected_one_stays_blocked(
    team: dict[str, Staff],
) -> None:
    lee, ada = team["lee"], team["ada"]
    await fraud_stop(lee, customer="shop-8", card_fingerprint=CARD, ip=IP)
    card, ip, customer = [
        (await lee.rows("blocklist", kind=kind))[0]["entry_id"]
        for kind in ("card_fingerprint", "ip", "customer")
    ]
    await lee.form("bulk-unblock", {"entry_ids": f"{card} {ip}", "reason": "test card"})
    await lee.form("bulk-unblock", {"entry_ids": str(customer), "reason": "customer cleared"})
    first, second = sorted(row["bulk_unblock_id"] for row in await ada.rows("bulk_unblock_list"))

    rejected = await ada.form(
        "reject-bulk-unblock", {"bulk_unblock_id": second, "reason": "still under review"}
    )
    assert rejected.status_code == 200, rejected.text
    late = await ada.form("approve-bulk-unblock", {"bulk_unblock_id": second}, mount="admin")
    assert late.status_code == 422 and "rejected" in late.json()["custom_form_error"]
    approved = await ada.form("approve-bulk-unblock", {"bulk_unblock_id": first})
    assert approved.status_code == 200, approved.text
    assert [row["kind"] for row in await ada.rows("blocklist", active="true")] == ["customer"]


async def test_a_bulk_unblock_of_unknown_or_unblocked_entries_is_not_filed(
    team: dict[str, Staff],
) -> None:
    lee = team["lee"]
    await fraud_stop(lee, customer="shop-6", ip=IP)
    [ip] = [row["entry_id"] for row in await lee.rows("blocklist", kind="ip")]
    await lee.form("unblock-entry", {"entry_id": ip, "reason": "office IP"})
    for entry_ids, why in (
        (f"{ip}", "already unblocked"),
        ("999999", "No blocklist entry"),
        ("12, x", "is not an entry id"),
    ):
        refused = await lee.form("bulk-unblock", {"entry_ids": entry_ids, "reason": "cleanup"})
        assert refused.status_code == 422, refused.text
        assert why in refused.json()["custom_form_error"]
    assert await lee.rows("bulk_unblock_list") == []
    missing = await lee.form("bulk-unblock", {"entry_ids": str(ip)})
    assert missing.status_code == 422
    nothing = await team["lena"].form("approve-bulk-unblock", {"bulk_unblock_id": 424242})
    assert nothing.status_code == 422 and "No bulk unblock" in nothing.json()["custom_form_error"]


async def test_a_request_blocked_after_filing_cannot_be_applied(
    http: httpx.AsyncClient, team: dict[str, Staff], provider_emulators: None
) -> None:
    key = await issue_test_key()
    filed = (await file(http, key, suspicious_request("7001"))).json()
    claimed = await team["sam"].form("claim-next-request", {"kind": "any"})
    assert claimed.status_code == 200, claimed.text
    # a lead blocks the requester's IP while the specialist works on the request
    assert (await fraud_stop(team["lee"], ip=REQUESTER_IP)).status_code == 200
    [sam] = await fetch("SELECT id FROM staff_users WHERE username = 'sam'")
    specialist = StaffMember(sam["id"], "sam", Role.SPECIALIST)
    with pytest.raises(BillingError) as refused:
        await fulfilment_service().apply(uuid.UUID(filed["id"]), Applier.of_staff(specialist))
    assert refused.value.code is ErrorCode.BLOCKED_BY_FRAUD_STOP
    assert "Refused by fraud-stop: the IP address given is blocked" in refused.value.detail
    [row] = await fetch("SELECT status FROM change_requests WHERE id = $1", uuid.UUID(filed["id"]))
    assert row["status"] == "in_progress"
    assert await fetch("SELECT 1 FROM fulfilment_runs") == []
    refusals = await fetch(
        "SELECT actor_id FROM audit_records WHERE action = 'change_request.apply.refused'"
    )
    assert [refusal["actor_id"] for refusal in refusals] == ["sam"]
