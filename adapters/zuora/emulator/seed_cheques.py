"""The customers of the cheques demo: one per currency, who pay their invoices by cheque, seeded
next to the other demo customers under fixed numbers, so that tests, the README and the back
office find them: accounts `A-CHEQUE-EUR`, `A-CHEQUE-USD`, `A-CHEQUE-GBP` (back-office ids
`BO-CHEQUE-EUR` ...), each with three posted, unpaid invoices (120.00, 49.00 and 1200.00 in its
currency, numbered `INV-CHEQUE-EUR-1` ...). The tenant's own Check payment method, which a
cheque is recorded with, comes with them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta

from adapters.zuora.emulator.documents import minimal_pdf
from adapters.zuora.emulator.external_payments import add_tenant_payment_methods
from adapters.zuora.emulator.state import Tenant, now_text

CHEQUE_INVOICE_AMOUNTS = ("120.00", "49.00", "1200.00")


@dataclass(frozen=True)
class ChequeDemo:
    suffix: str  # account A-{suffix}, back-office id BO-{suffix}
    name: str
    email: str
    currency: str


CHEQUE_DEMOS = (
    ChequeDemo("CHEQUE-EUR", "Cheque Customer EUR SARL", "billing@cheque-eur.example", "EUR"),
    ChequeDemo("CHEQUE-USD", "Cheque Customer USD Inc", "billing@cheque-usd.example", "USD"),
    ChequeDemo("CHEQUE-GBP", "Cheque Customer GBP Ltd", "billing@cheque-gbp.example", "GBP"),
)


def add_cheque_demo(tenant: Tenant, demo: ChequeDemo, today: date | None = None) -> str:
    """One cheque customer with its three open invoices; returns its account id."""
    today = today or date.today()
    add_tenant_payment_methods(tenant)
    account_id = tenant.create(
        "Account",
        {
            "AccountNumber": f"A-{demo.suffix}",
            "Name": demo.name,
            "Currency": demo.currency,
            "BillCycleDay": min(today.day, 28),
            "Status": "Active",
            "CrmId": f"BO-{demo.suffix}",  # the back-office id, where Zuora keeps a CRM's
            "CreditBalance": "0",
        },
    )
    contact_id = tenant.create(
        "Contact",
        {
            "AccountId": account_id,
            "FirstName": "Accounts",
            "LastName": demo.name,
            "WorkEmail": demo.email,
        },
    )
    tenant.table("Account")[account_id].update(BillToId=contact_id, SoldToId=contact_id)
    for position, amount in enumerate(CHEQUE_INVOICE_AMOUNTS, start=1):
        issued = today - timedelta(days=7 * (len(CHEQUE_INVOICE_AMOUNTS) - position + 1))
        number = f"INV-{demo.suffix}-{position}"
        pdf = minimal_pdf(
            f"Invoice {number}", demo.name, f"Total {amount} {demo.currency}", f"Issued {issued}"
        )
        tenant.create(
            "Invoice",
            {
                "AccountId": account_id,
                "InvoiceNumber": number,
                "Amount": amount,
                "AmountWithoutTax": amount,
                "TaxAmount": "0",
                "Balance": amount,
                "PaymentAmount": "0",
                "RefundAmount": "0",
                "Status": "Posted",
                "InvoiceDate": issued.isoformat(),
                "DueDate": (issued + timedelta(days=30)).isoformat(),
                "PostedDate": now_text(),
                "Body": base64.b64encode(pdf).decode(),
            },
        )
    return account_id


def seed_cheques(tenant: Tenant, today: date | None = None) -> bool:
    """The tenant's Check method and the three cheque customers, each unless already there;
    whether anything was added."""
    methods = add_tenant_payment_methods(tenant)
    numbers = {account.get("AccountNumber") for account in tenant.table("Account").values()}
    added = [
        add_cheque_demo(tenant, demo, today)
        for demo in CHEQUE_DEMOS
        if f"A-{demo.suffix}" not in numbers
    ]
    return methods or bool(added)
