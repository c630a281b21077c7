"""The period a Zuora subscription has been paid for, and whether it is a prepaid package.

Current period: a TERMED subscription's current term (TermStartDate to TermEndDate); an
EVERGREEN one has no term end, so its recurring charge's billed period is used instead
(ProcessedThroughDate to ChargedThroughDate: what the last invoice covered).

Prepaid (the rule the gateway keeps, as Zuora has no such flag): a TERMED subscription whose
recurring charge is billed in advance (BillingTiming "In Advance", REST "IN_ADVANCE") for a
billing period that covers the whole current term (BillingPeriod "Subscription Term", or an
Annual charge on a 12-month term, ...): the customer paid the term up front, so a cancellation
leaves value unused. A monthly charge on a yearly term is not prepaid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from adapters.ports import Subscription
from adapters.zuora.history_mapping import as_date

PERIOD_MONTHS = {
    "Month": 1,
    "Quarter": 3,
    "Semi-Annual": 6,
    "Annual": 12,
    "Eighteen Months": 18,
    "Two Years": 24,
    "Three Years": 36,
    "Five Years": 60,
}
TERM_UNIT_MONTHS = {"Month": 1, "Year": 12}
IN_ADVANCE = ("In Advance", "IN_ADVANCE")


@dataclass(frozen=True)
class ChargeTiming:
    billing_period: str | None
    billing_timing: str | None
    processed_through: date | None
    charged_through: date | None


@dataclass(frozen=True)
class Term:
    start: date | None
    end: date | None
    prepaid: bool


def _term_months(length: Any, unit: Any) -> int | None:
    months = TERM_UNIT_MONTHS.get(str(unit))
    if months is None or length in (None, ""):
        return None
    return int(length) * months


def term_of(
    term_type: Any,
    term_start: Any,
    term_end: Any,
    term_length: Any,
    term_unit: Any,
    charges: Iterable[ChargeTiming],
) -> Term:
    charges = list(charges)
    if str(term_type).upper() == "TERMED":
        months = _term_months(term_length, term_unit)
        prepaid = any(
            charge.billing_timing in IN_ADVANCE
            and (
                charge.billing_period == "Subscription Term"
                or (
                    months is not None
                    and PERIOD_MONTHS.get(str(charge.billing_period), 0) >= months
                )
            )
            for charge in charges
        )
        return Term(as_date(term_start), as_date(term_end), prepaid)
    billed = [charge for charge in charges if charge.charged_through is not None]
    if not billed:
        return Term(None, None, False)
    return Term(billed[0].processed_through, billed[0].charged_through, False)


def with_term(subscription: Subscription, term: Term) -> Subscription:
    return replace(
        subscription,
        current_period_start=term.start,
        current_period_end=term.end,
        prepaid=term.prepaid,
    )


def rest_term(record: dict[str, Any]) -> Term:
    """From `GET /v1/subscriptions/{key}` (or an account's list of them)."""
    charges = [
        ChargeTiming(
            charge.get("billingPeriod"),
            charge.get("billingTiming"),
            as_date(charge.get("processedThroughDate")),
            as_date(charge.get("chargedThroughDate")),
        )
        for plan in record.get("ratePlans") or []
        for charge in plan.get("ratePlanCharges") or []
        if charge.get("type", "Recurring") == "Recurring"
    ]
    return term_of(
        record.get("termType"),
        record.get("termStartDate"),
        record.get("termEndDate"),
        record.get("currentTerm"),
        record.get("currentTermPeriodType"),
        charges,
    )


def soap_term(version: Any, charges: Iterable[Any]) -> Term:
    """From a Subscription zObject and its recurring RatePlanCharges."""
    return term_of(
        getattr(version, "TermType", None),
        getattr(version, "TermStartDate", None),
        getattr(version, "TermEndDate", None),
        getattr(version, "CurrentTerm", None),
        getattr(version, "CurrentTermPeriodType", None),
        [
            ChargeTiming(
                getattr(charge, "BillingPeriod", None),
                getattr(charge, "BillingTiming", None),
                as_date(getattr(charge, "ProcessedThroughDate", None)),
                as_date(getattr(charge, "ChargedThroughDate", None)),
            )
            for charge in charges
        ],
    )
