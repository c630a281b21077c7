"""Filing a correction: who files it, the text it may hold, and the one transaction that
stores it with its steps, its audit entry and the answer under the Idempotency-Key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.status_codes import HTTP_202_ACCEPTED

from adapters.money import format_money
from audit.actions import Action
from audit.entry import Actor
from gateway.api_keys.service import ApiClient
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import as_json
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import refuse_card_or_iban
from gateway.corrections import queries
from gateway.corrections.notification_events import record_correction_event
from gateway.corrections.plan import CorrectionPlan, Order, computation_json, step_key
from gateway.corrections.policy import ApprovalPolicy, approval_needed
from gateway.corrections.records import audit, correction_read
from gateway.corrections.schemas import (
    CorrectionRead,
    RefundCreate,
    RequestedBy,
    VoidCreate,
    money,
)
from gateway.i18n import Message
from gateway.idempotency.answers import AnswerSlot, earlier_answer, store_answer
from gateway.notifications.events import EventType
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings


@dataclass(frozen=True)
class Requester:
    """Who files: a staff member (the maker) or an API key (its client sees the correction)."""

    actor: Actor
    staff_id: int | None = None
    role: Role | None = None
    client: ApiClient | None = None
    on_behalf_of: RequestedBy | None = None  # who the support tool says asked

    @classmethod
    def of_staff(cls, staff: StaffMember) -> Requester:
        return cls(staff.actor, staff.id, staff.role)

    @classmethod
    def of_api_key(cls, client: ApiClient) -> Requester:
        return cls(client.actor, client=client)


# The staff roles that file corrections (the customer page); an API key files for its client.
FILERS = frozenset({Role.SPECIALIST, Role.TEAM_LEAD, Role.ADMIN})


def refuse_other_roles(requester: Requester) -> None:
    """Named roles only: an operations member (or a role added later) files none."""
    if requester.staff_id is not None and requester.role not in FILERS:
        raise BillingError(
            ErrorCode.ROLE_NOT_ALLOWED,
            Message("Corrections are filed by specialists, team leads and admins."),
        )


def refuse_sensitive_text(*texts: str | None) -> None:
    """Reasons and tickets are shown on every screen and kept in the audit trail."""
    refuse_card_or_iban(
        *texts,
        card=Message(
            "The text holds a card number. Leave card details out of reasons and tickets."
        ),
        iban=Message("The text holds an IBAN. Leave bank details out of reasons and tickets."),
        iban_first=True,
    )


async def store_correction(
    settings: Settings,
    policy: ApprovalPolicy,
    order: Order,
    requester: Requester,
    plan: CorrectionPlan,
    on_behalf_of: RequestedBy | None,
    answer: AnswerSlot | None,
) -> tuple[uuid.UUID, CorrectionRead]:
    """The correction, its steps and the audit entry, with the answer stored under the
    Idempotency-Key: one transaction. A retry that took over from a slow first attempt gets
    that attempt's answer (and stores nothing of its own)."""
    correction_id = uuid.uuid4()
    decision = approval_needed(policy, plan.kind, plan.refunds())
    status = "awaiting_approval" if decision.required else "running"
    requested_by: dict[str, Any] = {
        "kind": requester.actor.kind,
        "id": requester.actor.id,
        "role": requester.actor.role,
        "name": requester.client.name if requester.client else requester.actor.id,
    }
    if on_behalf_of is not None:
        requested_by["on_behalf_of"] = {"name": on_behalf_of.name, "email": on_behalf_of.email}
    computation = computation_json(plan.computation) if plan.computation else None
    async with transaction():
        earlier = await earlier_answer(answer, CorrectionRead)
        if earlier is not None:
            return earlier.id, earlier
        await refuse_refunds_filed_meanwhile(plan)
        await fetch(
            queries.INSERT_CORRECTION,
            correction_id,
            plan.kind,
            plan.provider,
            plan.account_id,
            plan.object_id,
            status,
            order.reason,
            order.ticket,
            as_json(order_json(order)),
            as_json(plan.payload),
            plan.payload_hash,
            as_json(computation) if computation else None,
            decision.required,
            decision.rule,
            requester.client.client if requester.client else None,
            as_json(requested_by),
            requester.staff_id,
            float(settings.apply_deadline_seconds),
        )
        for step in plan.steps:
            await fetch(
                queries.INSERT_STEP,
                uuid.uuid4(),
                correction_id,
                step.position,
                plan.provider,
                step.operation,
                as_json(step.inputs),
                step_key(correction_id, plan.provider, step.operation, step.position),
                list(step.object_ids),
            )
        row = {"id": correction_id, "account_id": plan.account_id}
        await audit(
            requester.actor,
            row,
            Action.named("correction", f"file_{plan.kind}", "succeeded"),
            {
                "status": status,
                "payload": plan.payload,
                "payload_hash": plan.payload_hash,
                "approval_rule": decision.rule,
                **({"computation": computation} if computation else {}),
            },
            reason=order.reason,
        )
        await record_correction_event(EventType.CORRECTION_FILED, correction_id)
        if status == "awaiting_approval":
            await record_correction_event(EventType.CORRECTION_AWAITING_APPROVAL, correction_id)
        read = await correction_read(correction_id)
        await store_answer(answer, HTTP_202_ACCEPTED, read)
    return correction_id, read


async def refuse_refunds_filed_meanwhile(plan: CorrectionPlan) -> None:
    """Two refunds of one payment filed at once: the second to commit sees the first (a lock
    per payment until the commit) and never takes more than the provider had left."""
    refunds = [s for s in plan.steps if s.refundable_minor is not None]
    for step in refunds:
        payment_id = str(step.inputs["payment_id"])
        await fetch(
            "SELECT pg_advisory_xact_lock(hashtextextended('correction-payment:' || $1, 0))",
            f"{plan.provider}:{payment_id}",
        )
    held = await queries.reserved_on(plan.provider, [str(s.inputs["payment_id"]) for s in refunds])
    for step in refunds:
        payment_id, amount = str(step.inputs["payment_id"]), step.inputs["amount"]
        left = int(step.refundable_minor or 0) - held.get(payment_id, 0)
        if int(amount["amount_minor"]) > left:
            currency = str(amount["currency"])
            raise BillingError(
                ErrorCode.REFUND_EXCEEDS_PAYMENT,
                Message(
                    "Another refund of this payment was filed meanwhile: at most {left} is left "
                    "to refund on it.",
                    left=format_money(max(left, 0), currency),
                ),
                extra={"refundable": money(max(left, 0), currency)},
            )


def kind_of(order: Order) -> str:
    if isinstance(order, RefundCreate):
        return "refund"
    return "void_invoice" if isinstance(order, VoidCreate) else "cancel_subscription"


def object_of(order: Order) -> str:
    if isinstance(order, RefundCreate):
        return order.payment_id
    return order.invoice_id if isinstance(order, VoidCreate) else order.subscription_id


def order_json(order: Order) -> dict[str, Any]:
    filed = msgspec.to_builtins(order)
    filed.pop("reason", None)  # kept in its own column and the audit entry's reason
    filed.pop("requested_by", None)
    return dict(filed)
