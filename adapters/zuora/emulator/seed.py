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
import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from adapters.money import from_minor_units, to_minor_units
from adapters.ports import next_bill_cycle_date
from adapters.zuora.emulator.debits import start_debit
from adapters.zuora.emulator.documents import minimal_pdf
from adapters.zuora.emulator.pricing import PER_UNIT, VOLUME, add_tiers, charge_amount
from adapters.zuora.emulator.seed_cheques import seed_cheques
from adapters.zuora.emulator.seed_corrections import seed_corrections
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
        "TermType": "EVERGREEN",
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
            "BillingTiming": "In Advance",
            **billed_month(bill_cycle_day, today),
        },
    )
    if seat_tiers:
        add_tiers(tenant, charge_id, seat_tiers)
    charge = tenant.table("RatePlanCharge")[charge_id]
    monthly = charge_amount(tenant, charge, Decimal(seats))
    amount = str(from_minor_units(to_minor_units(monthly, "EUR"), "EUR"))
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
        start_debit(tenant, account_number, to_minor_units(monthly, "EUR"), "EUR", on=today)
    invoice_number = f"INV{sequence:08d}"
    invoice_id = tenant.create(
        "Invoice",
        {
            "AccountId": account_id,
            "InvoiceNumber": invoice_number,
            "Amount": amount,
            "AmountWithoutTax": amount,
            "TaxAmount": "0",
            "Balance": "0",  # paid by the processed payment
            "PaymentAmount": amount,
            "Status": "Posted",
            "InvoiceDate": (today - timedelta(days=30)).isoformat(),
            "DueDate": (today - timedelta(days=30)).isoformat(),
            "Body": base64.b64encode(
                minimal_pdf(f"Invoice {invoice_number}", name, f"Total {amount} EUR")
            ).decode(),
        },
    )
    tenant.create(
        "InvoicePayment", {"InvoiceId": invoice_id, "PaymentId": processed, "Amount": amount}
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


def billed_month(bill_cycle_day: int, today: date) -> dict[str, str]:
    """The month the charge was last billed for, from its billing-cycle day to the next one."""
    end = next_bill_cycle_date(bill_cycle_day, today)
    start = end.replace(day=1) - timedelta(days=1)  # a day of the month before
    start = start.replace(day=min(bill_cycle_day, calendar.monthrange(start.year, start.month)[1]))
    return {"ProcessedThroughDate": start.isoformat(), "ChargedThroughDate": end.isoformat()}


def seat_tiers_of(plan_tiers: Iterable[Any]) -> tuple[SeatTier, ...]:
    """The gateway's tier table (settings `plan_tiers`: min_seats, max_seats,
    monthly_price_minor) as the flat-fee tiers of a volume-priced seat charge."""
    return tuple(
        (
            int(tier.min_seats),
            int(tier.max_seats),
            from_minor_units(int(tier.monthly_price_minor), "EUR"),
            "FlatFee",
        )
        for tier in sorted(plan_tiers, key=lambda tier: int(tier.min_seats))
    )


def seed_demo(tenant: Tenant, seat_tiers: Sequence[SeatTier] = DEMO_SEAT_TIERS) -> list[Customer]:
    """The demo customers; `seat_tiers` from the gateway's tier table when it has one. The
    customers of the corrections demo (`seed_corrections.py`) and of the cheques demo
    (`seed_cheques.py`) come with them."""
    customers = [
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
    seed_corrections(tenant)
    seed_cheques(tenant)
    return customers
