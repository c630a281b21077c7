"""Invoices over the emulator's REST face, as Zuora changes them: `PUT /v1/invoices/{key}/unpost`
takes a posted invoice back to Draft (refused once anything is paid or credited on it), and
`PUT /v1/invoices/{key}/cancel` cancels a draft. The same rules hold for SOAP's `update` of an
Invoice's Status (see `state.check_invoice_status`): the tenant is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from adapters.zuora.emulator.rest_shapes import Answer, as_json
from adapters.zuora.emulator.state import Tenant, ZObject, ZuoraError

Route = Callable[..., Answer]


def find_invoice(tenant: Tenant, key: str) -> ZObject:
    """By id or invoice number, as Zuora's `invoiceKey` takes either."""
    for invoice in tenant.table("Invoice").values():
        if key in (invoice["Id"], invoice.get("InvoiceNumber")):
            return invoice
    raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{key}'.")


def invoice_routes(tenant: Tenant) -> list[tuple[str, re.Pattern[str], Route]]:
    def unpost(key: str, **_: Any) -> Answer:
        invoice = find_invoice(tenant, key)
        tenant.update("Invoice", {"Id": invoice["Id"], "Status": "Draft"})
        return as_json({"success": True, "jobStatus": "Completed"}, committed=True)

    def cancel(key: str, **_: Any) -> Answer:
        invoice = find_invoice(tenant, key)
        tenant.update("Invoice", {"Id": invoice["Id"], "Status": "Canceled"})
        return as_json(
            {"success": True, "id": invoice["Id"], "jobStatus": "Completed"}, committed=True
        )

    return [
        ("PUT", re.compile(r"/v1/invoices/([^/]+)/unpost"), unpost),
        ("PUT", re.compile(r"/v1/invoices/([^/]+)/cancel"), cancel),
    ]


def term_json(version: ZObject) -> dict[str, Any]:
    """A subscription's term as `GET /v1/subscriptions/{key}` shows it."""
    return {
        "termType": version.get("TermType") or "EVERGREEN",
        "termStartDate": version.get("TermStartDate"),
        "termEndDate": version.get("TermEndDate"),
        "currentTerm": version.get("CurrentTerm"),
        "currentTermPeriodType": version.get("CurrentTermPeriodType"),
        "subscriptionEndDate": version.get("SubscriptionEndDate"),
    }
