"""A correction as the back office shows it: its status as a sentence, each step of its payload
(exactly what runs, money as "49.00 EUR") with where it stands, and a prepaid cancellation's
computation, line by line. Worked out here so that the templates only lay it out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.money import format_money
from gateway.corrections.schemas import Computation, CorrectionRead, MoneyRead, StepRead
from gateway.staff.member import StaffMember

KIND_NAMES = {
    "refund": "Refund",
    "cancel_subscription": "Cancel subscription",
    "void_invoice": "Void invoice",
}
OPERATION_NAMES = {
    "refund_payment": "Refund the payment",
    "cancel_subscription": "Cancel the subscription",
    "void_invoice": "Void the invoice",
}
STEP_STATUS_NAMES = {
    "pending": "waiting",
    "calling": "calling the provider",
    "succeeded": "done",
    "failed": "failed",
    "settled_by_hand": "settled by hand",
}
# Statuses whose page reloads itself: something is still to happen.
LIVE = frozenset({"awaiting_approval", "running"})


def status_sentence(correction: CorrectionRead) -> str:
    approval = correction.approval
    if correction.status == "awaiting_approval":
        return "Waiting for a team lead's approval: nothing runs before."
    if correction.status == "running":
        return "Running: the steps are carried out at the provider; this page follows them."
    if correction.status == "succeeded":
        by_hand = [s.position for s in correction.steps if s.status == "settled_by_hand"]
        if by_hand:
            steps = ", ".join(str(position) for position in by_hand)
            return (
                "Succeeded: the gateway carried out every step at the provider but "
                f"step {steps}, which a team lead settled by hand (their word, below)."
            )
        return "Succeeded: every step is done at the provider."
    if correction.status == "refused":
        who = approval.refused_by or "a team lead"
        return f"Refused by {who}: {approval.refusal_reason or 'no reason given'}. Nothing ran."
    return f"Failed: {correction.error_message or 'a step was refused by the provider'}."


def is_maker(staff: StaffMember, correction: CorrectionRead) -> bool:
    asked = correction.requested_by
    return asked.kind == "staff" and asked.name == staff.username


def _shown(value: Any) -> str:
    if isinstance(value, dict) and {"amount_minor", "currency"} <= value.keys():
        return format_money(int(value["amount_minor"]), str(value["currency"]))
    if value is None:
        return "none"
    return str(value)


def input_lines(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    return [(key.replace("_", " "), _shown(value)) for key, value in inputs.items()]


@dataclass(frozen=True)
class StepLine:
    position: int
    operation_name: str
    inputs: list[tuple[str, str]]
    status: str
    status_name: str
    error_message: str | None
    result: list[tuple[str, str]]


def step_lines(correction: CorrectionRead) -> list[StepLine]:
    """Every step of the payload, with the state of its run where it started."""
    runs: dict[int, StepRead] = {step.position: step for step in correction.steps}
    lines = []
    for planned in correction.payload:
        run = runs.get(planned.position)
        status = run.status if run else "pending"
        lines.append(
            StepLine(
                position=planned.position,
                operation_name=OPERATION_NAMES.get(planned.operation, planned.operation),
                inputs=input_lines(planned.inputs),
                status=status,
                status_name=STEP_STATUS_NAMES.get(status, status),
                error_message=(run.error_message or _settled(run)) if run else None,
                result=input_lines(run.result or {}) if run else [],
            )
        )
    return lines


def _settled(run: StepRead) -> str | None:
    return f"Settled by hand: {run.settled_reason}" if run.settled_reason else None


def _money(amount: MoneyRead) -> str:
    return format_money(amount.amount_minor, amount.currency)


def computation_lines(computation: Computation | None) -> list[tuple[str, str]]:
    if computation is None:
        return []
    base = computation.fee_applies_to.replace("_", " ")
    return [
        ("Last payment", _money(computation.payment_amount)),
        ("Period paid", f"{computation.period_start} to {computation.period_end}"),
        ("Cancelled on", computation.cancelled_on.isoformat()),
        ("Days unused", f"{computation.days_unused} of {computation.days_total}"),
        ("Unused value", _money(computation.unused_value)),
        ("Fee", f"{computation.fee_percent} % of the {base}: {_money(computation.fee)}"),
        ("Refund", _money(computation.refund)),
    ] + (
        [("Kept back (the provider's smallest step)", _money(computation.rounded_down))]
        if computation.rounded_down and computation.rounded_down.amount_minor
        else []
    )


def kind_name(correction: CorrectionRead) -> str:
    return KIND_NAMES.get(correction.kind, correction.kind)


def view_helpers() -> dict[str, Any]:
    """What every template showing a correction calls."""
    return {
        "status_sentence": status_sentence,
        "step_lines": step_lines,
        "computation_lines": computation_lines,
        "kind_name": kind_name,
        "is_maker": is_maker,
    }
