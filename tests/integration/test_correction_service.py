"""CorrectionService over real PostgreSQL and an in-memory provider (tests/fake_billing.py):
filing, the approval bound to the payload, maker and checker, the durable steps, and what the
provider's news adds to a correction. The worker's part (`advance`) is run by the test."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from admin.correction_view import status_sentence
from audit.entry import Actor
from gateway.api_keys.service import ApiClient
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.provider_events import record_correction_event
from gateway.corrections.schemas import CancelCreate, RefundCreate, VoidCreate
from gateway.corrections.service import CorrectionService, Requester
from gateway.providers import Providers
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.database import superuser
from tests.fake_billing import FakeBilling

SAM = StaffMember(id=7001, username="sam", role=Role.SPECIALIST)
LEE = StaffMember(id=7002, username="lee", role=Role.TEAM_LEAD)
LOU = StaffMember(id=7003, username="lou", role=Role.TEAM_LEAD)
ADA = StaffMember(id=7004, username="ada", role=Role.ADMIN)
TOOL = ApiClient(uuid.uuid4(), "support-tool", frozenset(), None, "acme")
OTHER_TOOL = ApiClient(uuid.uuid4(), "other-tool", frozenset(), None, "globex")


@pytest.fixture
def fake() -> FakeBilling:
    billing = FakeBilling()
    billing.paid("pay_small", 4_900)
    billing.paid("pay_big", 250_000)
    return billing


@pytest.fixture
def service(app: Any, fake: FakeBilling) -> CorrectionService:
    async def no_worker(_: uuid.UUID) -> None:
        return None

    return CorrectionService(get_settings(), Providers({"stripe": fake}), defer=no_worker)


def refund(pid: str, amount: int | None = None, reason: str = "double charge") -> RefundCreate:
    return RefundCreate(provider="stripe", payment_id=pid, amount_minor=amount, reason=reason)


async def actions(target: str) -> list[str]:
    rows = await fetch("SELECT action FROM audit_records WHERE target_id = $1 ORDER BY id", target)
    return [row["action"] for row in rows]


async def test_a_refund_below_the_threshold_runs_at_once_and_refunds_once(
    service: CorrectionService, fake: FakeBilling
) -> None:
    filed = await service.file(refund("pay_small", 1_000), Requester.of_api_key(TOOL))
    assert filed.status == "running" and not filed.approval.required
    assert "run at once" in filed.approval.rule
    assert await service.advance(filed.id) == "succeeded"
    assert await service.advance(filed.id) == "succeeded"  # a second job changes nothing
    assert fake.calls == ["refund:pay_small:1000"]
    done = await service.read(filed.id)
    assert [(s.operation, s.status) for s in done.steps] == [("refund_payment", "succeeded")]
    assert done.steps[0].result and done.steps[0].result["refund_id"] == "re_1"
    assert await actions(str(filed.id)) == [
        "correction.file_refund.succeeded",
        "correction.step.succeeded",
        "correction.run.succeeded",
    ]


async def test_a_step_whose_answer_was_lost_is_repeated_with_the_same_key(
    service: CorrectionService, fake: FakeBilling
) -> None:
    filed = await service.file(refund("pay_small"), Requester.of_staff(SAM))
    [key] = [
        r["idempotency_key"]
        for r in await fetch(
            "SELECT idempotency_key FROM correction_steps WHERE correction_id = $1", filed.id
        )
    ]
    await fake.refund_payment("pay_small", fake.payments["pay_small"].amount, idempotency_key=key)
    # the process died after the provider refunded and before anything was recorded
    await fetch("UPDATE correction_steps SET status = 'calling' WHERE correction_id = $1", filed.id)
    assert await service.advance(filed.id) == "succeeded"
    assert fake.calls == ["refund:pay_small:4900"]  # one refund, never two


async def test_a_big_refund_waits_and_the_maker_cannot_approve_it(
    service: CorrectionService, fake: FakeBilling
) -> None:
    filed = await service.file(refund("pay_big"), Requester.of_staff(LEE))
    assert filed.status == "awaiting_approval" and filed.approval.required
    assert "1000.00 EUR" in filed.approval.rule
    assert await service.advance(filed.id) == "awaiting_approval"
    assert fake.calls == []
    with pytest.raises(BillingError) as maker:
        await service.approve(filed.id, LEE, filed.payload_hash)
    assert maker.value.code is ErrorCode.MAKER_CANNOT_APPROVE and maker.value.status == 403
    with pytest.raises(BillingError) as specialist:
        await service.approve(filed.id, SAM, filed.payload_hash)
    assert specialist.value.code is ErrorCode.ROLE_NOT_ALLOWED
    approved = await service.approve(filed.id, LOU, filed.payload_hash)
    assert approved.status == "running" and approved.approval.approved_by == "lou"
    assert await service.advance(filed.id) == "succeeded"
    assert fake.calls == ["refund:pay_big:250000"]
    assert "correction.approve.refused" in await actions(str(filed.id))


async def test_the_database_refuses_a_maker_approving_their_own_correction(
    service: CorrectionService,
) -> None:
    filed = await service.file(refund("pay_big"), Requester.of_staff(ADA))
    async with superuser() as connection:  # even past the service, and as an admin
        with pytest.raises(asyncpg.CheckViolationError):
            await connection.execute(
                "UPDATE corrections SET status = 'running', approved_by_staff_id = $2,"
                " approved_hash = payload_hash WHERE id = $1",
                filed.id,
                ADA.id,
            )
        with pytest.raises(asyncpg.CheckViolationError):  # nor runs one needing approval
            await connection.execute(
                "UPDATE corrections SET status = 'running' WHERE id = $1", filed.id
            )


async def test_an_approval_is_bound_to_the_payload_it_was_shown(
    service: CorrectionService, fake: FakeBilling
) -> None:
    filed = await service.file(refund("pay_big"), Requester.of_api_key(TOOL))
    with pytest.raises(BillingError) as stale:
        await service.approve(filed.id, LOU, "0" * 64)
    assert stale.value.code is ErrorCode.PAYLOAD_CHANGED
    # the stored payload changed after it was shown (by hand, in the database)
    async with superuser() as connection:
        await connection.execute(
            "UPDATE corrections SET payload = jsonb_set(payload,"
            " '{0,inputs,amount,amount_minor}', '249999') WHERE id = $1",
            filed.id,
        )
    with pytest.raises(BillingError) as changed:
        await service.approve(filed.id, LOU, filed.payload_hash)
    assert changed.value.code is ErrorCode.PAYLOAD_CHANGED and changed.value.status == 409
    assert fake.calls == []


async def test_a_payload_changed_after_approval_never_runs(
    service: CorrectionService, fake: FakeBilling
) -> None:
    filed = await service.file(refund("pay_big"), Requester.of_api_key(TOOL))
    await service.approve(filed.id, LOU, filed.payload_hash)
    async with superuser() as connection:
        await connection.execute(
            "UPDATE corrections SET payload = jsonb_set(payload,"
            " '{0,inputs,amount,amount_minor}', '1') WHERE id = $1",
            filed.id,
        )
    assert await service.advance(filed.id) == "failed"
    failed = await service.read(filed.id)
    assert failed.error_code == "payload_changed" and fake.calls == []


async def test_a_refused_correction_keeps_why(service: CorrectionService) -> None:
    filed = await service.file(refund("pay_big"), Requester.of_staff(SAM))
    with pytest.raises(BillingError):
        await service.refuse(filed.id, LOU, "   ")
    refused = await service.refuse(filed.id, LOU, "the customer kept the goods")
    assert refused.status == "refused"
    assert refused.approval.refused_by == "lou"
    assert refused.approval.refusal_reason == "the customer kept the goods"
    with pytest.raises(BillingError) as again:
        await service.approve(filed.id, ADA, filed.payload_hash)
    assert again.value.code is ErrorCode.INVALID_TRANSITION


async def test_refusals_at_filing_store_nothing_but_an_audit_entry(
    service: CorrectionService, fake: FakeBilling
) -> None:
    with pytest.raises(BillingError) as over:
        await service.file(refund("pay_small", 5_000), Requester.of_api_key(TOOL))
    assert over.value.code is ErrorCode.REFUND_EXCEEDS_PAYMENT
    assert over.value.extra["refundable"] == {"amount_minor": 4_900, "currency": "EUR"}
    with pytest.raises(BillingError) as card:
        await service.file(
            refund("pay_small", reason="card 4111 1111 1111 1111"), Requester.of_api_key(TOOL)
        )
    assert card.value.code is ErrorCode.CARD_NUMBER_NOT_ACCEPTED
    assert await fetch("SELECT id FROM corrections") == []
    assert await actions("stripe:pay_small") == ["correction.file_refund.refused"] * 2


async def test_two_refunds_filed_together_never_refund_more_than_is_left(
    service: CorrectionService,
) -> None:
    await service.file(refund("pay_small", 4_000), Requester.of_api_key(TOOL))
    with pytest.raises(BillingError) as second:
        await service.file(refund("pay_small", 1_000), Requester.of_api_key(TOOL))
    assert second.value.extra["refundable"]["amount_minor"] == 900


async def test_cancel_and_follow_up_run_in_order(
    service: CorrectionService, fake: FakeBilling
) -> None:
    fake.subscription("sub_inv")
    fake.open_invoice("in_open", 12_000, sub="sub_inv")
    order = CancelCreate(
        provider="stripe",
        subscription_id="sub_inv",
        then="void_open_invoice",
        reason="wrong plan",
        customer="acct_fake",
    )
    filed = await service.file(order, Requester.of_api_key(TOOL))
    assert [p.operation for p in filed.payload] == ["cancel_subscription", "void_invoice"]
    assert await service.advance(filed.id) == "succeeded"
    assert fake.calls == ["cancel:sub_inv", "void:in_open"]


async def test_a_refused_follow_up_fails_the_correction_and_is_recorded(
    service: CorrectionService, fake: FakeBilling
) -> None:
    fake.subscription("sub_card")
    fake.paid("pay_sub", 4_900, sub="sub_card")
    order = CancelCreate(
        provider="stripe",
        subscription_id="sub_card",
        then="refund_last_payment",
        reason="wrong plan",
        customer="acct_fake",
    )
    filed = await service.file(order, Requester.of_api_key(TOOL))
    assert filed.payload[1].inputs["payment_id"] == "pay_sub"
    fake.refuse_next["refund"] = BillingError(ErrorCode.PROVIDER_REJECTED, "Refused.")
    assert await service.advance(filed.id) == "failed"
    failed = await service.read(filed.id)
    assert [(s.operation, s.status) for s in failed.steps] == [
        ("cancel_subscription", "succeeded"),
        ("refund_payment", "failed"),
    ]
    assert failed.error_code == "provider_rejected"
    assert fake.calls == ["cancel:sub_card"]
    assert "correction.step.failed" in await actions(str(filed.id))


async def test_a_lead_retries_a_failed_correction_from_the_stopped_step_only(
    service: CorrectionService, fake: FakeBilling
) -> None:
    fake.subscription("sub_card")
    fake.paid("pay_sub", 4_900, sub="sub_card")
    order = CancelCreate(
        provider="stripe",
        subscription_id="sub_card",
        then="refund_last_payment",
        reason="wrong plan",
        customer="acct_fake",
    )
    filed = await service.file(order, Requester.of_api_key(TOOL))
    fake.refuse_next["refund"] = BillingError(ErrorCode.PROVIDER_REJECTED, "Refused once.")
    assert await service.advance(filed.id) == "failed"
    with pytest.raises(BillingError) as not_a_lead:
        await service.retry(filed.id, SAM)
    assert not_a_lead.value.code is ErrorCode.ROLE_NOT_ALLOWED
    retried = await service.retry(filed.id, LEE)
    assert retried.status == "running" and retried.error_code is None
    assert await service.advance(filed.id) == "succeeded"
    # the cancel is not made again; the refund is made once, under the step's first key
    assert fake.calls == ["cancel:sub_card", "refund:pay_sub:4900"]
    with pytest.raises(BillingError) as again:
        await service.retry(filed.id, LEE)
    assert again.value.code is ErrorCode.INVALID_TRANSITION
    assert "correction.retry.succeeded" in await actions(str(filed.id))


async def test_a_lead_settles_a_stopped_step_by_hand_and_the_correction_goes_on(
    service: CorrectionService, fake: FakeBilling
) -> None:
    fake.subscription("sub_card")
    fake.paid("pay_sub", 4_900, sub="sub_card")
    order = CancelCreate(
        provider="stripe",
        subscription_id="sub_card",
        then="refund_last_payment",
        reason="wrong plan",
    )
    filed = await service.file(order, Requester.of_api_key(TOOL))
    fake.refuse_next["cancel"] = BillingError(ErrorCode.PROVIDER_REJECTED, "Refused.")
    assert await service.advance(filed.id) == "failed"
    with pytest.raises(BillingError) as no_reason:
        await service.settle_by_hand(filed.id, LEE, "  ")
    assert no_reason.value.code is ErrorCode.REASON_REQUIRED
    settled = await service.settle_by_hand(
        filed.id, LEE, "cancelled in the Stripe dashboard, checked it shows canceled"
    )
    assert settled.status == "running"
    assert await service.advance(filed.id) == "succeeded"
    done = await service.read(filed.id)
    assert [(s.operation, s.status) for s in done.steps] == [
        ("cancel_subscription", "settled_by_hand"),
        ("refund_payment", "succeeded"),
    ]
    assert done.steps[0].settled_reason and "dashboard" in done.steps[0].settled_reason
    # the page never claims the gateway did what a person attests
    assert "step 1, which a team lead settled by hand" in status_sentence(done)
    assert fake.calls == ["refund:pay_sub:4900"]  # the cancel was never called again
    assert "correction.settle_step_by_hand.succeeded" in await actions(str(filed.id))


async def test_an_api_key_sees_its_own_clients_corrections_only(
    service: CorrectionService,
) -> None:
    mine = await service.file(refund("pay_small", 100), Requester.of_api_key(TOOL))
    await service.file(refund("pay_small", 100), Requester.of_api_key(OTHER_TOOL))
    assert (await service.read(mine.id, TOOL)).id == mine.id
    with pytest.raises(BillingError) as hidden:
        await service.read(mine.id, OTHER_TOOL)
    assert hidden.value.code is ErrorCode.CORRECTION_NOT_FOUND
    page = await service.list(client=TOOL)
    assert [c.id for c in page.items] == [mine.id]
    assert len((await service.list()).items) == 2  # staff see all


async def test_the_list_pages_newest_first(service: CorrectionService) -> None:
    filed = [
        (await service.file(refund("pay_big", n), Requester.of_api_key(TOOL))).id
        for n in (100, 200, 300)
    ]
    first = await service.list(limit=2)
    assert [c.id for c in first.items] == filed[::-1][:2] and first.next_cursor
    rest = await service.list(limit=2, cursor=first.next_cursor)
    assert [c.id for c in rest.items] == [filed[0]] and rest.next_cursor is None


async def test_a_void_and_the_providers_news_about_it(
    service: CorrectionService, fake: FakeBilling
) -> None:
    fake.open_invoice("in_void", 500)
    filed = await service.file(
        VoidCreate(provider="stripe", invoice_id="in_void", reason="sent twice"),
        Requester.of_staff(SAM),
    )
    await service.advance(filed.id)
    news = {"event": "invoice.voided", "status": "void"}
    async with transaction():
        assert await record_correction_event("stripe", "invoice", "in_void", news, "evt_1")
        assert await record_correction_event("stripe", "invoice", "in_void", news, "evt_1")
        assert not await record_correction_event("stripe", "invoice", "in_nobody", news, "evt_2")
    events = (await service.read(filed.id)).provider_events
    assert [e["event_id"] for e in events] == ["evt_1"]
    assert events[0]["status"] == "void"
    assert "correction.provider_event.recorded" in await actions(str(filed.id))


async def test_the_actor_of_a_filing_is_kept(service: CorrectionService) -> None:
    filed = await service.file(
        RefundCreate(
            provider="stripe",
            payment_id="pay_small",
            amount_minor=100,
            reason="goodwill",
            ticket="zendesk #1001",
        ),
        Requester(Actor("api_key", str(TOOL.id), TOOL.name), client=TOOL),
    )
    assert (filed.ticket, filed.ticket_display) == ("zendesk:1001", "zendesk #1001")
    assert filed.requested_by.kind == "api_key" and filed.requested_by.name == "support-tool"
