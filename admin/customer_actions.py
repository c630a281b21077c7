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
from admin.fraud_forms import fraud_stop_answer
from admin.page_kit import Form, free_text
from gateway.change_requests.fraud_stop import fraud_stop
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.schemas import CancelCreate, RefundCreate, VoidCreate
from gateway.i18n import N_, Message, translate
from gateway.staff.member import StaffMember

Order = RefundCreate | CancelCreate | VoidCreate
_AMOUNT = re.compile(r"^\d{1,15}([.,]\d{1,6})?$")
# The cancel form's choices, in English marked for the catalogues (the page translates them).
WHEN = {"now": N_("now"), "end_of_term": N_("at the end of the term"), "on_date": N_("on a date")}
THEN = {
    "nothing": N_("nothing else"),
    "refund_last_payment": N_("refund the last payment"),
    "void_open_invoice": N_("void the open invoice"),
    "refund_remaining": N_("refund the unused part, minus the cancellation fee"),
}
CHOOSE = {
    "payment": Message("Choose the payment."),
    "subscription": Message("Choose the subscription."),
    "invoice": Message("Choose the invoice."),
}


def _invalid(sentence: Message) -> BillingError:
    """A refusal of the form: English for the logs, said in the reader's language on the page."""
    return BillingError(ErrorCode.VALIDATION_FAILED, sentence)


def _too_fine(currency: str) -> Message:
    decimals = exponent_of(currency)
    if decimals == 0:
        return Message(
            "{currency} has 0 decimals: type the amount to the unit, not finer.", currency=currency
        )
    if decimals == 1:
        return Message(
            "{currency} has 1 decimal: type the amount to the minor unit, not finer.",
            currency=currency,
        )
    return Message(
        "{currency} has {decimals} decimals: type the amount to the minor unit, not finer.",
        currency=currency,
        decimals=decimals,
    )


def minor_units(typed: str, currency: str) -> int:
    """The typed amount in the currency's minor units, exactly."""
    text = typed.replace(" ", "").replace("\u00a0", "")
    if not _AMOUNT.match(text):
        raise _invalid(
            Message(
                "Type the amount in {currency} with digits only, like 12.50 "
                "(no thousands separators).",
                currency=currency.upper(),
            )
        )
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise _invalid(Message("Type the amount with digits only, like 12.50.")) from None
    minor = to_minor_units(amount, currency)
    if from_minor_units(minor, currency) != amount:
        raise _invalid(_too_fine(currency.upper()))
    if minor <= 0:
        raise _invalid(
            Message("Type an amount above zero, or leave it empty to refund all that is left.")
        )
    return minor


def _required(form: Form, name: str, what: str) -> str:
    value = form.get(name, "")
    if not value:
        raise _invalid(CHOOSE[what])
    return value


def _common(form: Form) -> dict[str, str | None]:
    reason = free_text(form, "reason", N_("reason"), required=True)
    ticket = free_text(form, "ticket", N_("ticket")) or None
    if len(reason) > 1000 or (ticket and len(ticket) > 200):
        raise _invalid(Message("Keep the reason under 1000 characters and the ticket under 200."))
    return {"reason": reason, "ticket": ticket}


def _convert(fields: dict[str, object], order: type[Order]) -> Order:
    try:
        return msgspec.convert(fields, type=order)
    except msgspec.ValidationError as error:
        raise _invalid(
            Message(
                "The form does not fit: {error}. Reload the page and try again.", error=str(error)
            )
        ) from None


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
        raise _invalid(Message("Choose when the subscription ends and what follows."))
    on: str | None = None
    if when == "on_date":
        try:
            on = date.fromisoformat(form.get("on", "")).isoformat()
        except ValueError:
            raise _invalid(Message("Give the day the subscription ends (YYYY-MM-DD).")) from None
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


async def stop_customer(staff: StaffMember, account_id: str, form: Form) -> str:
    """FRAUD-STOP on this customer: its reference, and the card fingerprint and IP given."""
    result = await fraud_stop().stop(
        staff.actor,
        request=None,
        card_fingerprint=form.get("card_fingerprint") or None,
        ip=form.get("ip") or None,
        customer=account_id,
        reason=free_text(form, "reason", N_("reason"), required=True),
        ticket=free_text(form, "ticket", N_("ticket")) or None,
    )
    return translate(fraud_stop_answer(result))
