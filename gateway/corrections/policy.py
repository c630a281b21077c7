"""Which corrections wait for a second person, and what a prepaid cancellation refunds. Pure:
settings and amounts in, a decision out; integers and Decimals only, never a float.

Approval: a refund strictly above its currency's amount (minor units; "*" for any currency not
listed) waits, and so does every correction of a kind listed as always waiting.

Cancellation fee (`then: refund_remaining`, prepaid subscriptions only): the unused value is
the last payment * unused days / days of the period (days from the cancellation date to the
period's end), rounded half-even to the minor unit; the fee is the percentage of it (or of
what is left to refund of the payment), rounded half-even; the refund is the unused value
minus the fee, never below nothing nor above what is left to refund.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from adapters.money import format_money
from adapters.ports import Money
from gateway.i18n import N_, Message

FeeBase = Literal["unused_value", "remaining_payment"]
ANY_CURRENCY = "*"
# The rule's sentences. The rule is stored as its English text; `reread_rule` finds which of
# these wrote it, so that the back office can say it again in the reader's language.
ALWAYS = N_("Every {kind} is approved by a second person first.")
ABOVE = N_("A refund above {limit} is approved by a second person first; this one refunds {total}.")
UP_TO = N_("Refunds up to {limits} run at once.")
AT_ONCE = N_("A {kind} runs at once.")
KIND_PHRASES = {
    "refund": N_("refund"),
    "cancel_subscription": N_("cancel subscription"),
    "void_invoice": N_("void invoice"),
}


@dataclass(frozen=True)
class ApprovalPolicy:
    refund_above: Mapping[str, int]  # currency (upper case) or "*" -> minor units
    always: Collection[str] = ()  # kinds that always wait

    def threshold(self, currency: str) -> int:
        code = currency.upper()
        return self.refund_above.get(code, self.refund_above.get(ANY_CURRENCY, 0))


@dataclass(frozen=True)
class ApprovalDecision:
    required: bool
    rule: str  # a sentence (a Message): the rule that applies, or that none does


def _kind(kind: str) -> Message:
    return Message(KIND_PHRASES.get(kind, kind.replace("_", " ")))


def approval_needed(
    policy: ApprovalPolicy, kind: str, refunds: Sequence[Money]
) -> ApprovalDecision:
    """Whether a correction of `kind` refunding `refunds` waits for a second person."""
    if kind in policy.always:
        return ApprovalDecision(True, Message(ALWAYS, kind=_kind(kind)))
    totals: dict[str, int] = {}
    for refund in refunds:
        code = refund.currency.upper()
        totals[code] = totals.get(code, 0) + refund.amount_minor
    for currency, total in sorted(totals.items()):
        limit = policy.threshold(currency)
        if total > limit:
            return ApprovalDecision(
                True,
                Message(
                    ABOVE,
                    limit=format_money(limit, currency),
                    total=format_money(total, currency),
                ),
            )
    if totals:
        limits = ", ".join(format_money(policy.threshold(c), c) for c in sorted(totals))
        return ApprovalDecision(False, Message(UP_TO, limits=limits))
    return ApprovalDecision(False, Message(AT_ONCE, kind=_kind(kind)))


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile(
        "".join(
            f"(?P<{part}>.+?)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
        )
    )


_RULES = [(template, _pattern(template)) for template in (ALWAYS, ABOVE, UP_TO, AT_ONCE)]
_KINDS_BY_PHRASE = {phrase: kind for kind, phrase in KIND_PHRASES.items()}


def reread_rule(text: str) -> str:
    """A stored rule as the Message that wrote it (said again in the reader's language), or
    the text as it is when no template wrote it (a rule stored by an older release)."""
    for template, pattern in _RULES:
        found = pattern.fullmatch(text)
        if found:
            values: dict[str, object] = dict(found.groupdict())
            if "kind" in values and values["kind"] in _KINDS_BY_PHRASE:
                values["kind"] = _kind(_KINDS_BY_PHRASE[str(values["kind"])])
            return Message(template, **values)
    return text


@dataclass(frozen=True)
class CancellationRefund:
    payment_amount: Money
    period_start: date
    period_end: date
    cancelled_on: date
    days_total: int
    days_unused: int
    unused_value: Money
    fee_percent: Decimal
    fee_applies_to: FeeBase
    fee: Money
    refund: Money
    rounded_down: Money  # kept back so the refund is an amount the provider takes (KWD: 0.010)


def _half_even(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def cancellation_refund(
    payment: Money,
    refundable_minor: int,
    period_start: date,
    period_end: date,
    cancelled_on: date,
    fee_percent: Decimal,
    fee_applies_to: FeeBase,
    refund_step: int = 1,
) -> CancellationRefund:
    """What cancelling a prepaid period on `cancelled_on` refunds of its payment; the refund
    rounded down to a multiple of `refund_step` minor units (never more than computed)."""
    if period_end <= period_start:
        raise ValueError("the period ends before it starts")
    if not Decimal(0) <= fee_percent <= Decimal(100):
        raise ValueError("a fee percentage is between 0 and 100")
    days_total = (period_end - period_start).days
    start_of_unused = min(max(cancelled_on, period_start), period_end)
    days_unused = (period_end - start_of_unused).days
    unused = _half_even(Decimal(payment.amount_minor) * days_unused / days_total)
    base = unused if fee_applies_to == "unused_value" else max(refundable_minor, 0)
    fee = _half_even(Decimal(base) * fee_percent / Decimal(100))
    computed = min(max(unused - fee, 0), max(refundable_minor, 0))
    refund = computed - computed % max(refund_step, 1)
    currency = payment.currency.upper()
    return CancellationRefund(
        payment_amount=Money(payment.amount_minor, currency),
        period_start=period_start,
        period_end=period_end,
        cancelled_on=cancelled_on,
        days_total=days_total,
        days_unused=days_unused,
        unused_value=Money(unused, currency),
        fee_percent=fee_percent,
        fee_applies_to=fee_applies_to,
        fee=Money(fee, currency),
        refund=Money(refund, currency),
        rounded_down=Money(computed - refund, currency),
    )
