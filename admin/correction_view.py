"""A correction as the back office shows it: its status as a sentence, each step of its payload
(exactly what runs, money as "49.00 EUR") with where it stands, and a prepaid cancellation's
computation, line by line. Worked out here so that the templates only lay it out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.corrections.policy import reread_rule
from gateway.corrections.schemas import Computation, CorrectionRead, MoneyRead, StepRead
from gateway.i18n import N_, Message, gettext, translate
from gateway.i18n.formatting import format_date, format_datetime, format_minor
from gateway.staff.member import StaffMember

# Codes of corrections that gateway.i18n.labels does not name (corrections are not an enum
# there): named here, in English marked for the catalogues, said in the reader's language.
KIND_NAMES = {
    "refund": N_("Refund"),
    "cancel_subscription": N_("Cancel subscription"),
    "void_invoice": N_("Void invoice"),
}
STATUS_NAMES = {
    "awaiting_approval": N_("Awaiting approval"),
    "running": N_("Running"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "refused": N_("Refused"),
}
OPERATION_NAMES = {
    "refund_payment": N_("Refund the payment"),
    "cancel_subscription": N_("Cancel the subscription"),
    "void_invoice": N_("Void the invoice"),
}
STEP_STATUS_NAMES = {
    "pending": N_("waiting"),
    "calling": N_("calling the provider"),
    "succeeded": N_("done"),
    "failed": N_("failed"),
    "settled_by_hand": N_("settled by hand"),
}
# The names of a step's inputs and results, as the payload keys them.
INPUT_NAMES = {
    "payment_id": N_("payment"),
    "invoice_id": N_("invoice"),
    "subscription_id": N_("subscription"),
    "amount": N_("amount"),
    "customer": N_("customer"),
    "account_id": N_("account"),
    "when": N_("when"),
    "on": N_("on"),
    "effective_on": N_("effective on"),
    "reason": N_("reason"),
    "refund_id": N_("refund"),
    "status": N_("status"),
}
# Statuses whose page reloads itself: something is still to happen.
LIVE = frozenset({"awaiting_approval", "running"})


def status_sentence(correction: CorrectionRead) -> str:
    """Where the correction stands, in the reader's language (the words of people and of the
    provider, a reason, an error message, as they were written)."""
    approval = correction.approval
    if correction.status == "awaiting_approval":
        return gettext("Waiting for a team lead's approval: nothing runs before.")
    if correction.status == "running":
        return gettext(
            "Running: the steps are carried out at the provider; this page follows them."
        )
    if correction.status == "succeeded":
        by_hand = [s.position for s in correction.steps if s.status == "settled_by_hand"]
        if by_hand:
            steps = ", ".join(str(position) for position in by_hand)
            return translate(
                Message(
                    "Succeeded: the gateway carried out every step at the provider but step "
                    "{steps}, which a team lead settled by hand (their word, below).",
                    steps=steps,
                )
            )
        return gettext("Succeeded: every step is done at the provider.")
    if correction.status == "refused":
        return translate(
            Message(
                "Refused by {who}: {reason}. Nothing ran.",
                who=approval.refused_by or Message("a team lead"),
                reason=approval.refusal_reason or Message("no reason given"),
            )
        )
    return translate(
        Message(
            "Failed: {error}.",
            error=correction.error_message or Message("a step was refused by the provider"),
        )
    )


def status_name(correction: CorrectionRead) -> str:
    english = STATUS_NAMES.get(correction.status)
    return gettext(english) if english else correction.status


def is_maker(staff: StaffMember, correction: CorrectionRead) -> bool:
    asked = correction.requested_by
    return asked.kind == "staff" and asked.name == staff.username


def amount(amount_minor: int, currency: str) -> str:
    """Money for people, in the reader's language: "49,00 €"."""
    return format_minor(amount_minor, currency)


def _shown(value: Any) -> str:
    if isinstance(value, dict) and {"amount_minor", "currency"} <= value.keys():
        return amount(int(value["amount_minor"]), str(value["currency"]))
    if value is None:
        return gettext("none")
    return str(value)


def _input_name(key: str) -> str:
    english = INPUT_NAMES.get(key)
    return gettext(english) if english else key.replace("_", " ")


def input_lines(inputs: dict[str, Any]) -> list[tuple[str, str]]:
    return [(_input_name(key), _shown(value)) for key, value in inputs.items()]


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
                operation_name=_named(OPERATION_NAMES, planned.operation),
                inputs=input_lines(planned.inputs),
                status=status,
                status_name=_named(STEP_STATUS_NAMES, status),
                error_message=(run.error_message or _settled(run)) if run else None,
                result=input_lines(run.result or {}) if run else [],
            )
        )
    return lines


def _named(names: dict[str, str], code: str) -> str:
    english = names.get(code)
    return gettext(english) if english else code


def _settled(run: StepRead) -> str | None:
    if not run.settled_reason:
        return None
    return translate(Message("Settled by hand: {reason}", reason=run.settled_reason))


def _money(money: MoneyRead) -> str:
    return amount(money.amount_minor, money.currency)


FEE_BASES = {"unused_value": N_("unused value"), "remaining_payment": N_("remaining payment")}


def computation_lines(computation: Computation | None) -> list[tuple[str, str]]:
    if computation is None:
        return []
    base = Message(FEE_BASES.get(computation.fee_applies_to, computation.fee_applies_to))
    lines = [
        (N_("Last payment"), _money(computation.payment_amount)),
        (
            N_("Period paid"),
            Message(
                "{start} to {end}",
                start=format_date(computation.period_start),
                end=format_date(computation.period_end),
            ),
        ),
        (N_("Cancelled on"), format_date(computation.cancelled_on)),
        (
            N_("Days unused"),
            Message(
                "{unused} of {total}",
                unused=computation.days_unused,
                total=computation.days_total,
            ),
        ),
        (N_("Unused value"), _money(computation.unused_value)),
        (
            N_("Fee"),
            Message(
                "{percent} % of the {base}: {fee}",
                percent=computation.fee_percent,
                base=base,
                fee=_money(computation.fee),
            ),
        ),
        (N_("Refund"), _money(computation.refund)),
    ] + (
        [(N_("Kept back (the provider's smallest step)"), _money(computation.rounded_down))]
        if computation.rounded_down and computation.rounded_down.amount_minor
        else []
    )
    return [(gettext(label), translate(value)) for label, value in lines]


def kind_name(correction: CorrectionRead) -> str:
    return _named(KIND_NAMES, correction.kind)


def approval_rule(correction: CorrectionRead) -> str:
    """The approval rule, stored in English, in the reader's language."""
    return translate(reread_rule(correction.approval.rule))


def view_helpers() -> dict[str, Any]:
    """What every template showing a correction calls."""
    return {
        "status_sentence": status_sentence,
        "step_lines": step_lines,
        "computation_lines": computation_lines,
        "kind_name": kind_name,
        "status_name": status_name,
        "approval_rule": approval_rule,
        "is_maker": is_maker,
        "when": format_datetime,
    }
