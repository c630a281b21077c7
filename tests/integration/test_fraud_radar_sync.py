"""The blocklists mirrored into Stripe Radar's value lists: blocked and unblocked over HTTP
against PostgreSQL, the Stripe emulator over loopback HTTP on the port the settings name, and
the real StripeAdapter built from settings, as the minute job builds it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx
import pytest
import stripe

from adapters.ports import BlockedItemType, BlocklistMirror
from adapters.serving import BackgroundServer
from adapters.stripe.adapter import RATE_LIMIT_ATTEMPTS, StripeAdapter
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.face import StripeFace
from adapters.stripe.emulator.state import Faults, StripeAccount
from adapters.stripe.provider import stripe_from_settings
from adapters.stripe.radar import alias_of
from audit.store import read_payload
from gateway.core.db.connection import fetch
from gateway.fraud.radar_sync import DriftReport, FailedItem, KindDrift, sync_to_radar
from settings import get_settings
from tests.database import auth
from tests.payloads import VALID_IBAN, VALID_IBAN_COMPACT

Client = httpx.AsyncClient
CARD, BIN, IP, EMAIL = "fp_Radar123", "424242", "203.0.113.7", "mallory@example.com"
ITEM_TYPES: tuple[BlockedItemType, ...] = ("card_fingerprint", "card_bin", "ip_address", "email")


@pytest.fixture(scope="module")
def face() -> Iterator[StripeFace]:
    """The sandbox Stripe emulator, where the settings point the gateway's Stripe adapter."""
    app = create_stripe_emulator(StripeAccount())
    server = BackgroundServer(app, get_settings().stripe_emulator_port).start()
    try:
        yield app.state.face
    finally:
        server.stop()


@pytest.fixture
async def adapter(
    face: StripeFace, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StripeAdapter]:
    monkeypatch.setattr(stripe._http_client.HTTPClient, "INITIAL_DELAY", 0.01)
    face.account.faults = Faults()
    # Every test starts with empty Radar lists; the lists themselves stay, as in Stripe.
    for object_id, record in list(face.account.objects.items()):
        if record["object"] == "radar.value_list_item":
            del face.account.objects[object_id]
    built = stripe_from_settings(get_settings())
    assert built is not None
    yield built
    await built.close()


def radar(face: StripeFace) -> dict[str, set[str]]:
    """What each of the gateway's Radar lists holds, by item type."""
    lists = {
        value_list["id"]: value_list["item_type"]
        for value_list in face.account.all("radar.value_list")
        if value_list["alias"] in {alias_of(item_type) for item_type in ITEM_TYPES}
    }
    held: dict[str, set[str]] = {item_type: set() for item_type in ITEM_TYPES}
    for item in face.account.all("radar.value_list_item"):
        if item["value_list"] in lists:
            held[lists[item["value_list"]]].add(item["value"])
    return held


def list_id(face: StripeFace, item_type: BlockedItemType) -> str:
    [value_list] = face.radar.lists({"alias": alias_of(item_type)})
    return str(value_list["id"])


async def block(http: Client, key: str, kind: str, value: str) -> int:
    body = {"kind": kind, "value": value, "reason": "chargeback ring"}
    response = await http.post(
        "/v1/blocklist/entries", json=body, headers=auth(key, uuid.uuid4().hex)
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def block_the_four(http: Client, key: str) -> dict[str, int]:
    return {
        "card_fingerprint": await block(http, key, "card_fingerprint", CARD),
        "card_bin": await block(http, key, "card_bin", BIN),
        "ip": await block(http, key, "ip", IP),
        "email": await block(http, key, "email", "Mallory@Example.com"),
    }


async def sync(adapter: BlocklistMirror) -> DriftReport:
    return await sync_to_radar(adapter, idempotency_prefix=f"test-{uuid.uuid4().hex}")


class FaultyRadar:
    """The real adapter, with the emulator's rate-limit switch thrown just before one add or
    one list read: the adapter's own retries use up the switch and the call fails."""

    def __init__(
        self,
        adapter: StripeAdapter,
        face: StripeFace,
        *,
        add: str | None = None,
        read: BlockedItemType | None = None,
    ) -> None:
        self.adapter, self.face, self.add, self.read = adapter, face, add, read

    async def _throw_switch(self) -> None:
        base = f"http://127.0.0.1:{get_settings().stripe_emulator_port}"
        async with httpx.AsyncClient() as client:
            answer = await client.post(
                f"{base}/_emulator/faults", json={"rate_limited": RATE_LIMIT_ATTEMPTS}
            )
            assert answer.status_code == 204

    async def ensure_block_list(self, item_type: BlockedItemType) -> str:
        return await self.adapter.ensure_block_list(item_type)

    async def add_blocked(
        self, item_type: BlockedItemType, value: str, *, idempotency_key: str
    ) -> None:
        if value == self.add:
            await self._throw_switch()
        await self.adapter.add_blocked(item_type, value, idempotency_key=idempotency_key)

    async def remove_blocked(self, item_type: BlockedItemType, value: str) -> None:
        await self.adapter.remove_blocked(item_type, value)

    async def blocked_values(self, item_type: BlockedItemType) -> Sequence[str]:
        if item_type == self.read:
            await self._throw_switch()
        return await self.adapter.blocked_values(item_type)


async def test_the_four_radar_kinds_are_mirrored_and_the_others_reported(
    http: Client, api_key: str, adapter: StripeAdapter, face: StripeFace
) -> None:
    ids = await block_the_four(http, api_key)
    await block(http, api_key, "ip_range", "198.51.100.0/24")
    await block(http, api_key, "iban", VALID_IBAN)
    await block(http, api_key, "customer", "shop-666")

    report = await sync(adapter)

    assert radar(face) == {
        "card_fingerprint": {CARD},
        "card_bin": {BIN},
        "ip_address": {IP},
        "email": {EMAIL},  # the gateway's canonical form
    }
    assert len(face.account.all("radar.value_list_item")) == 4  # no range, no IBAN hash
    assert report.complete and report.changed
    assert report.kind("ip") == KindDrift("ip", "ip_address", 1, 0, added=1)
    assert {drift.kind: drift.added for drift in report.kinds} == dict.fromkeys(ids, 1)
    assert {item.kind: item.live for item in report.not_mirrored} == {
        "ip_range": 1,
        "iban": 1,
        "customer": 1,
    }
    # the keys Stripe saw name the run, never a value
    keys = [request.idempotency_key or "" for request in face.requests if request.method == "POST"]
    assert keys and all(key.startswith("bg-") for key in keys)
    serialised = str(report.as_dict())
    assert VALID_IBAN_COMPACT not in serialised and "198.51.100.0/24" not in serialised


async def test_unblocked_and_stray_values_leave_radar_and_a_third_run_changes_nothing(
    http: Client, api_key: str, adapter: StripeAdapter, face: StripeFace
) -> None:
    ids = await block_the_four(http, api_key)
    await sync(adapter)
    removed = await http.request(
        "DELETE",
        f"/v1/blocklist/entries/{ids['ip']}",
        json={"reason": "customer proved identity"},
        headers=auth(api_key),
    )
    assert removed.status_code == 200, removed.text
    face.radar.add_item({"value_list": list_id(face, "email"), "value": "stray@example.com"})
    # a list the fraud team keeps by hand in Radar is not the gateway's to change
    alias = f"fraud_team_{uuid.uuid4().hex[:8]}"
    manual = face.radar.create_list({"alias": alias, "name": "by hand", "item_type": "ip_address"})
    face.radar.add_item({"value_list": manual["id"], "value": "192.0.2.1"})

    second = await sync(adapter)

    assert radar(face) == {
        "card_fingerprint": {CARD},
        "card_bin": {BIN},
        "ip_address": set(),
        "email": {EMAIL},
    }
    assert second.kind("ip") == KindDrift("ip", "ip_address", 0, 1, removed=1)
    assert second.kind("email") == KindDrift("email", "email", 1, 2, removed=1)
    assert [item["value"] for item in face.radar.items({"value_list": manual["id"]})] == [
        "192.0.2.1"
    ]

    third = await sync(adapter)

    assert third.complete and not third.changed
    assert all(drift.in_radar_before == drift.in_gateway for drift in third.kinds)
    assert radar(face)["card_bin"] == {BIN}


async def test_an_add_that_fails_is_reported_and_the_others_still_sync(
    http: Client, api_key: str, adapter: StripeAdapter, face: StripeFace
) -> None:
    ids = await block_the_four(http, api_key)

    report = await sync(FaultyRadar(adapter, face, add=BIN))

    assert radar(face) == {
        "card_fingerprint": {CARD},
        "card_bin": set(),
        "ip_address": {IP},
        "email": {EMAIL},
    }
    assert not report.complete
    [failure] = report.kind("card_bin").failed
    assert failure == FailedItem("add", BIN, failure.reason, ids["card_bin"])
    assert failure.reason.startswith("provider_unavailable: Stripe is busy or unavailable")
    assert [drift.added for drift in report.kinds] == [1, 0, 1, 1]

    retried = await sync(adapter)  # the next run

    assert retried.complete and retried.kind("card_bin").added == 1
    assert radar(face)["card_bin"] == {BIN}


async def test_a_list_radar_cannot_read_is_reported_and_the_others_still_sync(
    http: Client, api_key: str, adapter: StripeAdapter, face: StripeFace
) -> None:
    await block_the_four(http, api_key)

    report = await sync(FaultyRadar(adapter, face, read="card_fingerprint"))

    drift = report.kind("card_fingerprint")
    assert drift.in_radar_before is None and drift.added == 0
    assert (drift.error or "").startswith("provider_unavailable:")
    assert radar(face) == {
        "card_fingerprint": set(),
        "card_bin": {BIN},
        "ip_address": {IP},
        "email": {EMAIL},
    }


async def radar_sync_audits() -> list[tuple[str, dict[str, Any]]]:
    rows = await fetch(
        "SELECT * FROM audit_records WHERE action LIKE 'blocklist.radar_sync.%' ORDER BY id"
    )
    return [(row["action"], (await read_payload(row) or {})["after"]) for row in rows]


async def run_the_job(timestamp: int) -> None:
    from gateway.core.jobs import job_app
    from gateway.fraud.radar_jobs import radar_sync

    async with job_app.open_async():
        await radar_sync.defer_async(timestamp=timestamp)
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)


async def test_the_minute_job_mirrors_audits_and_keeps_the_last_report(
    http: Client, api_key: str, adapter: StripeAdapter, face: StripeFace
) -> None:
    from gateway.fraud.radar_jobs import last_report

    await block(http, api_key, "ip", IP)
    await block(http, api_key, "ip_range", "198.51.100.0/24")

    await run_the_job(1)

    assert radar(face)["ip_address"] == {IP}
    [(action, after)] = await radar_sync_audits()
    assert action == "blocklist.radar_sync.succeeded"
    lists = {drift["kind"]: drift for drift in after["kinds"]}
    assert (lists["ip"]["added"], lists["ip"]["in_gateway"]) == (1, 1)
    assert {"kind": "ip_range", "live": 1} in [
        {"kind": item["kind"], "live": item["live"]} for item in after["not_mirrored"]
    ]
    jobs = await fetch("SELECT status FROM procrastinate_jobs WHERE task_name = 'fraud.radar_sync'")
    assert jobs and all(job["status"] == "succeeded" for job in jobs)

    await run_the_job(2)  # nothing to do: logged and kept, not audited

    assert len(await radar_sync_audits()) == 1
    latest = last_report()
    assert latest is not None and latest.complete and not latest.changed
    assert latest.kind("ip").in_radar_before == 1

    face.account.faults.server_errors = 10_000  # Stripe down for the whole run
    await block(http, api_key, "email", EMAIL)
    try:
        await run_the_job(3)
    finally:
        face.account.faults = Faults()

    actions = [action for action, _after in await radar_sync_audits()]
    assert actions[0] == "blocklist.radar_sync.succeeded"
    assert set(actions[1:]) == {"blocklist.radar_sync.failed"}
    latest = last_report()
    assert latest is not None and all(drift.error for drift in latest.kinds)
    assert radar(face)["email"] == set()
