"""The plan of an Apply: which provider calls, in which order, for which target. Pure: the
request's facts and the fresh pre-checks in, ordered steps out; no I/O.

An IBAN change per target is three operations a careful specialist does in the console:
the new method first, then it becomes the default, then each method it replaces is closed
(a default cannot be closed, so the order matters). A target whose provider already holds the
new IBAN as its default gets no steps. A plan change is one quantity change, on exactly the
date, proration and proration date that were previewed.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, cast

import msgspec

from gateway.change_requests.states import Kind
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.sentences import target_words
from gateway.i18n import Message

Target = Literal[
    "zuora_collection",
    "stripe_customer_debit",
    "stripe_connect_payout",
    "zuora_subscription",
    "stripe_subscription",
]
Operation = Literal[
    "create_sepa_method",
    "set_default_method",
    "close_method",
    "add_payout_account",
    "default_payout_account",
    "remove_payout_account",
    "change_quantity",
]
PROVIDER_OF_TARGET: dict[str, str] = {
    "zuora_collection": "zuora",
    "stripe_customer_debit": "stripe",
    "stripe_connect_payout": "stripe",
    "zuora_subscription": "zuora",
    "stripe_subscription": "stripe",
}
# Where a step finds the id of the method or bank account an earlier step created.
FROM_STEP = "new_id_from_position"


class TargetFacts(Protocol):
    """What the pre-checks read at a target's provider (gateway.fulfilment's TargetState)."""

    @property
    def target(self) -> str: ...
    @property
    def account_id(self) -> str | None: ...
    @property
    def default_method_id(self) -> str | None: ...
    @property
    def replaced_method_ids(self) -> list[str]: ...
    @property
    def nothing_to_do(self) -> bool: ...


class PreviewFacts(Protocol):
    """The price preview the specialist was shown (gateway.fulfilment's PlanPreview)."""

    @property
    def id(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def subscription_id(self) -> str: ...
    @property
    def charge_id(self) -> str: ...
    @property
    def quantity_before(self) -> int: ...
    @property
    def quantity_after(self) -> int: ...
    @property
    def effective_on(self) -> date: ...
    @property
    def proration(self) -> str: ...
    @property
    def proration_date(self) -> int | None: ...


@dataclass(frozen=True)
class RequestFacts:
    """What the plan needs of the change request (never the IBAN: steps decrypt it)."""

    id: uuid.UUID
    kind: Kind
    targets: tuple[str, ...] = ()  # an IBAN change's targets, as filed
    account_holder: str | None = None
    account_holder_email: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    mandate_signed_on: date | None = None  # the day the change is applied: the mandate's date


@dataclass(frozen=True)
class PlannedStep:
    position: int  # 1, 2, ... across the whole run
    target: Target
    provider: str
    operation: Operation
    inputs: dict[str, Any] = field(default_factory=dict)  # provider ids and names; no IBAN


def mandate_reference(request_id: uuid.UUID, target: str) -> str:
    """Unique per request and target, stable across runs: the Zuora adapter finds a method it
    created earlier by it, so a repeat never makes a second one (SEPA allows 35 characters)."""
    return f"BG-{request_id.hex[:20].upper()}-{'Z' if target.startswith('zuora') else 'S'}"


def build_plan(
    request: RequestFacts,
    targets: Sequence[TargetFacts],
    preview: PreviewFacts | None,
) -> list[PlannedStep]:
    if request.kind is Kind.PLAN_CHANGE:
        return _plan_change(preview)
    state_of = {state.target: state for state in targets}
    steps: list[PlannedStep] = []
    for target in request.targets:
        state = state_of.get(target)
        if state is None or state.account_id is None:
            raise BillingError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                Message(
                    "The gateway could not read {target} at its provider, so it cannot plan the "
                    "change there; try again in a few minutes.",
                    target=target_words(target),
                ),
                extra={"target": target},
                headers={"Retry-After": "30"},
            )
        if state.nothing_to_do:
            continue
        steps += _iban_steps(request, target, state, first=len(steps) + 1)
    return steps


def _iban_steps(
    request: RequestFacts, target: str, state: TargetFacts, *, first: int
) -> list[PlannedStep]:
    provider = PROVIDER_OF_TARGET[target]
    account = state.account_id
    if target == "stripe_connect_payout":
        create, default, close = (
            "add_payout_account",
            "default_payout_account",
            "remove_payout_account",
        )
        created_inputs: dict[str, Any] = {
            "account_id": account,
            "holder": request.account_holder,
        }
    else:
        create, default, close = "create_sepa_method", "set_default_method", "close_method"
        created_inputs = {
            "account_id": account,
            "holder": request.account_holder,
            "email": request.account_holder_email,
            "mandate_id": mandate_reference(request.id, target),
            "mandate_signed_on": (request.mandate_signed_on or date.today()).isoformat(),
            "bic": request.bic,
            "bank_name": request.bank_name,
        }
    steps = [
        PlannedStep(first, _target(target), provider, _operation(create), created_inputs),
        PlannedStep(
            first + 1,
            _target(target),
            provider,
            _operation(default),
            {
                "account_id": account,
                FROM_STEP: first,
                "previous_default_id": state.default_method_id,
            },
        ),
    ]
    for offset, old_id in enumerate(sorted(state.replaced_method_ids), start=2):
        steps.append(
            PlannedStep(
                first + offset,
                _target(target),
                provider,
                _operation(close),
                {"account_id": account, "method_id": old_id},
            )
        )
    return steps


def _plan_change(preview: PreviewFacts | None) -> list[PlannedStep]:
    if preview is None:
        raise BillingError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            Message(
                "The provider gave no price preview for this plan change, so it cannot be "
                "applied; try again in a few minutes."
            ),
            headers={"Retry-After": "30"},
        )
    target: Target = "zuora_subscription" if preview.provider == "zuora" else "stripe_subscription"
    return [
        PlannedStep(
            1,
            target,
            preview.provider,
            "change_quantity",
            {
                "subscription_id": preview.subscription_id,
                "charge_id": preview.charge_id,
                "quantity": preview.quantity_after,
                "quantity_before": preview.quantity_before,
                "effective_on": preview.effective_on.isoformat(),
                "proration": preview.proration,
                "proration_date": preview.proration_date,
                "preview_id": preview.id,
            },
        )
    ]


def plan_hash(steps: Sequence[PlannedStep]) -> str:
    """Names the exact plan: a team lead approves this, and a run is what was approved."""
    canonical = msgspec.json.encode(
        [[s.position, s.target, s.provider, s.operation, s.inputs] for s in steps],
        order="sorted",
    )
    return hashlib.sha256(canonical).hexdigest()[:32]


def step_idempotency_key(request_id: uuid.UUID, run_number: int, step: PlannedStep) -> str:
    return (
        f"bg:{request_id}:{run_number}:{step.provider}:{step.target}:"
        f"{step.operation}:{step.position}"
    )


def _target(name: str) -> Target:
    return cast(Target, name)


def _operation(name: str) -> Operation:
    return cast(Operation, name)
