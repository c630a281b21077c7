"""The audit trail in the back office: team leads and admins list entries (metadata only) and
decrypt one at a time, each reading itself recorded; specialists see none of it."""

from __future__ import annotations

import httpx
from litestar import Litestar

from audit.chain import seal_pending
from gateway.core.db.connection import fetch
from gateway.staff.roles import Role
from tests.database import auth
from tests.integration.staff import enrol
from tests.payloads import iban_change


async def test_a_lead_lists_and_decrypts_and_the_reading_is_recorded(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    filed = await http.post("/v1/change-requests", json=iban_change(), headers=auth(api_key, "a1"))
    assert filed.status_code == 201
    await seal_pending()
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    rows = await lee.rows("audit_entries", action="change_request.create.succeeded")
    [entry] = rows
    assert entry["payload_state"] == "encrypted" and "before" not in entry
    answer = await lee.form(
        "decrypt-audit-entry", {"seq": entry["seq"], "why": "customer disputes the change"}
    )
    assert answer.status_code == 200, answer.text
    assert "change_request.create.succeeded" in answer.text and "DE89" not in answer.text
    readings = await fetch(
        "SELECT actor_id, target_id FROM audit_records WHERE action = 'audit.read_entry.succeeded'"
    )
    assert readings == [{"actor_id": "lee", "target_id": str(entry["seq"])}]


async def test_a_specialist_has_no_audit_screen(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    listing = await sam.get("/specialist/api/tables/audit_entries/")
    assert listing.status_code == 404
    reading = await sam.form("decrypt-audit-entry", {"seq": 1, "why": "curious"})
    assert reading.status_code == 404
