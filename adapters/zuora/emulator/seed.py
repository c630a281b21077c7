"""Customers for the emulator's tenant: what tests set up and what `make run` shows in sandbox.

A customer is an account paying by SEPA direct debit, with a monthly subscription of seats (priced
per seat, or by tiers of seats), a processed payment, a posted invoice with its PDF, and, when
asked, a direct debit still being collected (see `debits.py`).

The demo: A00000101 pays by a SEPA default method an IBAN change can replace from start to
finish; A00000102 has a debit in flight (an IBAN change must wait); A00000103 can be upsold, its
seats priced by the tier table, billed on the 15th.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from adapters.zuora.emulator.debits import start_debit
from adapters.zuora.emulator.pricing import PER_UNIT, VOLUME, add_tiers, charge_amount
from adapters.zuora.emulator.state import Tenant, new_id

# (starting seat, ending seat or None, price, "FlatFee" | "PerUnit")
SeatTier = tuple[int, int | None, Decimal, str]
# The gateway's default tier table (settings DEFAULT_PLAN_TIERS) as a volume-priced charge: the
# month costs the flat fee of the tier the seat count falls in.
DEMO_SEAT_TIERS: tuple[SeatTier, ...] = (
    (1, 1, Decimal("29.00"), "FlatFee"),
    (2, 4, Decimal("49.00"), "FlatFee"),
    (5, 10, Decimal("99.00"), "FlatFee"),
    (11, 50, Decimal("249.00"), "FlatFee"),
)
Address = tuple[str, str, str, str]  # line 1, city, postal code, country


@dataclass(frozen=True)
class DemoCustomer:
    number: str
    name: str
    iban: str  # the current one: a published test number
    bill_cycle_day: int
    seats: int
    tiered: bool  # seats priced by the tier table, else 29.00 each
    debit_in_flight: bool
    email: str  # the bill-to contact's, as the agent verifies it (the Stripe customer's too)
    address: Address


# The customers of the gateway's sandbox demo (gateway/demo.py), under the same references.
DEMO_CUSTOMERS = (
    DemoCustomer(
        "A00000101",
        "Atelier Lumière SARL",
        "FR1420041010050500013M02606",
        5,
        3,
        tiered=False,
        debit_in_flight=False,
        email="billing@shop-101.example",
        address=("12 rue des Ateliers", "Paris", "75011", "FR"),
    ),
    DemoCustomer(
        "A00000102",
        "Brasserie du Port SAS",
        "DE89370400440532013000",
        1,
        1,
        tiered=True,
        debit_in_flight=True,
        email="billing@shop-102.example",
        address=("3 quai du Port", "Marseille", "13002", "FR"),
    ),
    DemoCustomer(
        "A00000103",
        "Estudio Sol SL",
        "ES9121000418450200051332",
        15,
        8,
        tiered=True,
        debit_in_flight=False,
        email="billing@shop-103.example",
        address=("Calle del Sol 8", "Madrid", "28013", "ES"),
    ),
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
    seat_tiers: Sequence[SeatTier] | None = None,
    debit_in_flight: bool = False,
    email: str | None = None,
    address: Address | None = None,
    today: date | None = None,
) -> Customer:
    """`seat_tiers` prices the seats by volume tiers instead of `seat_price` each;
    `debit_in_flight` leaves this month's direct debit being collected."""
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
    line1, city, postal_code, country = address or (None, None, None, None)
    contact_id = tenant.create(
        "Contact",
        {
            "AccountId": account_id,
            "FirstName": "Billing",
            "LastName": name,
            "WorkEmail": email or f"billing@{account_number.lower()}.example",
            "Address1": line1,
            "City": city,
            "PostalCode": postal_code,
            "Country": country,
        },
    )
    account = tenant.table("Account")[account_id]
    account.update(BillToId=contact_id, SoldToId=contact_id)
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
    charge_id = tenant.create(
        "RatePlanCharge",
        {
            "RatePlanId": plan_id,
            "Name": "Seat",
            "ChargeNumber": charge_number,
            "ChargeType": "Recurring",
            "ChargeModel": VOLUME if seat_tiers else PER_UNIT,
            "BillingPeriod": "Month",
            "Price": None if seat_tiers else seat_price,
            "Quantity": str(seats),
            "ProductRatePlanChargeId": new_id(),
            "Segment": 1,
            "IsLastSegment": True,
            "EffectiveStartDate": started.isoformat(),
        },
    )
    if seat_tiers:
        add_tiers(tenant, charge_id, seat_tiers)
    charge = tenant.table("RatePlanCharge")[charge_id]
    monthly = charge_amount(tenant, charge, Decimal(seats))
    amount = f"{monthly:.2f}"
    processed = tenant.create(
        "Payment",
        {
            "AccountId": account_id,
            "Amount": amount,
            "Status": "Processed",
            "GatewayState": "Settled",
            "PaymentMethodId": method_id,
            "EffectiveDate": (today - timedelta(days=30)).isoformat(),
            "Type": "Electronic",
        },
    )
    if debit_in_flight:
        start_debit(tenant, account_number, int(monthly * 100), "EUR", on=today)
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


def seat_tiers_of(plan_tiers: Iterable[Any]) -> tuple[SeatTier, ...]:
    """The gateway's tier table (settings `plan_tiers`: min_seats, max_seats,
    monthly_price_minor) as the flat-fee tiers of a volume-priced seat charge."""
    return tuple(
        (
            int(tier.min_seats),
            int(tier.max_seats),
            Decimal(int(tier.monthly_price_minor)) / 100,
            "FlatFee",
        )
        for tier in sorted(plan_tiers, key=lambda tier: int(tier.min_seats))
    )


def seed_demo(tenant: Tenant, seat_tiers: Sequence[SeatTier] = DEMO_SEAT_TIERS) -> list[Customer]:
    """The demo customers; `seat_tiers` from the gateway's tier table when it has one."""
    return [
        add_customer(
            tenant,
            account_number=demo.number,
            name=demo.name,
            iban=demo.iban,
            bill_cycle_day=demo.bill_cycle_day,
            seats=demo.seats,
            seat_tiers=seat_tiers if demo.tiered else None,
            debit_in_flight=demo.debit_in_flight,
            email=demo.email,
            address=demo.address,
        )
        for demo in DEMO_CUSTOMERS
    ]
