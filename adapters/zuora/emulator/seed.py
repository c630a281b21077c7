"""Customers for the emulator's tenant: what tests set up and what `make run` shows in sandbox.

A customer is an account paying by SEPA direct debit, with a monthly subscription of seats, a
processed payment, a payment still being collected, and a posted invoice with its PDF.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, timedelta

from adapters.zuora.emulator.state import Tenant, new_id

# The customers of the gateway's sandbox demo (gateway/demo.py), under the same references:
# account number, company, current IBAN (published test numbers), bill-cycle day, seats.
DEMO_CUSTOMERS = (
    ("A00000101", "Atelier Lumière SARL", "FR1420041010050500013M02606", 5, 3),
    ("A00000102", "Brasserie du Port SAS", "DE89370400440532013000", 1, 1),
    ("A00000103", "Estudio Sol SL", "ES9121000418450200051332", 15, 8),
)


@dataclass(frozen=True)
class Customer:
    account_id: str
    account_number: str
    payment_method_id: str
    subscription_number: str
    charge_number: str
    processed_payment_id: str
    invoice_id: str


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF that viewers open: enough to prove the bytes came through untouched."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def add_customer(
    tenant: Tenant,
    *,
    account_number: str,
    name: str,
    iban: str,
    bill_cycle_day: int = 5,
    seats: int = 10,
    seat_price: str = "29.00",
    today: date | None = None,
) -> Customer:
    today = today or date.today()
    started = (today - timedelta(days=90)).replace(day=min(bill_cycle_day, 28))
    account_id = tenant.create(
        "Account",
        {
            "AccountNumber": account_number,
            "Name": name,
            "Currency": "EUR",
            "BillCycleDay": bill_cycle_day,
            "Status": "Active",
        },
    )
    tenant.create(
        "Contact",
        {
            "AccountId": account_id,
            "FirstName": "Billing",
            "LastName": name,
            "WorkEmail": f"billing@{account_number.lower()}.example",
        },
    )
    method_id = tenant.create(
        "PaymentMethod",
        {
            "AccountId": account_id,
            "Type": "BankTransfer",
            "BankTransferType": "SEPA",
            "IBAN": iban,
            "BankTransferAccountName": name,
            "MandateID": f"MANDATE-{account_number}",
            "MandateReceived": "Yes",
            "MandateCreationDate": started.isoformat(),
        },
    )
    tenant.update("Account", {"Id": account_id, "DefaultPaymentMethodId": method_id})
    sequence = len(tenant.table("Subscription")) + 1
    subscription_id = new_id()
    subscription_number = f"A-S{account_number[1:]}"
    tenant.table("Subscription")[subscription_id] = {
        "Id": subscription_id,
        "OriginalId": subscription_id,
        "AccountId": account_id,
        "Name": subscription_number,
        "Status": "Active",
        "Version": 1,
        "TermStartDate": started.isoformat(),
        "ContractEffectiveDate": started.isoformat(),
    }
    plan_id = tenant.create(
        "RatePlan",
        {
            "SubscriptionId": subscription_id,
            "Name": "Seats, monthly",
            "ProductRatePlanId": new_id(),
        },
    )
    charge_number = f"C-{sequence:08d}"
    tenant.create(
        "RatePlanCharge",
        {
            "RatePlanId": plan_id,
            "Name": "Seat",
            "ChargeNumber": charge_number,
            "ChargeType": "Recurring",
            "BillingPeriod": "Month",
            "Price": seat_price,
            "Quantity": str(seats),
            "ProductRatePlanChargeId": new_id(),
            "Segment": 1,
            "IsLastSegment": True,
            "EffectiveStartDate": started.isoformat(),
        },
    )
    amount = f"{int(seats) * float(seat_price):.2f}"
    processed = tenant.create(
        "Payment",
        {
            "AccountId": account_id,
            "Amount": amount,
            "Status": "Processed",
            "PaymentMethodId": method_id,
            "EffectiveDate": (today - timedelta(days=30)).isoformat(),
            "Type": "Electronic",
        },
    )
    tenant.create(
        "Payment",
        {
            "AccountId": account_id,
            "Amount": amount,
            "Status": "Processing",
            "PaymentMethodId": method_id,
            "EffectiveDate": (today - timedelta(days=1)).isoformat(),
            "Type": "Electronic",
        },
    )
    invoice_number = f"INV{sequence:08d}"
    invoice_id = tenant.create(
        "Invoice",
        {
            "AccountId": account_id,
            "InvoiceNumber": invoice_number,
            "Amount": amount,
            "AmountWithoutTax": amount,
            "TaxAmount": "0",
            "Status": "Posted",
            "InvoiceDate": (today - timedelta(days=30)).isoformat(),
            "Body": base64.b64encode(minimal_pdf(f"{name} {invoice_number}")).decode(),
        },
    )
    return Customer(
        account_id,
        account_number,
        method_id,
        subscription_number,
        charge_number,
        processed,
        invoice_id,
    )


def seed_demo(tenant: Tenant) -> list[Customer]:
    return [
        add_customer(
            tenant, account_number=number, name=name, iban=iban, bill_cycle_day=day, seats=seats
        )
        for number, name, iban, day, seats in DEMO_CUSTOMERS
    ]
