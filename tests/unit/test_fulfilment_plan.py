"""The plan of an Apply, for every kind and target: pure, so checked without any provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date

import pytest

from gateway.change_requests.states import Kind
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.plan import (
    FROM_STEP,
    PlannedStep,
    RequestFacts,
    build_plan,
    mandate_reference,
    plan_hash,
    step_idempotency_key,
)

REQUEST_ID = uuid.UUID("7d1f8a52-9c3e-4b8e-a1d2-0f6e5c4b3a21")


@dataclass(frozen=True)
class State:
    target: str
    account_id: str | None
    default_method_id: str | None = None
    replaced_method_ids: list[str] = field(default_factory=list)
    nothing_to_do: bool = False


@dataclass(frozen=True)
class Preview:
    id: str = "ab12" * 8
    provider: str = "zuora"
    subscription_id: str = "A-S00000103"
    charge_id: str = "C-00000042"
    quantity_before: int = 5
    quantity_after: int = 50
    effective_on: date = date(2027, 1, 5)
    proration: str = "none"
    proration_date: int | None = None


def iban_change(*targets: str) -> RequestFacts:
    return RequestFacts(
        id=REQUEST_ID,
        kind=Kind.IBAN_CHANGE,
        targets=targets,
        account_holder="Atelier Lumière SARL",
        account_holder_email="compta@atelier.example",
        bic="BNPAFRPP",
        bank_name="BNP Paribas",
        mandate_signed_on=date(2026, 12, 5),
    )


def shape(steps: list[PlannedStep]) -> list[tuple[int, str, str, str]]:
    return [(s.position, s.target, s.provider, s.operation) for s in steps]


def test_zuora_collection_creates_makes_default_then_closes_each_old_method() -> None:
    state = State("zuora_collection", "A00000101", "pm_old1", ["pm_old1", "pm_old2"])
    steps = build_plan(iban_change("zuora_collection"), [state], None)
    assert shape(steps) == [
        (1, "zuora_collection", "zuora", "create_sepa_method"),
        (2, "zuora_collection", "zuora", "set_default_method"),
        (3, "zuora_collection", "zuora", "close_method"),
        (4, "zuora_collection", "zuora", "close_method"),
    ]
    create, default, *closes = steps
    assert create.inputs["mandate_id"] == mandate_reference(REQUEST_ID, "zuora_collection")
    assert create.inputs["holder"] == "Atelier Lumière SARL"
    assert create.inputs["mandate_signed_on"] == "2026-12-05"
    assert default.inputs[FROM_STEP] == 1
    assert default.inputs["previous_default_id"] == "pm_old1"
    assert [c.inputs["method_id"] for c in closes] == ["pm_old1", "pm_old2"]
    assert all("iban" not in repr(step.inputs).lower() for step in steps)


def test_stripe_customer_debit_detaches_the_old_method() -> None:
    state = State("stripe_customer_debit", "cus_DemoAtelier01", "pm_A", ["pm_A"])
    steps = build_plan(iban_change("stripe_customer_debit"), [state], None)
    assert shape(steps) == [
        (1, "stripe_customer_debit", "stripe", "create_sepa_method"),
        (2, "stripe_customer_debit", "stripe", "set_default_method"),
        (3, "stripe_customer_debit", "stripe", "close_method"),
    ]
    assert steps[0].inputs["mandate_id"].endswith("-S")


def test_connect_payout_adds_defaults_then_removes_the_old_bank_account() -> None:
    state = State("stripe_connect_payout", "acct_DemoBrasserie", "ba_old", ["ba_old"])
    steps = build_plan(iban_change("stripe_connect_payout"), [state], None)
    assert shape(steps) == [
        (1, "stripe_connect_payout", "stripe", "add_payout_account"),
        (2, "stripe_connect_payout", "stripe", "default_payout_account"),
        (3, "stripe_connect_payout", "stripe", "remove_payout_account"),
    ]
    assert steps[0].inputs == {"account_id": "acct_DemoBrasserie", "holder": "Atelier Lumière SARL"}


def test_every_target_at_once_numbers_the_steps_across_the_run() -> None:
    states = [
        State("zuora_collection", "A1", "z_old", ["z_old"]),
        State("stripe_customer_debit", "cus_1", "pm_old", ["pm_old"]),
        State("stripe_connect_payout", "acct_1", "ba_old", ["ba_old"]),
    ]
    steps = build_plan(
        iban_change("zuora_collection", "stripe_customer_debit", "stripe_connect_payout"),
        states,
        None,
    )
    assert [s.position for s in steps] == list(range(1, 10))
    defaults = [s for s in steps if s.operation.startswith(("set", "default"))]
    assert [s.inputs[FROM_STEP] for s in defaults] == [1, 4, 7]


def test_a_target_that_holds_the_new_iban_already_gets_no_steps() -> None:
    states = [
        State("zuora_collection", "A1", "z_new", [], nothing_to_do=True),
        State("stripe_customer_debit", "cus_1", "pm_old", ["pm_old"]),
    ]
    steps = build_plan(iban_change("zuora_collection", "stripe_customer_debit"), states, None)
    assert {s.target for s in steps} == {"stripe_customer_debit"}
    assert steps[0].position == 1
    everything_done = [replace(state, nothing_to_do=True) for state in states]
    assert build_plan(iban_change("zuora_collection"), everything_done, None) == []


def test_no_old_method_means_no_close_step() -> None:
    steps = build_plan(iban_change("zuora_collection"), [State("zuora_collection", "A1")], None)
    assert [s.operation for s in steps] == ["create_sepa_method", "set_default_method"]


@pytest.mark.parametrize("state", [None, State("zuora_collection", None)])
def test_a_target_the_checks_could_not_read_is_not_planned_blind(state: State | None) -> None:
    with pytest.raises(BillingError) as refused:
        build_plan(iban_change("zuora_collection"), [state] if state else [], None)
    assert refused.value.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert refused.value.headers["Retry-After"]


@pytest.mark.parametrize(
    ("provider", "target", "proration", "proration_date"),
    [
        ("zuora", "zuora_subscription", "none", None),
        ("stripe", "stripe_subscription", "create_prorations", 1_796_000_000),
    ],
)
def test_a_plan_change_is_one_quantity_change_exactly_as_previewed(
    provider: str, target: str, proration: str, proration_date: int | None
) -> None:
    preview = Preview(provider=provider, proration=proration, proration_date=proration_date)
    [step] = build_plan(RequestFacts(id=REQUEST_ID, kind=Kind.PLAN_CHANGE), [], preview)
    assert (step.position, step.target, step.provider, step.operation) == (
        1,
        target,
        provider,
        "change_quantity",
    )
    assert step.inputs == {
        "subscription_id": "A-S00000103",
        "charge_id": "C-00000042",
        "quantity": 50,
        "quantity_before": 5,
        "effective_on": "2027-01-05",
        "proration": proration,
        "proration_date": proration_date,
        "preview_id": preview.id,
    }


def test_a_plan_change_without_a_preview_is_not_planned() -> None:
    with pytest.raises(BillingError) as refused:
        build_plan(RequestFacts(id=REQUEST_ID, kind=Kind.PLAN_CHANGE), [], None)
    assert refused.value.code is ErrorCode.PROVIDER_UNAVAILABLE


def test_the_hash_names_the_exact_plan() -> None:
    state = State("zuora_collection", "A1", "z_old", ["z_old"])
    steps = build_plan(iban_change("zuora_collection"), [state], None)
    assert plan_hash(steps) == plan_hash(build_plan(iban_change("zuora_collection"), [state], None))
    other = replace(state, replaced_method_ids=["z_old", "z_other"])
    assert plan_hash(steps) != plan_hash(build_plan(iban_change("zuora_collection"), [other], None))
    assert len(plan_hash(steps)) == 32


def test_step_keys_name_request_run_provider_target_operation_and_position() -> None:
    [create, *_] = build_plan(
        iban_change("stripe_customer_debit"), [State("stripe_customer_debit", "cus_1")], None
    )
    assert step_idempotency_key(REQUEST_ID, 2, create) == (
        f"bg:{REQUEST_ID}:2:stripe:stripe_customer_debit:create_sepa_method:1"
    )
