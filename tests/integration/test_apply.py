"""Apply, end to end: the API over real PostgreSQL, the Zuora and Stripe emulators over loopback
HTTP on the ports the settings name (the app's own adapters talk to them), and the worker's part
(`FulfilmentService.advance`) run by the test where the job queue would run it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from adapters.ports import AccountLookup
from adapters.serving import BackgroundServer
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.seed import seed_demo as seed_stripe
from adapters.stripe.emulator.state import StripeAccount
from adapters.zuora.emulator.app import create_emulator
from adapters.zuora.emulator.seed import seed_demo as seed_zuora
from adapters.zuora.emulator.state import Tenant
from audit.store import read_payload
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.resilience import ProviderGuard
from gateway.fulfilment.service import FulfilmentService
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.database import auth
from tests.payloads import iban_change, plan_change

NEW_IBAN = "FR7630006000011234567890189"  # published test number, masked FR****0189
LEE = StaffMember(id=9001, username="lee", role=Role.TEAM_LEAD)
LOU = StaffMember(id=9002, username="lou", role=Role.TEAM_LEAD)


@pytest.fixture
def emulators() -> Iterator[tuple[str, str]]:
    """Fresh, seeded emulators for each test, where the app's adapters point."""
    settings = get_settings()
    tenant = Tenant()
    seed_zuora(tenant)
    account = StripeAccount()
    seed_stripe(account, settings.plan_tiers)
    zuora = BackgroundServer(create_emulator(tenant), settings.zuora_emulator_port).start()
    stripe = BackgroundServer(create_stripe_emulator(account), settings.stripe_emulator_port)
    stripe.start()
    try:
        yield zuora.base, stripe.base
    finally:
        zuora.stop()
        stripe.stop()


@pytest.fixture
def fulfilment(app: Any) -> FulfilmentService:
    from gateway.fulfilment.wiring import fulfilment_service

    return fulfilment_service()


async def file(http: httpx.AsyncClient, key: str, body: dict[str, Any]) -> str:
    answer = await http.post("/v1/change-requests", json=body, headers=auth(key, str(uuid.uuid4())))
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def apply(
    http: httpx.AsyncClient, key: str, request_id: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await http.post(
        f"/v1/change-requests/{request_id}/apply",
        json=body or {},
        headers=auth(key, str(uuid.uuid4())),
    )


async def arm(base: str, fault: dict[str, Any]) -> None:
    """A fault for one operation at an emulator (`times` 1 unless given)."""
    async with httpx.AsyncClient() as client:
        armed = await client.post(f"{base}/_emulator/operation-faults", json={"times": 1, **fault})
    assert armed.status_code in (201, 204), armed.text


async def run_of(request_id: str) -> uuid.UUID:
    rows = await fetch(
        "SELECT id FROM fulfilment_runs WHERE change_request_id = $1 ORDER BY number DESC",
        uuid.UUID(request_id),
    )
    return rows[0]["id"]


async def read(http: httpx.AsyncClient, key: str, request_id: str) -> dict[str, Any]:
    answer = await http.get(f"/v1/change-requests/{request_id}", headers=auth(key))
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def atelier(*targets: str) -> dict[str, Any]:
    body = iban_change(
        iban=NEW_IBAN,
        account_holder="Atelier Lumière SARL",
        account_holder_email="compta@atelier.example",
        targets=list(targets),
    )
    body["customer"]["stripe_customer_id"] = "cus_DemoAtelier01"
    return body


async def methods(fulfilment: FulfilmentService, provider: str, account: str) -> list[Any]:
    """What the provider holds now, read through the gateway's own adapter."""
    adapter = fulfilment._providers.get(provider)
    lookup = AccountLookup(number=account) if provider == "zuora" else AccountLookup(id=account)
    found = await adapter.find_account(lookup)
    return list(await adapter.list_payment_methods(found.id))


async def test_an_iban_change_is_applied_at_zuora_and_stripe(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    zuora_before = await methods(fulfilment, "zuora", "A00000101")
    stripe_before = await methods(fulfilment, "stripe", "cus_DemoAtelier01")
    request_id = await file(http, api_key, atelier("zuora_collection", "stripe_customer_debit"))

    answer = await apply(http, api_key, request_id)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "applying"
    [run] = answer.json()["fulfilment"]["runs"]
    assert run["status"] == "running"
    operations = [step["operation"] for step in run["steps"]]
    assert operations[:2] == ["create_sepa_method", "set_default_method"]
    assert NEW_IBAN not in answer.text and NEW_IBAN[-10:] not in answer.text

    assert await fulfilment.advance(await run_of(request_id)) == "succeeded"

    done = await read(http, api_key, request_id)
    assert done["status"] == "applied"
    [run] = done["fulfilment"]["runs"]
    assert run["status"] == "succeeded" and run["finished_at"]
    assert {s["status"] for s in run["steps"]} == {"succeeded"}
    for step in run["steps"]:
        assert step["provider_request_id"], step
        assert all("…" in value for value in step["provider_ids"].values()), step
    zuora_after = await methods(fulfilment, "zuora", "A00000101")
    [new_default] = [m for m in zuora_after if m.is_default]
    assert new_default.masked.endswith("0189") and new_default.active
    assert all(not m.active for m in zuora_after if m.id in {o.id for o in zuora_before})
    stripe_after = await methods(fulfilment, "stripe", "cus_DemoAtelier01")
    [stripe_default] = [m for m in stripe_after if m.is_default]
    assert stripe_default.masked.endswith("0189")
    assert not {m.id for m in stripe_after if m.kind == "sepa_debit"} & {
        m.id for m in stripe_before if m.kind == "sepa_debit"
    }
    entries = await fetch(
        "SELECT action, subject FROM audit_records WHERE target_id = $1 ORDER BY id", request_id
    )
    assert {entry["subject"] for entry in entries} == {"shop-101"}  # forgotten with the customer
    actions = [entry["action"] for entry in entries]
    assert actions.count("fulfilment.step.succeeded") == len(run["steps"])
    assert "change_request.apply.started" in actions
    assert actions[-1] == "change_request.apply.succeeded"


async def test_a_connect_payout_change_waits_for_a_lead_who_is_not_the_maker(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    body = iban_change(
        iban=NEW_IBAN, account_holder="Brasserie du Port SAS", targets=["stripe_connect_payout"]
    )
    body["customer"] = {"stripe_connect_account_id": "acct_DemoBrasserie", "backoffice_id": "x"}
    body["identity"] = {
        "name": "Brasserie du Port SAS",
        "id_document": "national_id_card",
        "proof_of_address_dated": (date.today() - timedelta(days=20)).isoformat(),
    }
    request_id = await file(http, api_key, body)

    answer = await apply(http, api_key, request_id)
    assert (answer.status_code, answer.json()["code"]) == (409, "approval_required"), answer.text
    waiting = await read(http, api_key, request_id)
    assert waiting["status"] == "awaiting_approval"
    assert waiting["fulfilment"]["runs"][0]["status"] == "waiting_approval"

    await fulfilment.approve_plan(LEE, uuid.UUID(request_id))
    assert await fulfilment.advance(await run_of(request_id)) == "succeeded"
    done = await read(http, api_key, request_id)
    assert done["status"] == "applied"
    adapter = fulfilment._providers.get("stripe")
    accounts = list(await adapter.list_payout_accounts("acct_DemoBrasserie"))
    [default] = [a for a in accounts if a.is_default]
    assert default.masked.endswith("0189") and len(accounts) == 1


async def test_the_same_apply_twice_at_once_starts_one_run(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    request_id = await file(http, api_key, atelier("zuora_collection"))
    first, second = await asyncio.gather(
        apply(http, api_key, request_id), apply(http, api_key, request_id)
    )
    assert sorted([first.status_code, second.status_code]) == [202, 409], (first.text, second.text)
    loser = first if first.status_code == 409 else second
    assert loser.json()["code"] == "invalid_transition"
    runs = await fetch(
        "SELECT count(*) AS n FROM fulfilment_runs WHERE change_request_id = $1",
        uuid.UUID(request_id),
    )
    assert runs[0]["n"] == 1


async def test_an_answer_lost_after_commit_ends_with_exactly_one_new_method(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    zuora, stripe = emulators
    request_id = await file(http, api_key, atelier("zuora_collection", "stripe_customer_debit"))
    for base, operation in ((zuora, "create:PaymentMethod"), (stripe, "POST /v1/setup_intents")):
        await arm(base, {"operation": operation, "mode": "lost_after_commit", "seconds": 0})
    before = {
        "zuora": len(await methods(fulfilment, "zuora", "A00000101")),
        "stripe": len(await methods(fulfilment, "stripe", "cus_DemoAtelier01")),
    }
    assert (await apply(http, api_key, request_id)).status_code == 202
    assert await fulfilment.advance(await run_of(request_id)) == "succeeded"

    zuora_after = await methods(fulfilment, "zuora", "A00000101")
    assert len(zuora_after) == before["zuora"] + 1
    assert len([m for m in zuora_after if (m.masked or "").endswith("0189")]) == 1
    stripe_after = await methods(fulfilment, "stripe", "cus_DemoAtelier01")
    assert len([m for m in stripe_after if (m.masked or "").endswith("0189")]) == 1
    assert (await read(http, api_key, request_id))["status"] == "applied"


async def test_a_refusal_stops_the_run_and_a_lead_retries_or_settles_it(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    zuora, stripe = emulators
    request_id = await file(http, api_key, atelier("zuora_collection"))
    await arm(zuora, {"operation": "update:Account", "mode": "fail", "code": "INVALID_VALUE"})
    assert (await apply(http, api_key, request_id)).status_code == 202
    assert await fulfilment.advance(await run_of(request_id)) == "failed"

    failed = await read(http, api_key, request_id)
    assert failed["status"] == "apply_failed"
    [run] = failed["fulfilment"]["runs"]
    assert (run["status"], run["error_code"]) == ("failed", "provider_rejected")
    create, default, *_closes = run["steps"]
    assert create["status"] == "succeeded"
    assert default["status"] == "failed" and default["error_message"]

    # A specialist cannot retry; a lead can, and the step runs again (the fault was once).
    with pytest.raises(Exception, match="team lead"):
        await fulfilment.retry_step(
            StaffMember(id=1, username="sam", role=Role.SPECIALIST), uuid.UUID(default["id"])
        )
    await fulfilment.retry_step(LEE, uuid.UUID(default["id"]))
    assert (await read(http, api_key, request_id))["status"] == "applying"
    assert await fulfilment.advance(await run_of(request_id)) == "succeeded"
    assert (await read(http, api_key, request_id))["status"] == "applied"

    # Settled by hand: another request, the close refused; the lead closed it in the console.
    other = await file(http, api_key, atelier("stripe_customer_debit"))
    await arm(
        stripe, {"operation": "POST /v1/payment_methods/*/detach", "mode": "fail", "times": 5}
    )
    assert (await apply(http, api_key, other)).status_code == 202
    assert await fulfilment.advance(await run_of(other)) == "failed"
    stopped = (await read(http, api_key, other))["fulfilment"]["runs"][0]["steps"][-1]
    assert stopped["operation"] == "close_method" and stopped["status"] == "failed"
    await fulfilment.settle_by_hand(LOU, uuid.UUID(stopped["id"]), "Detached in the dashboard.")
    assert await fulfilment.advance(await run_of(other)) == "succeeded"
    settled = await read(http, api_key, other)
    assert settled["status"] == "applied"
    last = settled["fulfilment"]["runs"][0]["steps"][-1]
    assert (last["status"], last["settled_reason"]) == (
        "settled_by_hand",
        "Detached in the dashboard.",
    )


async def test_targets_run_side_by_side_and_two_refusals_stop_the_run_once(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    """Zuora and Stripe each refuse the new method: both first steps are under way at once
    (Zuora's takes a look-up and a create) and both fail; the request fails once; a lead's
    retry of one stops the run again on the other, still refused, until that one is retried
    too."""
    zuora, stripe = emulators
    request_id = await file(http, api_key, atelier("zuora_collection", "stripe_customer_debit"))
    await arm(zuora, {"operation": "create:PaymentMethod", "mode": "fail", "code": "INVALID_VALUE"})
    await arm(stripe, {"operation": "POST /v1/setup_intents", "mode": "fail", "times": 5})
    assert (await apply(http, api_key, request_id)).status_code == 202
    assert await fulfilment.advance(await run_of(request_id)) == "failed"

    failed = await read(http, api_key, request_id)
    assert failed["status"] == "apply_failed"
    steps = failed["fulfilment"]["runs"][0]["steps"]
    refused = {s["provider"]: s for s in steps if s["status"] == "failed"}
    assert {s["operation"] for s in refused.values()} == {"create_sepa_method"}
    assert set(refused) == {"zuora", "stripe"}  # the second target did not wait for the first
    assert {s["status"] for s in steps if s["operation"] != "create_sepa_method"} == {"pending"}

    await fulfilment.retry_step(LEE, uuid.UUID(refused["zuora"]["id"]))
    assert await fulfilment.advance(await run_of(request_id)) == "failed"
    assert (await read(http, api_key, request_id))["status"] == "apply_failed"
    async with httpx.AsyncClient() as client:
        await client.delete(f"{stripe}/_emulator/operation-faults")
    await fulfilment.retry_step(LEE, uuid.UUID(refused["stripe"]["id"]))
    assert await fulfilment.advance(await run_of(request_id)) == "succeeded"
    done = await read(http, api_key, request_id)
    assert done["status"] == "applied"
    actions = [
        row["action"]
        for row in await fetch(
            "SELECT action FROM audit_records WHERE target_id = $1 ORDER BY id", request_id
        )
    ]
    assert actions.count("change_request.apply.failed") == 2  # the first stop, and the second
    assert actions.count("change_request.apply.succeeded") == 1


@pytest.mark.parametrize(
    ("customer", "subscription", "tiers", "provider"),
    [
        (
            {"zuora_account_id": "A00000103", "backoffice_id": "shop-103"},
            "A-S00000103",
            ("business", "enterprise"),
            "zuora",
        ),
        (
            {"stripe_customer_id": "cus_DemoAtelier01", "backoffice_id": "shop-101"},
            "sub_DemoAtelier01",
            ("team", "business"),
            "stripe",
        ),
    ],
)
async def test_a_plan_change_is_applied_as_previewed(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
    customer: dict[str, str],
    subscription: str,
    tiers: tuple[str, str],
    provider: str,
) -> None:
    body = plan_change(
        subscription_ref=subscription,
        current_tier=tiers[0],
        target_tier=tiers[1],
        contract_signed_on="2021-03-01",
    )
    body["customer"] = customer
    request_id = await file(http, api_key, body)

    # Without the preview it was shown, Apply answers with the provider's fresh preview.
    unseen = await apply(http, api_key, request_id)
    assert (unseen.status_code, unseen.json()["code"]) == (409, "preview_changed"), unseen.text
    preview = unseen.json()["preview"]
    seats = {tier.name: tier.max_seats for tier in get_settings().plan_tiers}
    assert preview["provider"] == provider and preview["quantity_after"] == seats[tiers[1]]
    stale = await apply(http, api_key, request_id, {"preview_id": "0" * 32})
    assert stale.json()["code"] == "preview_changed"
    assert (await read(http, api_key, request_id))["status"] == "new"  # nothing was started

    answer = await apply(http, api_key, request_id, {"preview_id": preview["id"]})
    assert answer.status_code == 202, answer.text
    assert answer.json()["preview"]["id"] == preview["id"]
    assert await fulfilment.advance(await run_of(request_id)) == "succeeded"

    done = await read(http, api_key, request_id)
    assert done["status"] == "applied"
    [step] = done["fulfilment"]["runs"][0]["steps"]
    assert (step["target"], step["operation"]) == (f"{provider}_subscription", "change_quantity")
    assert step["before"]["quantity"] == preview["quantity_before"]
    assert step["after"]["quantity"] == seats[tiers[1]]
    assert step["after"]["effective_on"] == preview["effective_on"]
    adapter = fulfilment._providers.get(provider)
    account = customer.get("zuora_account_id") or customer["stripe_customer_id"]
    lookup = AccountLookup(number=account) if provider == "zuora" else AccountLookup(id=account)
    found = await adapter.find_account(lookup)
    now = await adapter.active_subscription(found.id)
    assert any(charge.quantity == seats[tiers[1]] for charge in now.charges)


async def test_plans_list_the_tier_table(http: httpx.AsyncClient, api_key: str) -> None:
    answer = await http.get("/v1/plans", headers=auth(api_key))
    assert answer.status_code == 200, answer.text
    names = [tier["name"] for tier in answer.json()["tiers"]]
    assert names == [tier.name for tier in get_settings().plan_tiers]
    assert answer.json()["contract_terms_changed_on"] == "2019-04-01"


async def test_an_open_circuit_answers_503_with_retry_after_and_changes_nothing(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    request_id = await file(http, api_key, atelier("zuora_collection"))

    async def down() -> None:
        raise BillingError(ErrorCode.PROVIDER_UNAVAILABLE, "Zuora is down.")

    kept = fulfilment.guard
    fulfilment.guard = ProviderGuard(get_settings())
    try:
        for _ in range(get_settings().provider_circuit_failures):
            with pytest.raises(BillingError):
                await fulfilment.guard.call_once("zuora", down)
        answer = await apply(http, api_key, request_id)
    finally:
        fulfilment.guard = kept
    assert (answer.status_code, answer.json()["code"]) == (503, "provider_unavailable")
    assert 0 < int(answer.headers["Retry-After"]) <= get_settings().provider_circuit_open_seconds
    assert (await read(http, api_key, request_id))["status"] == "new"
    assert not await fetch(
        "SELECT 1 FROM fulfilment_runs WHERE change_request_id = $1", uuid.UUID(request_id)
    )


async def test_the_worker_runs_an_applied_request_and_the_sweep_resumes_a_stalled_run(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    from gateway.core.jobs import job_app
    from gateway.fulfilment.jobs import advancing, stalled_runs, sweep_runs

    deferred = await file(http, api_key, atelier("zuora_collection"))
    stalled = await file(http, api_key, atelier("stripe_customer_debit"))
    async with job_app.open_async():
        assert (await apply(http, api_key, deferred)).status_code == 202
    # A process killed right after its commit: the run is there, its job never was.
    assert (await apply(http, api_key, stalled)).status_code == 202
    await fetch(
        "UPDATE fulfilment_runs SET updated_at = now() - interval '5 minutes'"
        " WHERE change_request_id = $1",
        uuid.UUID(stalled),
    )
    stalled_run = await run_of(stalled)
    # A live process advancing it holds its advisory lock: the sweep leaves it alone.
    async with advancing(stalled_run) as held:
        assert held
        assert stalled_run not in await stalled_runs()
        async with advancing(stalled_run) as second:
            assert not second  # nor can a second job advance it meanwhile
    assert stalled_run in await stalled_runs()  # the holder gone, the lock is free again
    async with job_app.open_async():
        await sweep_runs.defer_async(timestamp=0)
        await job_app.run_worker_async(
            wait=False, install_signal_handlers=False, queues=["fulfilment"]
        )
    assert (await read(http, api_key, deferred))["status"] == "applied"
    assert (await read(http, api_key, stalled))["status"] == "applied"
    jobs = await fetch(
        "SELECT task_name, status, lock, queueing_lock FROM procrastinate_jobs"
        " WHERE task_name = 'fulfilment.advance_run'"
    )
    assert len(jobs) == 2 and {job["status"] for job in jobs} == {"succeeded"}
    # exclusion is the advisory lock, which dies with its process, not a job lock
    assert all(job["lock"] is None for job in jobs)
    assert all(job["queueing_lock"].startswith("fulfilment:") for job in jobs)


async def test_a_debit_in_flight_or_a_value_blocked_since_filing_changes_nothing(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    zuora, _stripe = emulators
    in_flight = await file(http, api_key, atelier("zuora_collection"))
    async with httpx.AsyncClient() as client:
        started = await client.post(
            f"{zuora}/_emulator/debit-in-flight",
            json={"account": "A00000101", "amount_minor": 4900, "currency": "EUR"},
        )
    assert started.status_code in (200, 201, 204), started.text
    before = await methods(fulfilment, "zuora", "A00000101")
    refused = await apply(http, api_key, in_flight)
    assert (refused.status_code, refused.json()["code"]) == (409, "collection_in_flight")
    assert refused.json()["safe_after"]
    assert (await read(http, api_key, in_flight))["status"] == "new"
    assert await methods(fulfilment, "zuora", "A00000101") == before

    blocked = await file(http, api_key, atelier("stripe_customer_debit"))
    entry = await http.post(
        "/v1/blocklist/entries",
        json={"kind": "iban", "value": NEW_IBAN, "reason": "chargeback ring"},
        headers=auth(api_key, str(uuid.uuid4())),
    )
    assert entry.status_code == 201, entry.text
    refused = await apply(http, api_key, blocked)
    assert (refused.status_code, refused.json()["code"]) == (422, "blocked_by_fraud_stop")
    assert not await fetch(
        "SELECT 1 FROM fulfilment_runs WHERE change_request_id = $1", uuid.UUID(blocked)
    )
    refusals = await fetch(
        "SELECT * FROM audit_records WHERE target_id = $1"
        " AND action = 'change_request.apply.refused'",
        blocked,
    )
    assert [(await read_payload(row) or {}).get("reason") for row in refusals] == [
        "blocked_by_fraud_stop"
    ]


async def test_a_retry_with_the_same_key_gets_the_first_answer(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
) -> None:
    request_id = await file(http, api_key, atelier("zuora_collection"))
    key = str(uuid.uuid4())
    path = f"/v1/change-requests/{request_id}/apply"
    first = await http.post(path, json={}, headers=auth(api_key, key))
    again = await http.post(path, json={}, headers=auth(api_key, key))
    assert first.status_code == again.status_code == 202, first.text
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    runs = await fetch(
        "SELECT count(*) AS n FROM fulfilment_runs WHERE change_request_id = $1",
        uuid.UUID(request_id),
    )
    assert runs[0]["n"] == 1


async def staff_member(username: str, role: Role) -> StaffMember:
    from audit.entry import SYSTEM
    from gateway.staff.service import create_staff

    await create_staff(username, f"{username}@example.com", role, SYSTEM, password="x" * 16)
    [row] = await fetch("SELECT id FROM staff_users WHERE username = $1", username)
    return StaffMember(row["id"], username, role)


async def test_a_support_tool_reads_who_has_it_the_outcome_and_the_review(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    """GET answers what the customer asks, without another system: who has the request, what
    happened at the providers, what the team lead's review said."""
    from gateway.change_requests.workflow import WorkflowService

    request_id = await file(http, api_key, atelier("zuora_collection"))
    filed = await read(http, api_key, request_id)
    assert filed["assignee"] is None and filed["outcome"] is None and filed["review"] is None
    sam = await staff_member("sam", Role.SPECIALIST)
    await WorkflowService(get_settings()).claim_next(sam)
    assert (await read(http, api_key, request_id))["assignee"]["username"] == "sam"

    assert (await apply(http, api_key, request_id)).status_code == 202
    assert (await read(http, api_key, request_id))["outcome"]["outcome"] == "applying"
    assert await fulfilment.advance(await run_of(request_id)) == "succeeded"
    applied = await read(http, api_key, request_id)
    assert applied["outcome"]["outcome"] == "applied" and applied["outcome"]["finished_at"]
    assert applied["review"] == {"outcome": "pending", "by": None, "at": None, "comment": None}

    lee = await staff_member("lee", Role.TEAM_LEAD)
    await WorkflowService(get_settings()).approve(lee, request_id)
    reviewed = await read(http, api_key, request_id)
    assert reviewed["status"] == "approved"
    assert reviewed["review"]["outcome"] == "approved"
    assert reviewed["review"]["by"] == {"username": "lee", "display_name": "lee"}
