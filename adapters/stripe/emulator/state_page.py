"""The Stripe emulator's customer and Connect account pages, at the paths of Stripe's own
dashboard, so that the back office's "Open in Stripe" links (adapters/stripe/links.py) open
them in sandbox:

- `GET /test/customers/<cus_...>` (and without `/test`): the customer, its payment methods
  (masked: country or brand and last four), subscriptions, invoices and payments;
- `GET /test/connect/accounts/<acct_...>` (and without `/test`): the partner, its payout
  bank accounts (masked) and payouts.

Read-only: nothing here changes the account. Only named public fields are shown; private
fields (the `_iban` Stripe keeps) never are.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from adapters.money import UnknownCurrencyError, format_money
from adapters.state_page import Table, last_four, not_found, page
from adapters.stripe.emulator.state import StripeAccount, StripeObject


def _money(amount: Any, currency: Any) -> str:
    if amount is None or not currency:
        return ""
    try:
        return format_money(int(amount), str(currency))
    except (UnknownCurrencyError, ValueError):
        return f"{amount} {str(currency).upper()}"


def _day(timestamp: Any) -> str:
    if not isinstance(timestamp, int | float):
        return ""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def _method_shown(method: StripeObject) -> str:
    details = method.get(str(method.get("type"))) or {}
    if method.get("type") == "sepa_debit":
        return last_four(details.get("last4"), str(details.get("country") or ""))
    if method.get("type") == "card":
        return f"{details.get('brand') or 'card'} {last_four(details.get('last4'))}"
    return str(method.get("type") or "")


def _of(held: StripeAccount, kind: str, field: str, value: str) -> list[StripeObject]:
    return [record for record in held.all(kind) if record.get(field) == value]


def _customer_page(account: StripeAccount, customer: StripeObject) -> Response[bytes]:
    customer_id = customer["id"]
    settings = customer.get("invoice_settings") or {}
    address = customer.get("address") or {}
    return page(
        "Stripe",
        str(customer.get("name") or customer_id),
        [
            ("Customer", customer_id),
            ("Email", customer.get("email")),
            ("Back-office id", (customer.get("metadata") or {}).get("backoffice_id")),
            ("City", " ".join(str(address.get(k) or "") for k in ("city", "country")).strip()),
            ("Invoice default payment method", settings.get("default_payment_method")),
            ("Created", _day(customer.get("created"))),
        ],
        [
            Table(
                "Payment methods",
                ("Id", "Type", "Account or card", "Holder", "Default"),
                (
                    (
                        method["id"],
                        method.get("type"),
                        _method_shown(method),
                        (method.get("billing_details") or {}).get("name"),
                        method["id"] == settings.get("default_payment_method"),
                    )
                    for method in _of(account, "payment_method", "customer", customer_id)
                ),
            ),
            Table(
                "Subscriptions",
                ("Subscription", "Status", "Price", "Quantity", "Period"),
                (
                    (
                        subscription["id"],
                        subscription.get("status"),
                        (item.get("price") or {}).get("nickname")
                        or (item.get("price") or {}).get("id"),
                        item.get("quantity"),
                        f"{_day(item.get('current_period_start'))} to "
                        f"{_day(item.get('current_period_end'))}",
                    )
                    for subscription in _of(account, "subscription", "customer", customer_id)
                    for item in (subscription.get("items") or {}).get("data") or []
                ),
            ),
            Table(
                "Invoices",
                ("Invoice", "Created", "Status", "Total", "Remaining"),
                (
                    (
                        invoice.get("number") or invoice["id"],
                        _day(invoice.get("created")),
                        invoice.get("status"),
                        _money(invoice.get("total"), invoice.get("currency")),
                        _money(invoice.get("amount_remaining"), invoice.get("currency")),
                    )
                    for invoice in _of(account, "invoice", "customer", customer_id)
                ),
            ),
            Table(
                "Payments",
                ("Payment", "Created", "Status", "Amount", "Refunded"),
                (
                    (
                        intent["id"],
                        _day(intent.get("created")),
                        intent.get("status"),
                        _money(intent.get("amount"), intent.get("currency")),
                        _refunded(account, intent),
                    )
                    for intent in _of(account, "payment_intent", "customer", customer_id)
                ),
            ),
        ],
    )


def _refunded(account: StripeAccount, intent: StripeObject) -> str:
    charge = account.objects.get(str(intent.get("latest_charge") or "")) or {}
    if not charge.get("amount_refunded"):
        return ""
    return _money(charge["amount_refunded"], charge.get("currency"))


def _connect_page(account: StripeAccount, partner: StripeObject) -> Response[bytes]:
    partner_id = partner["id"]
    banks = _of(account, "bank_account", "account", partner_id)
    payouts = _of(account, "payout", "_account", partner_id)  # whose: private
    return page(
        "Stripe",
        str((partner.get("company") or {}).get("name") or partner_id),
        [
            ("Connect account", partner_id),
            ("Legal name", (partner.get("company") or {}).get("name")),
            ("Trading as", (partner.get("business_profile") or {}).get("name")),
            ("Email", partner.get("email")),
            ("Back-office id", (partner.get("metadata") or {}).get("backoffice_id")),
            ("Country", partner.get("country")),
            ("Payouts enabled", partner.get("payouts_enabled")),
        ],
        [
            Table(
                "Payout bank accounts",
                ("Id", "Account", "Holder", "Currency", "Default for currency"),
                (
                    (
                        bank["id"],
                        last_four(bank.get("last4"), str(bank.get("country") or "")),
                        bank.get("account_holder_name"),
                        str(bank.get("currency") or "").upper(),
                        bank.get("default_for_currency"),
                    )
                    for bank in banks
                ),
            ),
            Table(
                "Payouts",
                ("Payout", "Created", "Amount", "To", "Status"),
                (
                    (
                        payout["id"],
                        _day(payout.get("created")),
                        _money(payout.get("amount"), payout.get("currency")),
                        payout.get("destination"),
                        payout.get("status"),
                    )
                    for payout in payouts
                ),
            ),
        ],
    )


def state_page_handlers(account_of: Callable[[], StripeAccount]) -> list[HTTPRouteHandler]:
    """The pages' handlers over the account `account_of()` returns (read at each request)."""

    @get(
        ["/customers/{customer_id:str}", "/test/customers/{customer_id:str}"],
        include_in_schema=False,
    )
    async def customer_page(customer_id: FromPath[str]) -> Response[bytes]:
        found = account_of().objects.get(customer_id)
        if found is None or found.get("object") != "customer":
            return not_found("Stripe", "customer", customer_id)
        return _customer_page(account_of(), found)

    @get(
        ["/connect/accounts/{account_id:str}", "/test/connect/accounts/{account_id:str}"],
        include_in_schema=False,
    )
    async def connect_page(account_id: FromPath[str]) -> Response[bytes]:
        found = account_of().objects.get(account_id)
        if found is None or found.get("object") != "account":
            return not_found("Stripe", "Connect account", account_id)
        return _connect_page(account_of(), found)

    return [customer_page, connect_page]
