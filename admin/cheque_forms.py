"""The cheque pages' forms, read into what ChequeService takes: a cheque typed by an operations
member (amount as decimal text in the currency, converted exactly by its ISO 4217 exponent,
never rounded) and a batch's scanner total. Every refusal is a sentence for the page."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from adapters.money import exponent_of
from adapters.ports import Account, Invoice
from admin.customer_actions import minor_units
from admin.page_kit import Form, free_text
from gateway.cheques.schemas import BatchClose, ChequeCreate
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import luhn_ok, sensitive_kind
from gateway.i18n import N_, Message
from gateway.staff.member import StaffMember

CREDIT = "credit"  # the invoice choice meaning "a credit for the next invoice"
PROVIDERS = {"zuora": "Zuora", "stripe": "Stripe"}  # product names: never translated


def _invalid(sentence: Message) -> BillingError:
    return BillingError(ErrorCode.VALIDATION_FAILED, sentence)


def amount_minor(typed: str, currency: str, *, zero_allowed: bool = False) -> int:
    """The typed decimal text in the currency's minor units, exactly ("120.5" EUR is 12050)."""
    text = typed.replace(" ", "").replace("\u00a0", "")
    if not text:
        raise _invalid(Message("Type the amount in {currency}, like 120.00.", currency=currency))
    try:
        zero = Decimal(text.replace(",", ".")) == 0
    except InvalidOperation:
        zero = False  # minor_units says what is wrong with it
    if zero:
        if zero_allowed:
            return 0
        raise _invalid(Message("Type the amount written on the cheque: it is above zero."))
    return minor_units(text, currency)


def provider_of(form: Form) -> str:
    provider = form.get("provider", "")
    if provider not in PROVIDERS:
        raise _invalid(Message("Choose the provider the customer is billed at: Zuora or Stripe."))
    return provider


def _reference(form: Form) -> str:
    reference = free_text(form, "reference", N_("cheque reference"))
    if not reference:
        raise _invalid(Message("Type the cheque's reference: the number printed on the cheque."))
    if _reads_as_card(reference):
        raise BillingError(
            ErrorCode.CARD_NUMBER_NOT_ACCEPTED,
            Message(
                "The cheque reference reads as a card number. Type the number printed on the "
                "cheque; the gateway never keeps card numbers."
            ),
        )
    return reference


def _reads_as_card(text: str) -> bool:
    """Its digits, whatever is between them, make a card number: a cheque reference may not."""
    digits = "".join(c for c in text if c.isdigit())
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def shown_again(form: Form) -> Form:
    """The typed fields a refused form shows again: never one that holds a card number or an
    IBAN (it is typed again, without them)."""
    kept = dict(form)
    for name in ("reference", "note"):
        value = kept.get(name, "")
        if sensitive_kind(value) or _reads_as_card(value):
            kept[name] = ""
    return kept


def chosen_invoice(form: Form, invoices: list[Invoice]) -> Invoice | None:
    """The invoice the cheque pays, or None for a credit; one of the open invoices shown."""
    choice = form.get("invoice", "")
    if choice == CREDIT:
        return None
    for invoice in invoices:
        if invoice.id == choice:
            return invoice
    raise _invalid(
        Message(
            "Choose the invoice the cheque pays, or a credit for the next invoice "
            "(an invoice no longer open is not offered)."
        )
    )


def cheque_order(
    form: Form, staff: StaffMember, account: Account, invoices: list[Invoice]
) -> ChequeCreate:
    """The cheque as typed on the entry form; its depositor is the signed-in member."""
    reference = _reference(form)
    note = free_text(form, "note", N_("note")) or None
    invoice = chosen_invoice(form, invoices)
    currency = invoice.balance.currency.upper() if invoice else account.currency.upper()
    typed = {
        "provider": provider_of(form),
        "account_id": account.id,
        "invoice_id": invoice.id if invoice else None,
        "amount_minor": amount_minor(form.get("amount", ""), currency),
        "currency": currency,
        "reference": reference,
        "depositor": staff.username,
        "note": note,
    }
    try:  # the API's own checks (lengths, characters), so both doors take the same cheques
        return msgspec.convert(typed, ChequeCreate)
    except msgspec.ValidationError as wrong:
        raise _invalid(_sentence_for(str(wrong))) from None


def _sentence_for(problem: str) -> Message:
    if "$.reference" in problem:
        return Message(
            "Type the cheque's reference as printed: letters, digits, spaces, dashes and "
            "slashes, 40 characters at most."
        )
    if "$.note" in problem:
        return Message("Keep the note to one paragraph of at most 500 characters.")
    if "$.amount_minor" in problem:
        return Message("The amount is larger than any cheque the gateway takes; check it.")
    return Message("The cheque cannot be entered as typed; check each field.")


def batch_close(
    form: Form, staff: StaffMember, currency: str, business_date: date, time_zone: str
) -> BatchClose:
    """The scanner's total (decimal text in the batch's currency) and, when given, the time the
    scanner ran on `business_date` (today), in the operations time zone."""
    typed = form.get("scanner_total", "")
    if not typed:
        raise _invalid(
            Message(
                "Type the scanner's total in {currency} (like 1369.00): the batch closes when "
                "it equals the batch's total.",
                currency=currency,
            )
        )
    total = amount_minor(typed, currency, zero_allowed=True)
    return BatchClose(
        scanner_total_minor=total,
        closed_by=staff.username,
        scanned_at=_scanned_at(form.get("scanned_at", ""), business_date, time_zone),
    )


def _scanned_at(typed: str, business_date: date, time_zone: str) -> datetime | None:
    if not typed:
        return None
    try:
        moment = time.fromisoformat(typed)
    except ValueError:
        raise _invalid(Message("Type the time the scanner ran as HH:MM, like 16:30.")) from None
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(business_date, moment, tzinfo=zone)


def decimals_hint(currency: str) -> str:
    """The placeholder of an amount field: "120.00" in EUR, "15000" in JPY."""
    decimals = exponent_of(currency)
    return "120" if decimals == 0 else "120." + "0" * decimals
