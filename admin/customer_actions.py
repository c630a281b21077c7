"""The customer page's forms, read into what the services take: a correction order (refund,
cancel, void) or a FRAUD-STOP on the customer. Amounts are typed by a person in major units
("49.00", "12,5") and converted exactly, by the currency's ISO 4217 exponent; an amount finer
than the currency's minor unit is refused, never rounded."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

import msgspec

from adapters.money import exponent_of, from_minor_units, to_minor_units
from admin.page_kit import Form, free_text
from gateway.corrections.schemas import CancelCreate, RefundCreate, VoidCreate
from gateway.errors import BillingError, ErrorCode
from gateway.fraud.fraud_stop import FraudStopResult, StoppedValue
from gateway.fraud.screening import NOUN
from gateway.fraud.wiring import fraud_stop
from gateway.staff.member import StaffMember

Order = RefundCreate | CancelCreate | VoidCreate
_AMOUNT = re.compile(r"^\d{1,15}([.,]\d{1,6})?$")
WHEN = {"now": "now", "end_of_term": "at the end of the term", "on_date": "on a date"}
THEN = {
    "nothing": "nothing else",
    "refund_last_payment": "refund the last payment",
    "void_open_invoice": "void the open invoice",
    "refund_remaining": "refund the unused part, minus the cancellation fee",
}


def _invalid(sentence: str) -> BillingError:
    return BillingError(ErrorCode.VALIDATION_FAILED, sentence)


def minor_units(typed: str, currency: str) -> int:
    """The typed amount in the currency's minor units, exactly."""
    text = typed.replace(" ", "").replace("\u00a0", "")
    if not _AMOUNT.match(text):
        raise _invalid(
            f"Type the amount in {currency.upper()} with digits only, like 12.50 "
            "(no thousands separators)."
        )
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise _invalid("Type the amount with digits only, like 12.50.") from None
    minor = to_minor_units(amount, currency)
    if from_minor_units(minor, currency) != amount:
        decimals = exponent_of(currency)
        raise _invalid(
            f"{currency.upper()} has {decimals} decimal{'s' if decimals != 1 else ''}: "
            f"type the amount to the {'unit' if decimals == 0 else 'minor unit'}, not finer."
        )
    if minor <= 0:
        raise _invalid("Type an amount above zero, or leave it empty to refund all that is left.")
    return minor


def _required(form: Form, name: str, what: str) -> str:
    value = form.get(name, "")
    if not value:
        raise _invalid(f"Choose the {what}.")
    return value


def _common(form: Form) -> dict[str, str | None]:
    reason = free_text(form, "reason", "reason", required=True)
    ticket = free_text(form, "ticket", "ticket") or None
    if len(reason) > 1000 or (ticket and len(ticket) > 200):
        raise _invalid("Keep the reason under 1000 characters and the ticket under 200.")
    return {"reason": reason, "ticket": ticket}


def _convert(fields: dict[str, object], order: type[Order]) -> Order:
    try:
        return msgspec.convert(fields, type=order)
    except msgspec.ValidationError as error:
        raise _invalid(f"The form does not fit: {error}. Reload the page and try again.") from None


def refund_order(provider: str, account_id: str, form: Form) -> Order:
    common = _common(form)
    currency = _required(form, "currency", "payment")
    typed = form.get("amount", "")
    amount = minor_units(typed, currency) if typed else None
    fields: dict[str, object] = {
        "provider": provider,
        "payment_id": _required(form, "payment_id", "payment"),
        "amount_minor": amount,
        "currency": currency.upper(),
        **common,
    }
    return _convert(fields, RefundCreate)


def cancel_order(provider: str, account_id: str, form: Form) -> Order:
    common = _common(form)
    when = form.get("when") or "now"
    then = form.get("then") or "nothing"
    if when not in WHEN or then not in THEN:
        raise _invalid("Choose when the subscription ends and what follows.")
    on: str | None = None
    if when == "on_date":
        try:
            on = date.fromisoformat(form.get("on", "")).isoformat()
        except ValueError:
            raise _invalid("Give the day the subscription ends (YYYY-MM-DD).") from None
    fields: dict[str, object] = {
        "provider": provider,
        "subscription_id": _required(form, "subscription_id", "subscription"),
        "when": when,
        "on": on,
        "then": then,
        "customer": account_id,
        **common,
    }
    return _convert(fields, CancelCreate)


def void_order(provider: str, account_id: str, form: Form) -> Order:
    fields: dict[str, object] = {
        "provider": provider,
        "invoice_id": _required(form, "invoice_id", "invoice"),
        **_common(form),
    }
    return _convert(fields, VoidCreate)


CORRECTION_FORMS: dict[str, Callable[[str, str, Form], Order]] = {
    "refund": refund_order,
    "cancel": cancel_order,
    "void": void_order,
}


def _listed(values: tuple[StoppedValue, ...]) -> str:
    return "; ".join(
        f"{NOUN[value.kind]} {value.display} (entry {value.entry_id})" for value in values
    )


def fraud_stop_sentence(result: FraudStopResult) -> str:
    answer = "FRAUD-STOP: " + (
        f"blocked {_listed(result.blocked)}." if result.blocked else "nothing new to block."
    )
    return answer + (
        f" Already blocked: {_listed(result.already_blocked)}." if result.already_blocked else ""
    )


async def stop_customer(staff: StaffMember, account_id: str, form: Form) -> str:
    """FRAUD-STOP on this customer: its reference, and the card fingerprint and IP given."""
    result = await fraud_stop().stop(
        staff.actor,
        request=None,
        card_fingerprint=form.get("card_fingerprint") or None,
        ip=form.get("ip") or None,
        customer=account_id,
        reason=free_text(form, "reason", "reason", required=True),
        ticket=free_text(form, "ticket", "ticket") or None,
    )
    return fraud_stop_sentence(result)
