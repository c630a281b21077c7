"""The Zuora emulator's account page, at the paths of Zuora's own UI, so that the back office's
"Open in Zuora" link (adapters/zuora/links.py) opens it in sandbox:

- `GET /apps/CustomerAccount.do?method=view&id=<account id>`: the account, its bill-to
  contact, payment methods (masked: country and last four), subscriptions with their charges,
  invoices, payments and refunds;
- `GET /platform/apps/search?searchTerm=<account number>&searchObjectType=account`: the same
  page of the account with that number (or id).

Read-only: nothing here changes the tenant.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromQuery
from litestar.response import Redirect

from adapters.state_page import Table, last_four, not_found, page
from adapters.zuora.emulator.state import Tenant, ZObject

ACCOUNT_PAGE = "/apps/CustomerAccount.do"


def _of(tenant: Tenant, kind: str, field: str, values: set[str]) -> list[ZObject]:
    return [record for record in tenant.table(kind).values() if record.get(field) in values]


def _rows(tenant: Tenant, kind: str, account_id: str, fields: str) -> list[list[Any]]:
    """The account's records of `kind`: the named fields, then Status."""
    return [
        [record.get(name) for name in [*fields.split(), "Status"]]
        for record in _of(tenant, kind, "AccountId", {account_id})
    ]


def _method_shown(method: ZObject) -> str:
    if method.get("Type") == "BankTransfer":
        mask = method.get("BankTransferAccountNumberMask")
        return last_four(mask, str(method.get("Country") or ""))
    if method.get("Type") == "CreditCard":
        mask = last_four(method.get("CreditCardMaskNumber"))
        return f"{method.get('CreditCardType') or 'card'} {mask}".strip()
    return str(method.get("Type") or "")


def _account_page(tenant: Tenant, account: ZObject) -> Response[bytes]:
    account_id = str(account["Id"])
    contact = tenant.table("Contact").get(str(account.get("BillToId"))) or {}
    methods = _of(tenant, "PaymentMethod", "AccountId", {account_id})
    subscriptions = _of(tenant, "Subscription", "AccountId", {account_id})
    plans = _of(tenant, "RatePlan", "SubscriptionId", {str(s["Id"]) for s in subscriptions})
    plan_of = {str(plan["Id"]): plan for plan in plans}
    charges = _of(tenant, "RatePlanCharge", "RatePlanId", set(plan_of))
    name = " ".join(str(contact.get(key) or "") for key in ("FirstName", "LastName")).strip()
    return page(
        "Zuora",
        str(account.get("Name") or account.get("AccountNumber") or account_id),
        [
            ("Account number", account.get("AccountNumber")),
            ("Account id", account_id),
            ("Status", account.get("Status")),
            ("Currency", account.get("Currency")),
            ("Bill cycle day", account.get("BillCycleDay")),
            ("CRM id", account.get("CrmId")),
            ("Bill-to contact", name),
            ("Bill-to email", contact.get("WorkEmail") or contact.get("PersonalEmail")),
        ],
        [
            Table(
                "Payment methods",
                ("Id", "Type", "Account", "Holder", "Status", "Default"),
                (
                    (
                        method["Id"],
                        method.get("BankTransferType") or method.get("Type"),
                        _method_shown(method),
                        method.get("BankTransferAccountName") or method.get("CreditCardHolderName"),
                        method.get("PaymentMethodStatus"),
                        method["Id"] == account.get("DefaultPaymentMethodId"),
                    )
                    for method in methods
                ),
            ),
            Table(
                "Subscriptions",
                ("Subscription", "Version", "Status", "Charge", "Quantity", "Period"),
                (
                    (
                        subscription.get("Name"),
                        subscription.get("Version"),
                        subscription.get("Status"),
                        charge.get("Name"),
                        charge.get("Quantity"),
                        charge.get("BillingPeriod"),
                    )
                    for subscription in subscriptions
                    for plan in plans
                    if plan.get("SubscriptionId") == subscription["Id"]
                    for charge in charges
                    if charge.get("RatePlanId") == plan["Id"]
                ),
            ),
            Table(
                "Invoices",
                ("Invoice", "Date", "Amount", "Balance", "Status"),
                _rows(tenant, "Invoice", account_id, "InvoiceNumber InvoiceDate Amount Balance"),
            ),
            Table(
                "Payments",
                ("Payment", "Date", "Amount", "Refunded", "Type", "Status"),
                _rows(tenant, "Payment", account_id, "Id EffectiveDate Amount RefundAmount Type"),
            ),
            Table(
                "Refunds",
                ("Refund", "Date", "Amount", "Payment", "Status"),
                _rows(tenant, "Refund", account_id, "RefundNumber RefundDate Amount PaymentId"),
            ),
        ],
    )


def _find(tenant: Tenant, reference: str) -> ZObject | None:
    accounts = tenant.table("Account")
    if reference in accounts:
        return accounts[reference]
    return next((a for a in accounts.values() if a.get("AccountNumber") == reference), None)


def state_page_handlers(tenant_of: Any) -> list[HTTPRouteHandler]:
    """The page's handlers over the tenant `tenant_of()` returns (read at each request)."""

    @get(ACCOUNT_PAGE, include_in_schema=False)
    async def account_page(
        id: FromQuery[str] = "",  # Zuora's name for it
        method: FromQuery[str] = "view",
    ) -> Response[bytes]:
        account = _find(tenant_of(), id) if method == "view" else None
        if account is None:
            return not_found("Zuora", "account", id)
        return _account_page(tenant_of(), account)

    @get("/platform/apps/search", include_in_schema=False)
    async def search(
        searchTerm: FromQuery[str] = "",  # noqa: N803 (Zuora's name for it)
        searchObjectType: FromQuery[str] = "account",  # noqa: N803
    ) -> Response[bytes] | Redirect:
        account = _find(tenant_of(), searchTerm.strip()) if searchObjectType == "account" else None
        if account is None:
            return not_found("Zuora", searchObjectType, searchTerm)
        query = urlencode({"method": "view", "id": account["Id"]})
        return Redirect(f"{ACCOUNT_PAGE}?{query}", status_code=303)

    return [account_page, search]
