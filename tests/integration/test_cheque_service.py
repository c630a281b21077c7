"""ChequeService against the Zuora and Stripe emulators over loopback HTTP, through the real
adapters: a cheque recorded pays its invoice at the provider, a bounce makes it due again, a
repeat never records twice, and the sweep finishes a cheque its process left `recording`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from adapters.ports import Invoice
from audit.entry import SYSTEM
from audit.store import read_payload
from gateway.api_keys.scopes import Scope
from gateway.api_keys.service import ApiClient, issue_key
from gateway.cheques.exports import slip_csv
from gateway.cheques.schemas import BatchClose, ChequeCreate
from gateway.cheques.service import ChequeService, Requester
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.idempotency.answers import AnswerSlot
from gateway.notifications.fanout import audience
from gateway.providers import Providers, providers_from_settings
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.cheque_staff import add_staff, by, forget_numbering

TOOL = ApiClient(uuid.uuid4(), "scanner", frozenset(), None, "bank-scanner")
# The emulators' cheque customers, by their back-office id (the same at both providers).
EUR, USD = "BO-CHEQUE-EUR", "BO-CHEQUE-USD"


@pytest.fixture
async def adapters(provider_emulators: None) -> AsyncIterator[Providers]:
    built = providers_from_settings(get_settings())
    yield built
    await built.close()


@pytest.fixture
async def staff() -> dict[str, StaffMember]:
    await forget_numbering()
    return {
        "olga": await add_staff("olga", Role.OPERATIONS, "Olga", "Petit"),
        "omar": await add_staff("omar", Role.OPERATIONS, "Omar", "Haddad"),
    }


@pytest.fixture
def service(adapters: Providers, staff: Any) -> ChequeService:
    async def no_worker(_: uuid.UUID) -> None:
        return None

    return ChequeService(get_settings(), adapters, defer=no_worker)


async def open_invoices(service: ChequeService, provider: str, customer: str) -> list[Invoice]:
    _, invoices = await service.open_invoices(provider, customer)
    return sorted(invoices, key=lambda invoice: invoice.balance.amount_minor)


def order(
    provider: str,
    account_id: str,
    invoice_id: str | None,
    amount: int,
    reference: str,
    currency: str = "EUR",
) -> ChequeCreate:
    return ChequeCreate(
        provider=provider,  # type: ignore[arg-type]
        account_id=account_id,
        invoice_id=invoice_id,
        amount_minor=amount,
        currency=currency,
        reference=reference,
        depositor="olga",
    )


@pytest.mark.parametrize("provider", ["zuora", "stripe"])
async def test_a_cheque_pays_its_invoice_and_a_bounce_makes_it_due_again(
    service: ChequeService, adapters: Providers, staff: dict[str, StaffMember], provider: str
) -> None:
    adapter: Any = adapters.get(provider)
    account, _ = await service.open_invoices(provider, EUR)
    small, *_ = await open_invoices(service, provider, EUR)  # 49.00 EUR
    assert small.balance.amount_minor == 4_900
    day = service.business_date_now()
    paid = await service.record(
        order(provider, account.id, small.number or small.id, 4_900, "0001234"), by(staff["olga"])
    )
    assert paid.status == "recorded" and paid.number == f"OP-{day:%Y%m%d}-0001"
    assert paid.invoice_id == small.id and paid.invoice_status == "paid"
    assert (await adapter.get_invoice(small.id)).status == "paid"
    found = await adapter.find_offline_payment(account.id, paid.payment_number)
    assert found is not None and found.reference == "0001234" and found.status == "recorded"

    bounced = await service.bounce(paid.id, "Returned by the bank: no funds.", by(staff["omar"]))
    assert bounced.status == "bounced" and bounced.invoice_status == "open"
    invoice = await adapter.get_invoice(small.id)
    assert invoice.status == "open" and invoice.balance.amount_minor == 4_900
    [event] = await fetch("SELECT payload FROM notification_events WHERE type = 'cheque.bounced'")
    assert "open again" in event["payload"]


@pytest.mark.parametrize("provider", ["zuora", "stripe"])
async def test_a_credit_a_duplicate_and_an_amount_above_the_balance(
    service: ChequeService, staff: dict[str, StaffMember], provider: str
) -> None:
    account, _ = await service.open_invoices(provider, USD)
    olga = by(staff["olga"])
    credit = await service.record(order(provider, account.id, None, 2_500, "88", "USD"), olga)
    assert credit.status == "recorded" and credit.credit
    with pytest.raises(BillingError) as twice:
        await service.record(order(provider, account.id, None, 2_500, "88", "USD"), olga)
    assert twice.value.code is ErrorCode.CHEQUE_ALREADY_RECORDED
    assert twice.value.extra["cheque_id"] == str(credit.id)
    big = (await open_invoices(service, provider, USD))[-1]  # 1200.00 USD
    with pytest.raises(BillingError) as over:
        await service.record(order(provider, account.id, big.id, 120_001, "89", "USD"), olga)
    assert over.value.code is ErrorCode.CHEQUE_EXCEEDS_INVOICE
    assert "1200.00 USD" in over.value.detail
    with pytest.raises(BillingError) as wrong_currency:
        await service.record(order(provider, account.id, big.id, 100, "90", "EUR"), olga)
    assert wrong_currency.value.code is ErrorCode.CURRENCY_MISMATCH


async def test_a_card_number_is_refused_and_stored_nowhere(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    account, _ = await service.open_invoices("zuora", EUR)
    with pytest.raises(BillingError) as refused:
        await service.record(
            order("zuora", account.id, None, 100, "4111 1111 1111 1111"), by(staff["olga"])
        )
    assert refused.value.code is ErrorCode.CARD_NUMBER_NOT_ACCEPTED
    for table in ("cheques", "cheque_batches", "notification_events", "idempotency_keys"):
        rows = await fetch(f"SELECT count(*) AS n FROM {table} t WHERE t::text LIKE '%4111%'")
        assert rows[0]["n"] == 0, table
    [entry] = await fetch("SELECT * FROM audit_records WHERE action = 'cheque.record.refused'")
    assert "4111" not in str(await read_payload(entry))


@pytest.mark.parametrize("provider", ["zuora", "stripe"])
async def test_a_retry_with_the_same_key_returns_the_same_cheque(
    service: ChequeService, adapters: Providers, staff: Any, provider: str
) -> None:
    account, _ = await service.open_invoices(provider, EUR)
    first_invoice = (await open_invoices(service, provider, EUR))[1]  # 120.00
    slot = AnswerSlot(uuid.uuid4(), "scanner-0001")
    api = Requester.of_api_key(TOOL)
    cheque = order(provider, account.id, first_invoice.id, 12_000, "555")
    first = await service.record(cheque, api, answer=slot)
    again = await service.record(cheque, api, answer=slot)
    assert again.id == first.id and again.status == "recorded"
    assert (await fetch("SELECT count(*) AS n FROM cheques"))[0]["n"] == 1
    adapter: Any = adapters.get(provider)
    assert (await adapter.get_invoice(first_invoice.id)).balance.amount_minor == 0


@pytest.mark.parametrize("provider", ["zuora", "stripe"])
async def test_the_sweep_finishes_a_cheque_its_process_left_recording(
    service: ChequeService, adapters: Providers, staff: dict[str, StaffMember], provider: str
) -> None:
    account, _ = await service.open_invoices(provider, EUR)
    small, medium, _ = await open_invoices(service, provider, EUR)
    olga = by(staff["olga"])
    first = await service.record(order(provider, account.id, small.id, 4_900, "1"), olga)
    # a second cheque whose process died after storing it, before calling the provider
    crashed = uuid.uuid4()
    number = first.number[:-4] + "0002"
    await fetch(
        "INSERT INTO cheques (id, number, payment_number, reference, provider, account_id,"
        " invoice_id, invoice_number, amount_minor, currency, business_date, batch_id,"
        " depositor_staff_id, status, entered_by, updated_at)"
        " VALUES ($1, $2, $3, '2', $4, $5, $6, $7, 12000, 'EUR', $8, $9, $10, 'recording',"
        ' \'{"kind": "staff", "id": "olga", "role": "operations"}\','
        " now() - interval '2 minutes')",
        crashed,
        number,
        "CHQ-" + number,
        provider,
        account.id,
        medium.id,
        medium.number,
        first.business_date,
        first.batch_id,
        staff["olga"].id,
    )
    with pytest.raises(BillingError) as depositor:
        await service.close_batch(
            first.batch_id, BatchClose(scanner_total_minor=16_900, closed_by="omar"), olga
        )
    assert depositor.value.code is ErrorCode.CHEQUE_BATCH_SECOND_PERSON  # olga deposited it
    omar = by(staff["omar"])
    with pytest.raises(BillingError) as busy:
        await service.close_batch(
            first.batch_id, BatchClose(scanner_total_minor=16_900, closed_by="omar"), omar
        )
    assert busy.value.code is ErrorCode.CHEQUE_BATCH_BUSY
    assert await service.finish_unfinished() == 1
    done = await service.read(crashed)
    assert done.status == "recorded" and done.invoice_status == "paid"
    adapter: Any = adapters.get(provider)
    assert (await adapter.get_invoice(medium.id)).status == "paid"
    assert await service.finish_unfinished(0) == 0

    with pytest.raises(BillingError) as wrong:
        await service.close_batch(
            first.batch_id, BatchClose(scanner_total_minor=12_000, closed_by="omar"), omar
        )
    assert wrong.value.extra["difference"]["amount_minor"] == 4_900
    closed = await service.close_batch(
        first.batch_id, BatchClose(scanner_total_minor=16_900, closed_by="omar"), omar
    )
    assert closed.status == "closed" and closed.cheque_count == 2
    slip = slip_csv(await service.slip(first.batch_id))
    assert first.number in slip and number in slip and "total,,,,,,169.00,16900,EUR" in slip


async def test_the_report_sums_per_day_and_currency_across_providers(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    olga = by(staff["olga"])
    zuora, _ = await service.open_invoices("zuora", EUR)
    stripe, _ = await service.open_invoices("stripe", USD)
    stripe_eur, _ = await service.open_invoices("stripe", EUR)
    await service.record(order("zuora", zuora.id, None, 1_000, "1"), olga)
    await service.record(order("stripe", stripe_eur.id, None, 2_000, "1"), olga)
    bounced = await service.record(order("stripe", stripe.id, None, 3_000, "2", "USD"), olga)
    await service.bounce(bounced.id, "no funds", olga)
    today = service.business_date_now()
    report = await service.report(today - timedelta(days=29), today)
    got = [
        (d.currency, d.cheque_count, d.cheque_total.amount_minor, d.bounced_count, d.batches_open)
        for d in report.days
    ]
    assert got == [("EUR", 2, 3_000, 0, 1), ("USD", 1, 3_000, 1, 1)]


async def test_two_depositors_with_the_same_initials_get_distinct_numbers(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    oscar = await add_staff("oscar", Role.OPERATIONS, "Oscar", "Perez")  # OP, as Olga Petit
    account, _ = await service.open_invoices("zuora", USD)
    day = service.business_date_now()
    olgas = await service.record(
        order("zuora", account.id, None, 100, "71", "USD"), by(staff["olga"])
    )
    oscars = await service.record(order("zuora", account.id, None, 200, "72", "USD"), by(oscar))
    assert (olgas.number, oscars.number) == (f"OP-{day:%Y%m%d}-0001", f"OP-{day:%Y%m%d}-0002")
    assert olgas.status == oscars.status == "recorded"


async def file_change_request(client: str, **customer: str) -> None:
    """A change request of `client` for the customer, as the API stores one."""
    key = await issue_key(client, [Scope.CHANGE_REQUESTS_WRITE], actor=SYSTEM, client=client)
    await fetch(
        "INSERT INTO change_requests (id, kind, status, ticket, zuora_account_id,"
        " stripe_customer_id, requester, contact_reasons, details, api_key, client)"
        " VALUES ($1, 'iban_change', 'new', 'zendesk:1', $2, $3, '{}', '{}', '{}', $4, $5)",
        uuid.uuid4(),
        customer.get("zuora_account_id"),
        customer.get("stripe_customer_id"),
        key.id,
        client,
    )


async def test_a_bounce_reaches_the_support_tools_that_filed_work_for_the_customer(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    zuora, _ = await service.open_invoices("zuora", EUR)
    stripe, _ = await service.open_invoices("stripe", EUR)
    assert zuora.number and zuora.number != zuora.id
    await file_change_request("helpdesk-z", zuora_account_id=zuora.number)  # as support names it
    await file_change_request("helpdesk-s", stripe_customer_id=stripe.id)
    await file_change_request("unrelated", zuora_account_id="A99999999")
    olga = by(staff["olga"])
    in_office = await service.record(order("zuora", zuora.id, None, 100, "61"), olga)
    scanned = await service.record(
        order("stripe", stripe.id, None, 100, "62"), Requester.of_api_key(TOOL)
    )
    endpoints: list[dict[str, Any]] = [
        {"id": uuid.uuid4(), "events": ["cheque.*"], "client": client}
        for client in ("helpdesk-z", "helpdesk-s", TOOL.client, "unrelated")
    ]
    reached: dict[str, set[str]] = {}
    for cheque in (in_office, scanned):
        await service.bounce(cheque.id, "no funds", olga)
        [event] = await fetch(
            "SELECT type, client, customer FROM notification_events"
            " WHERE type = 'cheque.bounced' AND subject_id = $1",
            str(cheque.id),
        )
        chosen = set(await audience(event, endpoints))
        reached[cheque.provider] = {e["client"] for e in endpoints if e["id"] in chosen}
    # in the back office (no client): the customer's tools; by the scanner's key: both
    assert reached == {"zuora": {"helpdesk-z"}, "stripe": {"helpdesk-s", "bank-scanner"}}
