"""Fraud-stop over HTTP against PostgreSQL: blocking, screening, unblocking with history,
refusals in the gateway's words, bulk imports, and enforcement when a change request is filed."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from gateway.core.db.connection import fetch
from tests.database import auth, issue_test_key
from tests.payloads import VALID_IBAN, VALID_IBAN_COMPACT, iban_change

Client = httpx.AsyncClient


async def _queue_import(http: Client, key: str, csv: str) -> httpx.Response:
    """POST a CSV import, with the job queue open so that its job is queued."""
    from gateway.core.jobs import job_app

    async with job_app.open_async():
        return await http.post(
            "/v1/blocklist/imports", json={"csv": csv}, headers=auth(key, uuid.uuid4().hex)
        )


async def block(http: Client, key: str, **entry: Any) -> httpx.Response:
    body = {"reason": "chargeback ring", **entry}
    return await http.post("/v1/blocklist/entries", json=body, headers=auth(key, uuid.uuid4().hex))


async def screen(http: Client, key: str, **values: str) -> Any:
    response = await http.post("/v1/fraud/screen", json=values, headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()


async def test_blocking_a_card_and_an_ip_range_makes_the_screen_block(
    http: Client, api_key: str
) -> None:
    card = await block(
        http, api_key, kind="card_fingerprint", value="fp_Abc123", source_ticket="zendesk:4711"
    )
    assert card.status_code == 201, card.text
    network = await block(http, api_key, kind="ip_range", value="203.0.113.0/24")
    assert network.status_code == 201, network.text

    verdict = await screen(http, api_key, ip="203.0.113.77", card_fingerprint="fp_Abc123")
    assert verdict["decision"] == "block"
    whys = {match["entry_id"]: match["why"] for match in verdict["matches"]}
    assert whys[network.json()["id"]] == (
        "The IP address 203.0.113.77 is inside the blocked range 203.0.113.0/24."
    )
    assert whys[card.json()["id"]] == "The card fingerprint fp_Abc123 is blocked."
    assert (await screen(http, api_key, ip="203.0.114.1"))["decision"] == "allow"
    assert (await screen(http, api_key, ip="::ffff:203.0.113.5"))["decision"] == "block"


async def test_each_allowed_screen_is_answered_with_its_own_request_id(
    http: Client, api_key: str
) -> None:
    # The allow answer is built once and sent again: each send keeps its own headers.
    answers = [
        await http.post("/v1/fraud/screen", json={"ip": "198.51.100.7"}, headers=auth(api_key))
        for _ in range(3)
    ]
    assert [a.json() for a in answers] == [{"decision": "allow", "matches": []}] * 3
    ids = [a.headers.get_list("x-request-id") for a in answers]
    assert all(len(found) == 1 for found in ids), ids
    assert len({found[0] for found in ids}) == 3
    assert all(a.headers["content-length"] == str(len(a.content)) for a in answers)


async def test_bins_and_emails_match_as_a_fraud_analyst_expects(http: Client, api_key: str) -> None:
    await block(http, api_key, kind="card_bin", value="424242")
    await block(http, api_key, kind="email", value="Mallory+shop@Example.com")
    assert (await screen(http, api_key, card_bin="42424299"))["decision"] == "block"
    assert (await screen(http, api_key, card_bin="424243"))["decision"] == "allow"
    verdict = await screen(http, api_key, email="mallory+other@example.COM")
    assert verdict["decision"] == "block"
    assert "case and +tags ignored" in verdict["matches"][0]["why"]


async def test_an_iban_is_kept_only_as_a_keyed_hash_and_shown_masked(
    http: Client, api_key: str
) -> None:
    created = await block(http, api_key, kind="iban", value=VALID_IBAN)
    assert created.status_code == 201, created.text
    assert created.json()["display"] == "DE****3000"
    assert VALID_IBAN_COMPACT not in created.text
    [row] = await fetch("SELECT value, display FROM blocklist_entries")
    assert VALID_IBAN_COMPACT not in row["value"] and len(row["value"]) == 64
    verdict = await screen(http, api_key, iban=VALID_IBAN_COMPACT.lower())
    assert verdict["decision"] == "block"
    assert verdict["matches"][0]["why"] == "The IBAN given is blocked (on the list as DE****3000)."
    listed = await http.get("/v1/blocklist/entries?kind=iban", headers=auth(api_key))
    assert listed.json()["items"][0]["display"] == "DE****3000"


async def test_bad_values_get_a_clear_answer_and_nothing_is_stored(
    http: Client, api_key: str
) -> None:
    host_bits = await block(http, api_key, kind="ip_range", value="10.0.0.1/8")
    assert host_bits.status_code == 422
    assert host_bits.json()["code"] == "blocklist_value_invalid"
    assert "10.0.0.0/8" in host_bits.json()["detail"]
    card_number = await block(http, api_key, kind="card_fingerprint", value="4242424242424242")
    assert card_number.status_code == 422
    assert card_number.json()["code"] == "card_number_not_accepted"
    bad_iban = await block(http, api_key, kind="iban", value="DE89370400440532013001")
    assert bad_iban.json()["code"] == "iban_checksum_failed"
    nothing = await http.post("/v1/fraud/screen", json={}, headers=auth(api_key))
    assert nothing.status_code == 422 and nothing.json()["code"] == "screen_nothing_given"
    past = await block(
        http, api_key, kind="ip", value="192.0.2.1", expires_at="2020-01-01T00:00:00Z"
    )
    assert past.status_code == 422 and past.json()["code"] == "blocklist_expiry_in_past"
    assert await fetch("SELECT id FROM blocklist_entries") == []


@pytest.mark.parametrize(
    "expires_at",
    [
        "9999-12-31T23:59:59.999999Z",  # asyncpg's "infinity": it was a 500, every time
        "9999-12-31T00:00:00+00:00",
        "2200-01-01T00:00:00Z",
    ],
)
async def test_an_expiry_past_a_hundred_years_is_refused_and_nothing_is_stored(
    http: Client, api_key: str, expires_at: str
) -> None:
    far = await block(http, api_key, kind="ip", value="192.0.2.210", expires_at=expires_at)
    assert far.status_code == 422, far.text
    assert far.json()["code"] == "blocklist_expiry_too_far"
    assert "100 years" in far.json()["detail"]
    assert await fetch("SELECT id FROM blocklist_entries") == []
    near = await block(
        http, api_key, kind="ip", value="192.0.2.210", expires_at="2099-01-01T00:00:00Z"
    )
    assert near.status_code == 201, near.text
    assert near.json()["expires_at"] == "2099-01-01T00:00:00Z" and near.json()["active"]


async def test_an_expiry_without_its_offset_is_refused(http: Client, api_key: str) -> None:
    naive = await block(
        http, api_key, kind="ip", value="192.0.2.211", expires_at="2030-01-01T00:00:00"
    )
    assert naive.status_code in (400, 422), naive.text
    assert "timezone" in naive.text or "offset" in naive.text, naive.text
    assert await fetch("SELECT id FROM blocklist_entries") == []


async def test_an_import_refuses_a_far_expiry_row_and_blocks_the_others(
    http: Client, api_key: str
) -> None:
    from gateway.fraud.wiring import blocklist_imports

    csv = (
        "kind,value,reason,source_ticket,expires_at\n"
        "ip,192.0.2.250,forever and a day,,9999-12-31T23:59:59.999999+00:00\n"
        "ip,192.0.2.251,mule,,\n"
    )
    queued = await _queue_import(http, api_key, csv)
    assert queued.status_code == 202, queued.text
    import_id = uuid.UUID(queued.json()["id"])
    assert await blocklist_imports().run(import_id) == 2
    done = (await http.get(f"/v1/blocklist/imports/{import_id}", headers=auth(api_key))).json()
    assert done["status"] == "done" and (done["blocked"], done["refused"]) == (1, 1)
    outcomes = [(row["row"], row["outcome"], row.get("code")) for row in done["results"]]
    assert outcomes == [(1, "refused", "blocklist_expiry_too_far"), (2, "blocked", None)]
    assert (await screen(http, api_key, ip="192.0.2.251"))["decision"] == "block"


async def test_a_value_blocked_twice_names_the_live_entry(http: Client, api_key: str) -> None:
    first = (await block(http, api_key, kind="ip", value="2001:db8::1")).json()
    again = await block(http, api_key, kind="ip", value="2001:0db8:0:0::1")
    assert again.status_code == 409
    assert again.json()["code"] == "blocklist_entry_exists"
    assert again.json()["existing_id"] == str(first["id"])


async def test_unblocking_needs_a_reason_and_keeps_the_history(http: Client, api_key: str) -> None:
    entry = (await block(http, api_key, kind="ip", value="198.51.100.9")).json()
    path = f"/v1/blocklist/entries/{entry['id']}"
    no_reason = await http.request("DELETE", path, json={}, headers=auth(api_key))
    assert no_reason.status_code == 400
    removed = await http.request(
        "DELETE", path, json={"reason": "customer proved identity"}, headers=auth(api_key)
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["active"] is False
    assert removed.json()["removal_reason"] == "customer proved identity"
    assert (await screen(http, api_key, ip="198.51.100.9"))["decision"] == "allow"
    again = await http.request("DELETE", path, json={"reason": "twice"}, headers=auth(api_key))
    assert again.status_code == 409
    assert again.json()["code"] == "blocklist_entry_already_removed"
    live = await http.get("/v1/blocklist/entries", headers=auth(api_key))
    assert live.json()["items"] == []
    assert (await http.get(path, headers=auth(api_key))).status_code == 404
    history = await http.get("/v1/blocklist/entries?include_removed=true", headers=auth(api_key))
    assert [item["id"] for item in history.json()["items"]] == [entry["id"]]
    actions = [row["action"] for row in await fetch("SELECT action FROM audit_records ORDER BY id")]
    assert actions.count("blocklist.create_entry.succeeded") == 1
    assert actions.count("blocklist.remove_entry.succeeded") == 1


async def test_an_expired_entry_stops_blocking_and_can_be_blocked_again(
    http: Client, api_key: str
) -> None:
    entry = (await block(http, api_key, kind="customer", value="shop-666")).json()
    assert (await screen(http, api_key, customer="shop-666"))["decision"] == "block"
    await fetch("UPDATE blocklist_entries SET expires_at = now() - interval '1 second'")
    for _ in range(100):  # the notification of the UPDATE reaches this process's matcher
        if (await screen(http, api_key, customer="shop-666"))["decision"] == "allow":
            break
        await asyncio.sleep(0.01)
    assert (await screen(http, api_key, customer="shop-666"))["decision"] == "allow"
    renewed = await block(http, api_key, kind="customer", value="shop-666")
    assert renewed.status_code == 201 and renewed.json()["id"] != entry["id"]
    [closed] = await fetch(
        "SELECT removal_reason FROM blocklist_entries WHERE id = $1", entry["id"]
    )
    assert closed["removal_reason"] == "expired"


async def test_scopes_guard_each_endpoint(http: Client) -> None:
    screener = await issue_test_key(["fraud:screen"])
    refused = await block(http, screener, kind="ip", value="192.0.2.7")
    assert refused.status_code == 403 and refused.json()["required_scope"] == "fraud:write"
    listed = await http.get("/v1/blocklist/entries", headers=auth(screener))
    assert listed.status_code == 403
    assert (await screen(http, screener, ip="192.0.2.7"))["decision"] == "allow"


async def test_a_change_request_with_a_blocked_iban_is_refused_and_audited(
    http: Client, api_key: str
) -> None:
    entry = (await block(http, api_key, kind="iban", value=VALID_IBAN)).json()
    response = await http.post(
        "/v1/change-requests", json=iban_change(), headers=auth(api_key, uuid.uuid4().hex)
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "blocked_by_fraud_stop"
    assert problem["blocklist_entry_ids"] == [entry["id"]]
    assert problem["detail"] == (
        f"Refused by fraud-stop: the IBAN given is blocked (entry {entry['id']}). A team lead "
        "can review the block in the back office."
    )
    assert VALID_IBAN_COMPACT not in response.text
    assert await fetch("SELECT id FROM change_requests") == []
    [refusal] = await fetch(
        "SELECT target_id FROM audit_records WHERE action = 'change_request.create.refused'"
    )
    assert refusal["target_id"].startswith("zendesk:")


async def test_a_change_request_from_a_blocked_ip_or_email_is_refused(
    http: Client, api_key: str
) -> None:
    await block(http, api_key, kind="ip_range", value="2001:db8:bad::/48")
    body = iban_change()
    body["requester"]["ip"] = "2001:db8:bad:1::42"
    from_ip = await http.post(
        "/v1/change-requests", json=body, headers=auth(api_key, uuid.uuid4().hex)
    )
    assert from_ip.json()["code"] == "blocked_by_fraud_stop"
    await block(http, api_key, kind="email", value="camille@example.com")
    by_email = await http.post(
        "/v1/change-requests", json=iban_change(), headers=auth(api_key, uuid.uuid4().hex)
    )
    assert by_email.json()["code"] == "blocked_by_fraud_stop"
    assert "the email address given is blocked" in by_email.json()["detail"]
    assert "camille@example.com" not in by_email.json()["detail"]  # no personal data in it


async def test_a_bulk_import_blocks_each_good_row_and_explains_each_bad_one(
    http: Client, api_key: str
) -> None:
    from gateway.fraud.wiring import blocklist_imports

    await block(http, api_key, kind="ip", value="192.0.2.50")
    csv = (
        "kind,value,reason,source_ticket\n"
        "ip,192.0.2.50,already there,\n"
        f"iban,{VALID_IBAN},mule account,zendesk:1\n"
        "ip_range,10.0.0.0/33,typo,\n"
        "card_fingerprint,fp_Zed,stolen card,\n"
    )
    queued = await _queue_import(http, api_key, csv)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued" and queued.json()["total"] == 4
    [stored] = await fetch("SELECT rows::text AS rows FROM blocklist_imports")
    assert VALID_IBAN_COMPACT not in stored["rows"] and "DE89 3704" not in stored["rows"]

    import_id = uuid.UUID(queued.json()["id"])
    assert await blocklist_imports().run(import_id) == 4  # what the job does
    assert await blocklist_imports().run(import_id) == 0  # a second job finds it done
    # its process died mid-way, long ago: the sweep's run carries on, blocking nothing twice
    await fetch(
        "UPDATE blocklist_imports SET status = 'running', started_at = now() - interval '1 hour'"
    )
    assert await blocklist_imports().run(import_id) == 4
    done = (await http.get(f"/v1/blocklist/imports/{import_id}", headers=auth(api_key))).json()
    assert done["status"] == "done" and (done["blocked"], done["refused"]) == (3, 1)
    outcomes = [(row["row"], row["outcome"], row.get("code")) for row in done["results"]]
    assert outcomes == [
        (1, "already_blocked", None),
        (2, "blocked", None),
        (3, "refused", "blocklist_value_invalid"),
        (4, "blocked", None),
    ]
    assert (await screen(http, api_key, card_fingerprint="fp_Zed"))["decision"] == "block"
    entries = await fetch("SELECT count(*) AS n FROM blocklist_entries")
    assert entries[0]["n"] == 3
    jobs = await fetch("SELECT task_name FROM procrastinate_jobs")
    assert {"task_name": "fraud.import_blocklist"} in jobs


async def test_an_iban_is_screened_however_it_is_written(http: Client, api_key: str) -> None:
    await block(http, api_key, kind="iban", value=VALID_IBAN)
    dashed = "-".join(VALID_IBAN.split())
    assert (await screen(http, api_key, iban=dashed))["decision"] == "block"


async def test_an_iban_or_card_number_in_another_kind_is_refused_without_repeating_it(
    http: Client, api_key: str
) -> None:
    refused = await block(http, api_key, kind="customer", value=VALID_IBAN_COMPACT)
    assert refused.status_code == 422
    assert refused.json()["code"] == "iban_outside_iban_field"
    assert VALID_IBAN_COMPACT not in refused.text
    in_reason = await block(http, api_key, kind="ip", value="192.0.2.8", reason=VALID_IBAN)
    assert in_reason.json()["code"] == "iban_outside_iban_field"
    assert await fetch("SELECT id FROM blocklist_entries") == []


async def test_lookups_that_cannot_be_served_are_refused_in_words(
    http: Client, api_key: str
) -> None:
    no_kind = await http.get("/v1/blocklist/entries?value=192.0.2.1", headers=auth(api_key))
    assert no_kind.status_code == 422 and "value needs kind" in no_kind.json()["detail"]
    iban_in_url = await http.get(
        f"/v1/blocklist/entries?kind=iban&value={VALID_IBAN_COMPACT}", headers=auth(api_key)
    )
    assert iban_in_url.status_code == 422 and VALID_IBAN_COMPACT not in iban_in_url.text
    too_big = await http.get(f"/v1/blocklist/entries/{2**64}", headers=auth(api_key))
    assert too_big.status_code == 404 and too_big.json()["code"] == "blocklist_entry_not_found"


async def test_the_matcher_follows_changes_after_its_connection_drops(
    http: Client, api_key: str
) -> None:
    from gateway.fraud.wiring import blocklist_service

    assert (await screen(http, api_key, ip="192.0.2.99"))["decision"] == "allow"
    await fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE query LIKE 'LISTEN%' AND datname = current_database()"
    )
    # another process blocks the address while this one reconnects
    await fetch(
        "INSERT INTO blocklist_entries (kind, value, display, reason, author_type, author_id)"
        " VALUES ('ip', '192.0.2.99', '192.0.2.99', 'elsewhere', 'system', 'test')"
    )
    for _ in range(300):
        if (await screen(http, api_key, ip="192.0.2.99"))["decision"] == "block":
            break
        await asyncio.sleep(0.01)
    assert (await screen(http, api_key, ip="192.0.2.99"))["decision"] == "block"
    assert blocklist_service().mirror.listening


async def test_a_mirror_first_started_by_a_command_listens_again_in_the_server() -> None:
    """`make run` seeds the demo (which screens) on one event loop, then serves on another."""
    from gateway.fraud.matcher import Matcher
    from gateway.fraud.mirror import BlocklistMirror

    mirror = BlocklistMirror(Matcher())
    await asyncio.to_thread(lambda: asyncio.run(mirror.ensure_started()))  # the seed's loop
    await mirror.ensure_started()  # the server's loop
    await fetch(
        "INSERT INTO blocklist_entries (kind, value, display, reason, author_type, author_id)"
        " VALUES ('email', 'late@example.com', 'late@example.com', 'x', 'system', 'test')"
    )
    for _ in range(100):
        if mirror.matcher.blocked("email", "late@example.com"):
            break
        await asyncio.sleep(0.01)
    assert mirror.matcher.blocked("email", "late@example.com")
    await mirror.stop()


async def test_a_mirror_first_started_inside_a_transaction_follows_later_changes() -> None:
    """A change request being processed screens inside its transaction; the mirror's later
    reads must not inherit that (finished) transaction."""
    from gateway.core.db.connection import transaction
    from gateway.fraud.matcher import Matcher
    from gateway.fraud.mirror import BlocklistMirror

    mirror = BlocklistMirror(Matcher())
    async with transaction():
        await mirror.ensure_started()
    await fetch(
        "INSERT INTO blocklist_entries (kind, value, display, reason, author_type, author_id)"
        " VALUES ('customer', 'shop-late', 'shop-late', 'x', 'system', 'test')"
    )
    for _ in range(100):
        if mirror.matcher.blocked("customer", "shop-late"):
            break
        await asyncio.sleep(0.01)
    assert mirror.matcher.blocked("customer", "shop-late")
    await mirror.stop()


async def test_a_card_number_in_an_unblock_reason_is_refused_and_the_entry_stays(
    http: Client, api_key: str
) -> None:
    entry = (await block(http, api_key, kind="ip", value="198.51.100.10")).json()
    path = f"/v1/blocklist/entries/{entry['id']}"
    for reason in ["card 4242 4242 4242 4242", "card 4242\u200b4242\u200b4242\u200b4242"]:
        refused = await http.request("DELETE", path, json={"reason": reason}, headers=auth(api_key))
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "card_number_not_accepted"
        assert "4242" not in refused.text
    assert (await screen(http, api_key, ip="198.51.100.10"))["decision"] == "block"
