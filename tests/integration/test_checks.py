"""The live pre-checks against the Zuora emulator over loopback HTTP and real PostgreSQL: a
debit in flight refuses, names the collection and when it is safe; settled, the IBAN change is
clear; the checks are stored and My Queue shows them; a plan change is previewed by Zuora on
the billing-cycle day, and an old contract blocks until its return is recorded (audited)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from adapters.ports import Contacts, next_bill_cycle_date
from adapters.serving import BackgroundServer
from adapters.stripe.emulator.app import create_stripe_emulator
from adapters.stripe.emulator.connect import Connect
from adapters.stripe.emulator.seed import seed_demo as seed_stripe_demo
from adapters.stripe.emulator.state import StripeAccount
from adapters.zuora.emulator.app import create_emulator
from adapters.zuora.emulator.seed import seed_demo
from adapters.zuora.emulator.state import Tenant
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import ErrorCode
from gateway.fulfilment.checks import ChecksService
from gateway.providers import providers_from_settings
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.database import auth
from tests.payloads import VALID_IBAN, iban_change, plan_change

TODAY = datetime.now(UTC).date()
NEW_IBAN = "FR7630006000011234567890189"


@dataclass(frozen=True)
class Emulators:
    zuora: str
    stripe: str
    stripe_account: StripeAccount


@pytest.fixture(scope="module")
def emulators() -> Iterator[Emulators]:
    """Both sandbox emulators, seeded with the demo, on the ports the settings point the
    gateway's adapters at (the in-process app's too: intake reads Stripe)."""
    settings = get_settings()
    tenant, account = Tenant(), StripeAccount()
    seed_demo(tenant)
    seed_stripe_demo(account)
    zuora = BackgroundServer(create_emulator(tenant), settings.zuora_emulator_port).start()
    stripe = BackgroundServer(create_stripe_emulator(account), settings.stripe_emulator_port)
    stripe.start()
    try:
        yield Emulators(zuora.base, stripe.base, account)
    finally:
        stripe.stop()
        zuora.stop()


@pytest.fixture
async def checks_service(emulators: Emulators) -> AsyncIterator[ChecksService]:
    settings = get_settings()
    providers = providers_from_settings(settings)
    yield ChecksService(settings, providers, Cipher(settings.keys))
    await providers.close()


async def _file(http: httpx.AsyncClient, api_key: str, body: dict[str, object]) -> uuid.UUID:
    answer = await http.post(
        "/v1/change-requests", json=body, headers=auth(api_key, str(uuid.uuid4()))
    )
    assert answer.status_code == 201, answer.text
    return uuid.UUID(answer.json()["id"])


async def _my_queue(request_id: uuid.UUID) -> dict[str, object]:
    await fetch("UPDATE change_requests SET assignee_id = 4242 WHERE id = $1", request_id)
    async with transaction():
        await fetch("SELECT set_config('bg.staff_user_id', '4242', true)")
        [row] = await fetch(
            "SELECT collection_in_flight, other_active_bank_methods, needs_new_contract"
            " FROM my_queue WHERE id = $1",
            request_id,
        )
    return row


async def test_a_debit_in_flight_refuses_until_it_settles(
    http: httpx.AsyncClient, api_key: str, checks_service: ChecksService, emulators: Emulators
) -> None:
    body = iban_change(targets=["zuora_collection"])
    request_id = await _file(http, api_key, body)
    assert (await _my_queue(request_id))["collection_in_flight"] == "not checked yet"
    async with httpx.AsyncClient(base_url=emulators.zuora) as emulator:
        await emulator.delete("/_emulator/debit-in-flight", params={"account": "A00000101"})
        started = await emulator.post(
            "/_emulator/debit-in-flight",
            json={"account": "A00000101", "amount_minor": 4900, "currency": "EUR"},
        )
        assert started.status_code == 201, started.text

        checks = await checks_service.refresh(request_id, "claim")
        refusal = checks.refusal(frozenset())
        assert refusal is not None and refusal.code is ErrorCode.COLLECTION_IN_FLIGHT
        assert "49.00 EUR from FR****2606" in refusal.detail
        [state] = checks.targets
        [debit] = state.collections_in_flight
        assert debit.on == TODAY and debit.safe_after > TODAY
        assert refusal.extra["safe_after"] == debit.safe_after.isoformat()
        assert state.replaced_method_ids == [state.default_method_id]
        shown = await _my_queue(request_id)
        assert str(shown["collection_in_flight"]).startswith("Zuora is collecting")
        assert "FR****2606 (default)" in str(shown["other_active_bank_methods"])
        stored = await checks_service.stored(request_id)
        assert stored is not None and stored.findings == checks.findings
        assert "DE89370400440532013000" not in str(
            await fetch("SELECT checks FROM change_requests")
        )

        await emulator.delete("/_emulator/debit-in-flight", params={"account": "A00000101"})
    settled = await checks_service.refresh(request_id, "manual")
    assert "collection_in_flight" not in {f.code for f in settled.findings}
    assert settled.refusal(frozenset()) is None
    assert str((await _my_queue(request_id))["collection_in_flight"]).startswith(
        "No direct debit is being collected."
    )


async def test_a_plan_change_previewed_by_zuora_and_the_contract_gate(
    http: httpx.AsyncClient, api_key: str, checks_service: ChecksService
) -> None:
    body = plan_change(
        subscription_ref="A-S00000103",
        current_tier="business",
        target_tier="enterprise",
        contract_signed_on="2018-02-01",
    )
    body["customer"] = {"zuora_account_id": "A00000103"}
    request_id = await _file(http, api_key, body)

    checks = await checks_service.refresh(request_id, "claim")
    preview = checks.preview
    assert preview is not None and preview.provider == "zuora"
    assert (preview.quantity_before, preview.quantity_after) == (8, 50)
    assert preview.effective_on == next_bill_cycle_date(15, TODAY)
    assert preview.recurring_after_minor > preview.recurring_before_minor
    refusal = checks.refusal(frozenset())
    assert refusal is not None and refusal.code is ErrorCode.NEEDS_NEW_CONTRACT
    assert (await _my_queue(request_id))["needs_new_contract"] is True

    lead = StaffMember(id=7, username="lee", role=Role.TEAM_LEAD)
    back = await checks_service.record_contract_return(
        lead, request_id, "signed PDF by email from the director", TODAY
    )
    assert back.refusal(frozenset()) is None
    assert back.preview is not None and back.preview.id == preview.id  # same provider state
    assert (await _my_queue(request_id))["needs_new_contract"] is False
    [entry] = await fetch(
        "SELECT actor_id FROM audit_records WHERE target_id = $1"
        " AND action = 'change_request.contract_return.recorded'",
        str(request_id),
    )
    assert entry["actor_id"] == "lee"


async def test_a_filed_tier_zuora_does_not_show_is_refused(
    http: httpx.AsyncClient, api_key: str, checks_service: ChecksService
) -> None:
    body = plan_change(
        subscription_ref="A-S00000103", current_tier="team", target_tier="enterprise"
    )
    body["customer"] = {"zuora_account_id": "A00000103"}
    checks = await checks_service.refresh(await _file(http, api_key, body), "claim")
    refusal = checks.refusal(frozenset())
    assert refusal is not None and refusal.code is ErrorCode.CURRENT_TIER_MISMATCH
    assert "8 seats (tier business)" in refusal.detail


async def test_a_stripe_debit_in_flight_and_the_customers_identity(
    http: httpx.AsyncClient, api_key: str, checks_service: ChecksService
) -> None:
    body = iban_change(
        iban=NEW_IBAN, targets=["stripe_customer_debit"], account_holder="Brasserie du Port SAS"
    )
    body["customer"] = {"stripe_customer_id": "cus_DemoBrasserie2"}
    body["identity"] = {
        "name": "Brasserie du Port SAS",
        "email": "billing@shop-102.example",
        "postal_address": {
            "line1": "3 quai du Port",
            "city": "Marseille",
            "postal_code": "13002",
            "country": "FR",
        },
    }
    checks = await checks_service.refresh(await _file(http, api_key, body), "claim")

    refusal = checks.refusal(frozenset())
    assert refusal is not None and refusal.code is ErrorCode.COLLECTION_IN_FLIGHT
    assert refusal.detail.startswith("Stripe is collecting a direct debit right now: 29.00 EUR")
    facts = {fact.fact: fact.state for fact in checks.identity}
    assert facts["name"] == "matched"
    # Email and address are compared once the adapter reads the customer's contact.
    readable = isinstance(checks_service._providers.get("stripe"), Contacts)
    expected = "matched" if readable else "not_checked"
    assert facts["email"] == facts["postal_address"] == expected
    [state] = checks.targets
    assert [m.masked for m in state.methods] == ["DE****3000"]
    assert state.replaced_method_ids == [state.default_method_id]

    # The IBAN it already pays with: nothing to do, so the debit is not at risk.
    body["payload"]["iban"] = VALID_IBAN
    body["ticket"] = {"system": "zendesk", "id": uuid.uuid4().hex[:12]}
    same = await checks_service.refresh(await _file(http, api_key, body), "claim")
    assert same.targets[0].nothing_to_do and same.targets[0].replaced_method_ids == []
    assert {f.code: f.severity for f in same.findings}["collection_in_flight"] == "info"
    assert same.refusal(frozenset()) is None


async def test_a_partner_payout_change_checks_the_holder_at_intake_and_before_apply(
    http: httpx.AsyncClient, api_key: str, checks_service: ChecksService, emulators: Emulators
) -> None:
    body = iban_change(targets=["stripe_connect_payout"], account_holder="Le Petit Port")
    body["customer"] = {"stripe_connect_account_id": "acct_DemoBrasserie"}
    refused = await http.post(
        "/v1/change-requests", json=body, headers=auth(api_key, str(uuid.uuid4()))
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "holder_not_legal_name")
    assert "Brasserie du Port SAS" in refused.json()["detail"]

    connect = Connect(emulators.stripe_account)
    [bank] = [b for b in emulators.stripe_account.all("bank_account")]
    connect.create_payout("acct_DemoBrasserie", 50_000, bank["id"])["status"] = "in_transit"
    body["payload"]["account_holder"] = "BRASSERIE DU PORT S.A.S."
    checks = await checks_service.refresh(await _file(http, api_key, body), "claim")
    assert "holder_not_legal_name" not in {f.code for f in checks.findings}
    [state] = checks.targets
    assert [p.amount_minor for p in state.payouts_in_transit] == [50_000]
    assert state.replaced_method_ids == [bank["id"]]
    refusal = checks.refusal(frozenset())
    # No ID document or proof of address recorded for a partner: acknowledge or check them.
    assert refusal is not None and refusal.code is ErrorCode.ACKNOWLEDGEMENT_REQUIRED
    assert refusal.extra["codes"] == ["identity_id_document", "identity_proof_of_address"]


async def test_a_stripe_upsell_is_previewed_with_a_fixed_proration_date(
    http: httpx.AsyncClient, api_key: str, checks_service: ChecksService
) -> None:
    body = plan_change(
        subscription_ref="sub_DemoAtelier01", current_tier="team", target_tier="business"
    )
    body["customer"] = {"stripe_customer_id": "cus_DemoAtelier01"}
    checks = await checks_service.refresh(await _file(http, api_key, body), "claim")
    preview = checks.preview
    assert preview is not None and checks.refusal(frozenset()) is None
    assert (preview.provider, preview.proration) == ("stripe", "create_prorations")
    assert (preview.quantity_before, preview.quantity_after) == (3, 10)
    assert preview.proration_date is not None and preview.effective_on == TODAY
    assert (preview.recurring_before_minor, preview.recurring_after_minor) == (8700, 29000)
    again = await checks_service.refresh(
        await _file(
            http, api_key, {**body, "ticket": {"system": "intercom", "id": uuid.uuid4().hex[:12]}}
        ),
        "apply",
    )
    assert again.preview is not None and again.preview.id == preview.id


async def test_a_claim_defers_the_checks_and_the_worker_stores_them(
    http: httpx.AsyncClient, api_key: str, emulators: Emulators
) -> None:
    from gateway.change_requests.workflow import WorkflowService
    from gateway.core.jobs import job_app

    request_id = await _file(http, api_key, iban_change(targets=["zuora_collection"]))
    sam = StaffMember(id=4243, username="sam", role=Role.SPECIALIST)
    async with job_app.open_async():
        claimed = await WorkflowService(get_settings()).claim_next(sam)
        assert claimed.id == request_id
        [job] = await fetch(
            "SELECT args FROM procrastinate_jobs WHERE task_name = 'fulfilment.refresh_checks'"
        )
        args = json.loads(job["args"]) if isinstance(job["args"], str) else job["args"]
        assert args == {"request_id": str(request_id), "moment": "claim"}
        await job_app.run_worker_async(
            queues=["fulfilment"], wait=False, install_signal_handlers=False
        )
    [done] = await fetch(
        "SELECT status FROM procrastinate_jobs WHERE task_name = 'fulfilment.refresh_checks'"
    )
    assert done["status"] == "succeeded"
    [row] = await fetch("SELECT checks FROM change_requests WHERE id = $1", request_id)
    stored = json.loads(row["checks"])
    assert stored["moment"] == "claim" and stored["targets"][0]["provider"] == "zuora"
    assert stored["targets"][0]["readable"] is True


async def test_the_filer_records_the_identity_facts_checked(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = iban_change(targets=["zuora_collection"])
    body["identity"] = {
        "name": "Atelier Lumière SARL",
        "email": "billing@a00000101.example",
        "id_document": "passport",
        "proof_of_address_dated": TODAY.isoformat(),
    }
    request_id = await _file(http, api_key, body)
    [row] = await fetch("SELECT details FROM change_requests WHERE id = $1", request_id)
    assert json.loads(row["details"])["identity"]["id_document"] == "passport"

    body["ticket"] = {"system": "zendesk", "id": uuid.uuid4().hex[:12]}
    body["identity"] = {"proof_of_address_dated": "2020-01-01"}
    old = await http.post("/v1/change-requests", json=body, headers=auth(api_key, "old-proof"))
    assert (old.status_code, old.json()["code"]) == (400, "validation_failed")
    assert "within the last 3 months" in old.json()["detail"]
    body["identity"] = {"id_document": "library card"}
    odd = await http.post("/v1/change-requests", json=body, headers=auth(api_key, "odd-id"))
    assert odd.status_code in (400, 422) and odd.json()["code"] == "validation_failed"
