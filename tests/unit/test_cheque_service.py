"""ChequeService over PostgreSQL and an in-memory provider (tests/fake_offline.py): numbering,
batches and their close by a second person, bounces, refusals, retries and the sweep. The
real adapters and emulators are in tests/integration/test_cheque_service.py."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest

from adapters.ports import NewOfflinePayment, OfflinePayment
from audit.store import read_payload
from gateway.api_keys.service import ApiClient
from gateway.cheques import writing
from gateway.cheques.exports import slip_csv
from gateway.cheques.schemas import BatchClose, ChequeCreate
from gateway.cheques.service import ChequeService, Requester
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.idempotency.answers import AnswerSlot
from gateway.providers import Providers
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.cheque_staff import add_staff, by, forget_numbering
from tests.fake_offline import FakeOffline

TOOL = ApiClient(uuid.uuid4(), "scanner", frozenset(), None, "bank-scanner")


@pytest.fixture
async def staff(clean: None) -> dict[str, StaffMember]:
    await forget_numbering()
    return {
        "olga": await add_staff("olga", Role.OPERATIONS, "Olga", "Petit"),
        "omar": await add_staff("omar", Role.OPERATIONS, "Omar", "Haddad"),
        "zed": await add_staff("zed", Role.OPERATIONS),
        "lee": await add_staff("lee", Role.TEAM_LEAD, "Lee", "Tan"),
        "sam": await add_staff("sam", Role.SPECIALIST, "Sam", "Roe"),
    }


@pytest.fixture
def fake() -> FakeOffline:
    provider = FakeOffline()
    provider.account("A-EUR", "EUR", 12_000, 4_900, 120_000)
    provider.account("A-USD", "USD", 12_000)
    return provider


@pytest.fixture
def deferred() -> list[uuid.UUID]:
    return []


@pytest.fixture
def service(staff: Any, fake: FakeOffline, deferred: list[uuid.UUID]) -> ChequeService:
    async def remember(cheque_id: uuid.UUID) -> None:
        deferred.append(cheque_id)

    return ChequeService(get_settings(), Providers({"zuora": fake}), defer=remember)


def cheque(
    reference: str = "0001234",
    amount: int = 12_000,
    *,
    account: str = "A-EUR",
    invoice: str | None = "inv_A-EUR_1",
    currency: str = "EUR",
    note: str | None = None,
) -> ChequeCreate:
    return ChequeCreate(
        provider="zuora",
        account_id=account,
        invoice_id=invoice,
        amount_minor=amount,
        currency=currency,
        reference=reference,
        depositor="olga",
        note=note,
    )


async def actions(target: str) -> list[str]:
    rows = await fetch("SELECT action FROM audit_records WHERE target_id = $1 ORDER BY id", target)
    return [row["action"] for row in rows]


async def test_cheques_are_numbered_with_the_depositors_initials(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    day = service.business_date_now()
    first = await service.record(cheque("0001"), by(staff["olga"]))
    credit = await service.record(cheque("0002", 500, invoice=None), by(staff["olga"]))
    other = await service.record(cheque("0003", 4_900, invoice="INV-A-EUR-2"), by(staff["zed"]))
    assert first.number == f"OP-{day:%Y%m%d}-0001" and first.status == "recorded"
    assert first.payment_number == f"CHQ-OP-{day:%Y%m%d}-0001"
    assert credit.number == f"OP-{day:%Y%m%d}-0002" and credit.credit
    assert other.number == f"ZE-{day:%Y%m%d}-0001"  # no names: the username's letters
    assert other.invoice_id == "inv_A-EUR_2"  # found by its number
    assert first.invoice_status == "paid" and fake.invoices["inv_A-EUR_1"].status == "paid"
    assert first.entered_by == "staff:olga" and first.depositor == "olga"
    assert await actions(str(first.id)) == ["cheque.record.succeeded"]
    [event] = await fetch(
        "SELECT type, client, payload FROM notification_events WHERE subject_id = $1",
        str(first.id),
    )
    assert event["type"] == "cheque.recorded" and event["client"] is None
    assert "against invoice INV-A-EUR-1" in event["payload"]


async def test_through_the_api_the_depositor_is_named_and_must_be_operations(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    api = Requester.of_api_key(TOOL)
    made = await service.record(cheque(), api)
    assert made.depositor == "olga" and made.entered_by == "api_key:bank-scanner"
    for name in ("lee", "nobody"):
        order = ChequeCreate(**{**_fields(cheque("0009")), "depositor": name})
        with pytest.raises(BillingError) as refused:
            await service.record(order, api)
        assert refused.value.code is ErrorCode.DEPOSITOR_UNKNOWN
    with pytest.raises(BillingError) as specialist:
        await service.record(cheque("0010"), by(staff["sam"]))
    assert specialist.value.code is ErrorCode.ROLE_NOT_ALLOWED


def _fields(order: ChequeCreate) -> dict[str, Any]:
    return {name: getattr(order, name) for name in order.__struct_fields__}


async def test_one_open_batch_per_day_currency_and_depositor_and_a_new_one_after_close(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    a = await service.record(cheque("1"), by(staff["olga"]))
    b = await service.record(cheque("2", 4_900, invoice="inv_A-EUR_2"), by(staff["olga"]))
    usd = await service.record(
        cheque("3", 12_000, account="A-USD", invoice=None, currency="USD"), by(staff["olga"])
    )
    omar = await service.record(cheque("4", 1_000, invoice=None), by(staff["omar"]))
    assert a.batch_id == b.batch_id
    assert len({a.batch_id, usd.batch_id, omar.batch_id}) == 3
    batch = await service.batch(a.batch_id)
    assert (batch.cheque_count, batch.total.amount_minor, batch.sequence) == (2, 16_900, 1)
    assert batch.name.endswith("EUR OP #1") and batch.status == "open"
    closed = await service.close_batch(
        a.batch_id, BatchClose(scanner_total_minor=16_900, closed_by="omar"), by(staff["omar"])
    )
    assert closed.status == "closed" and closed.closed_by == "omar"
    later = await service.record(cheque("5", 1_000, invoice=None), by(staff["olga"]))
    assert later.batch_id != a.batch_id
    assert (await service.batch(later.batch_id)).sequence == 2
    with pytest.raises(BillingError) as again:
        await service.close_batch(
            a.batch_id, BatchClose(scanner_total_minor=16_900, closed_by="lee"), by(staff["lee"])
        )
    assert again.value.code is ErrorCode.CHEQUE_BATCH_CLOSED


async def test_closing_needs_a_second_person_of_operations_or_a_lead(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    made = await service.record(cheque(), by(staff["olga"]))
    body = BatchClose(scanner_total_minor=12_000, closed_by="olga")
    for who in ("olga", "sam"):
        with pytest.raises(BillingError) as refused:
            await service.close_batch(made.batch_id, body, by(staff[who]))
        assert refused.value.code is ErrorCode.CHEQUE_BATCH_SECOND_PERSON
        assert refused.value.status == 403
    # through the API, `closed_by` names the second person
    api = Requester.of_api_key(TOOL)
    with pytest.raises(BillingError) as depositor:
        await service.close_batch(made.batch_id, body, api)
    assert "olga deposited this batch" in depositor.value.detail
    closed = await service.close_batch(
        made.batch_id, BatchClose(scanner_total_minor=12_000, closed_by="lee"), api
    )
    assert closed.status == "closed" and closed.closed_by == "lee"
    assert (await actions(str(made.batch_id))).count("cheque_batch.close.refused") == 3
    assert (await actions(str(made.batch_id)))[-1] == "cheque_batch.close.succeeded"


async def test_a_wrong_scanner_total_keeps_the_batch_open_and_lists_the_late_cheques(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    first = await service.record(cheque("1"), by(staff["olga"]))
    omar = by(staff["omar"])
    with pytest.raises(BillingError) as wrong:
        await service.close_batch(
            first.batch_id, BatchClose(scanner_total_minor=11_000, closed_by="omar"), omar
        )
    assert wrong.value.code is ErrorCode.CHEQUE_BATCH_TOTAL_MISMATCH
    extra = wrong.value.extra
    assert extra["difference"] == {"amount_minor": 1_000, "currency": "EUR"}
    assert extra["cheques_since_scan"] == []  # the first scan: nothing before it
    assert "10.00 EUR" in wrong.value.detail
    late = await service.record(cheque("2", 4_900, invoice="inv_A-EUR_2"), by(staff["olga"]))
    with pytest.raises(BillingError) as again:
        await service.close_batch(
            first.batch_id, BatchClose(scanner_total_minor=12_000, closed_by="omar"), omar
        )
    since = again.value.extra["cheques_since_scan"]
    assert [c["number"] for c in since] == [late.number]
    assert since[0]["amount"] == {"amount_minor": 4_900, "currency": "EUR"}
    batch = await service.batch(first.batch_id)
    assert batch.status == "open" and batch.last_scan is not None
    assert batch.last_scan.difference.amount_minor == 4_900 and not batch.last_scan.matched
    scans = await fetch(
        "SELECT matched, scanner_total_minor FROM cheque_batch_scans WHERE batch_id = $1"
        " ORDER BY id",
        first.batch_id,
    )
    assert [(s["matched"], s["scanner_total_minor"]) for s in scans] == [
        (False, 11_000),
        (False, 12_000),
    ]
    # with the scanner's own time, cheques entered after it are listed
    with pytest.raises(BillingError) as timed:
        await service.close_batch(
            first.batch_id,
            BatchClose(
                scanner_total_minor=12_000,
                closed_by="omar",
                scanned_at=first.entered_at + timedelta(microseconds=1),
            ),
            omar,
        )
    assert [c["number"] for c in timed.value.extra["cheques_since_scan"]] == [late.number]
    closed = await service.close_batch(
        first.batch_id, BatchClose(scanner_total_minor=16_900, closed_by="omar"), omar
    )
    assert closed.status == "closed" and closed.last_scan and closed.last_scan.matched


async def test_a_cheque_still_being_written_makes_the_batch_busy(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline, deferred: list[Any]
) -> None:
    fake.down = True
    pending = await service.record(cheque(), by(staff["olga"]))
    assert pending.status == "recording" and deferred == [pending.id]
    with pytest.raises(BillingError) as busy:
        await service.close_batch(
            pending.batch_id,
            BatchClose(scanner_total_minor=12_000, closed_by="omar"),
            by(staff["omar"]),
        )
    assert busy.value.code is ErrorCode.CHEQUE_BATCH_BUSY
    fake.down = False
    assert await service.finish(pending.id) == "recorded"
    closed = await service.close_batch(
        pending.batch_id,
        BatchClose(scanner_total_minor=12_000, closed_by="omar"),
        by(staff["omar"]),
    )
    assert closed.status == "closed"


async def test_a_bounce_reverses_the_payment_and_reopens_the_invoice(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    made = await service.record(cheque(), by(staff["olga"]))
    with pytest.raises(BillingError) as specialist:
        await service.bounce(made.id, "no funds", by(staff["sam"]))
    assert specialist.value.code is ErrorCode.ROLE_NOT_ALLOWED
    bounced = await service.bounce(made.id, "Returned by the bank: no funds.", by(staff["lee"]))
    assert bounced.status == "bounced" and bounced.invoice_status == "open"
    assert bounced.bounce_reason == "Returned by the bank: no funds."
    assert fake.invoices["inv_A-EUR_1"].status == "open"
    with pytest.raises(BillingError) as twice:
        await service.bounce(made.id, "again", by(staff["lee"]))
    assert twice.value.code is ErrorCode.CHEQUE_NOT_BOUNCEABLE
    assert await actions(str(made.id)) == [
        "cheque.record.succeeded",
        "cheque.bounce.refused",  # the specialist
        "cheque.bounce.succeeded",
        "cheque.bounce.refused",  # the second time
    ]
    [event] = await fetch("SELECT payload FROM notification_events WHERE type = 'cheque.bounced'")
    assert "is open again" in event["payload"]
    batch = await service.batch(made.batch_id)
    assert (batch.cheque_count, batch.total.amount_minor, batch.bounced_count) == (0, 0, 1)
    # the same cheque may be entered again once it bounced (it was re-presented)
    again = await service.record(cheque(), by(staff["olga"]))
    assert again.status == "recorded"


async def test_the_same_cheque_twice_is_refused(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    made = await service.record(cheque("77", 1_000), by(staff["olga"]))
    with pytest.raises(BillingError) as twice:
        await service.record(cheque("77", 1_000), by(staff["omar"]))
    assert twice.value.code is ErrorCode.CHEQUE_ALREADY_RECORDED
    assert twice.value.extra == {"cheque_id": str(made.id)}
    assert made.number in twice.value.detail


async def test_invoice_rules_and_refusals_are_audited(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    cases = [
        (cheque("1", 12_001), ErrorCode.CHEQUE_EXCEEDS_INVOICE),
        (cheque("2", 100, currency="USD"), ErrorCode.CURRENCY_MISMATCH),
        (cheque("3", 100, invoice=None, currency="USD"), ErrorCode.CURRENCY_MISMATCH),
        (cheque("4", 100, account="A-NONE"), ErrorCode.CUSTOMER_NOT_FOUND),
        (cheque("5", 100, invoice="inv_A-USD_1"), ErrorCode.PROVIDER_NOT_FOUND),
    ]
    for order, code in cases:
        with pytest.raises(BillingError) as refused:
            await service.record(order, by(staff["olga"]))
        assert refused.value.code is code, order
    await service.record(cheque("6", 12_000), by(staff["olga"]))
    with pytest.raises(BillingError) as paid:
        await service.record(cheque("7", 100), by(staff["olga"]))
    assert paid.value.code is ErrorCode.INVOICE_NOT_OPEN
    refused_rows = await fetch(
        "SELECT count(*) AS n FROM audit_records WHERE action = 'cheque.record.refused'"
    )
    assert refused_rows[0]["n"] == len(cases) + 1
    assert (await fetch("SELECT count(*) AS n FROM cheques"))[0]["n"] == 1


async def test_a_card_number_is_refused_and_stored_nowhere(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    for reference, note in (("4111 1111 1111 1111", None), ("0001", "card 4111111111111111")):
        with pytest.raises(BillingError) as refused:
            await service.record(cheque(reference, note=note), by(staff["olga"]))
        assert refused.value.code is ErrorCode.CARD_NUMBER_NOT_ACCEPTED
    for table in ("cheques", "cheque_batches", "notification_events", "idempotency_keys"):
        rows = await fetch(f"SELECT count(*) AS n FROM {table} t WHERE t::text LIKE '%4111%'")
        assert rows[0]["n"] == 0, table
    entries = await fetch("SELECT * FROM audit_records WHERE target_type = 'cheque'")
    assert len(entries) == 2
    for entry in entries:  # their payloads are encrypted: read them as the audit reader does
        payload = await read_payload(entry)
        assert payload is not None and "4111" not in str(payload)
        assert "reference" not in str(payload)
    assert (await fetch("SELECT count(*) AS n FROM cheques"))[0]["n"] == 0
    assert await actions("zuora:A-EUR") == ["cheque.record.refused"] * 2


async def test_a_provider_refusal_fails_the_cheque_with_a_sentence(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    fake.refuse_next = BillingError(ErrorCode.INVOICE_NOT_OPEN, "Zuora says the invoice is paid.")
    with pytest.raises(BillingError) as refused:
        await service.record(cheque(), by(staff["olga"]))
    assert refused.value.code is ErrorCode.INVOICE_NOT_OPEN
    [row] = await fetch("SELECT id, status, failure FROM cheques")
    assert (row["status"], row["failure"]) == ("failed", "Zuora says the invoice is paid.")
    assert await actions(str(row["id"])) == ["cheque.record.failed"]
    again = await service.record(cheque(), by(staff["olga"]))  # a failed one is no duplicate
    assert again.status == "recorded"


async def test_a_retry_with_the_same_key_resumes_the_same_cheque(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    slot = AnswerSlot(uuid.uuid4(), "key-1")
    api = Requester.of_api_key(TOOL)
    fake.down = True
    first = await service.record(cheque(), api, answer=slot)
    assert first.status == "recording"
    fake.down = False
    retried = await service.record(cheque(), api, answer=slot)
    assert retried.id == first.id and retried.status == "recorded"
    assert (await fetch("SELECT count(*) AS n FROM cheques"))[0]["n"] == 1
    assert list(fake.payments) == [first.payment_number]
    again = await service.record(cheque(), api, answer=slot)
    assert again.id == first.id and again.status == "recorded"


async def test_the_sweep_finishes_a_cheque_whose_process_died(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    fake.down = True
    pending = await service.record(cheque(), by(staff["olga"]))
    fake.down = False
    assert await service.finish_unfinished() == 0  # too recent: its request may still run
    await fetch("UPDATE cheques SET updated_at = now() - interval '1 minute'")
    assert await service.finish_unfinished() == 1
    done = await service.read(pending.id)
    assert done.status == "recorded" and done.provider_payment_id
    assert await service.finish_unfinished(0) == 0
    assert await actions(str(pending.id)) == ["cheque.record.succeeded"]


async def test_the_report_sums_per_day_and_currency(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    today = service.business_date_now()
    olga = by(staff["olga"])
    a = await service.record(cheque("1"), olga)
    await service.record(cheque("2", 4_900, invoice="inv_A-EUR_2"), olga)
    await service.record(cheque("3", 12_000, account="A-USD", invoice=None, currency="USD"), olga)
    old = await service.record(cheque("4", 700, invoice=None), by(staff["omar"]))
    # entered yesterday, bounced today: today's bounce, yesterday's cheque
    yesterday = today - timedelta(days=1)
    await fetch(
        "UPDATE cheque_batches SET business_date = $1 WHERE id = $2", yesterday, old.batch_id
    )
    await fetch(
        "UPDATE cheques SET business_date = $1 WHERE batch_id = $2", yesterday, old.batch_id
    )
    await service.bounce(old.id, "no funds", olga)
    await service.close_batch(
        a.batch_id, BatchClose(scanner_total_minor=16_900, closed_by="omar"), by(staff["omar"])
    )
    report = await service.report(yesterday, today)
    got = [
        (d.business_date, d.currency, d.cheque_count, d.cheque_total.amount_minor,
         d.bounced_count, d.bounced_total.amount_minor, d.batches_open, d.batches_closed)
        for d in report.days
    ]  # fmt: skip
    assert got == [
        (today, "EUR", 2, 16_900, 1, 700, 0, 1),
        (today, "USD", 1, 12_000, 0, 0, 1, 0),
        (yesterday, "EUR", 1, 700, 0, 0, 1, 0),
    ]
    assert [d.currency for d in (await service.report(today, today, "usd")).days] == ["USD"]
    with pytest.raises(BillingError) as long:
        await service.report(today - timedelta(days=366), today)
    assert long.value.code is ErrorCode.REPORT_PERIOD_INVALID


async def test_lists_and_the_slip(service: ChequeService, staff: dict[str, StaffMember]) -> None:
    olga = by(staff["olga"])
    made = [await service.record(cheque(str(n), 100, invoice=None), olga) for n in range(5)]
    page = await service.list(limit=3)
    assert [c.id for c in page.items] == [c.id for c in made[::-1][:3]]
    rest = await service.list(limit=3, cursor=page.next_cursor)
    assert [c.id for c in rest.items] == [made[1].id, made[0].id] and rest.next_cursor is None
    assert len((await service.list(status="recorded", currency="EUR")).items) == 5
    assert (await service.list(status="bounced")).items == []
    batches = await service.batches(depositor="olga")
    assert [b.cheque_count for b in batches.items] == [5]
    slip = await service.slip(made[0].batch_id)
    assert [c.number for c in slip.cheques] == [c.number for c in made]
    assert slip.batch.total.amount_minor == 500


async def test_open_invoices_for_the_form(service: ChequeService, fake: FakeOffline) -> None:
    account, invoices = await service.open_invoices("zuora", "N-A-EUR")
    assert account.id == "A-EUR" and len(invoices) == 3
    with pytest.raises(BillingError) as unknown:
        await service.open_invoices("stripe", "cus_x")
    assert unknown.value.code is ErrorCode.PROVIDER_NOT_CONFIGURED


async def test_two_depositors_with_the_same_initials_share_one_numbering(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    oscar = await add_staff("oscar", Role.OPERATIONS, "Oscar", "Perez")  # OP, as Olga Petit
    day = service.business_date_now()
    olgas = await service.record(cheque("1"), by(staff["olga"]))
    oscars = await service.record(cheque("2", 1_000, invoice=None), by(oscar))
    assert olgas.number == f"OP-{day:%Y%m%d}-0001"
    assert oscars.number == f"OP-{day:%Y%m%d}-0002" and oscars.status == "recorded"
    assert olgas.batch_id != oscars.batch_id  # each deposits their own batch


async def test_a_provider_call_under_way_holds_the_cheque_for_itself(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    fake.down = True
    pending = await service.record(cheque(), by(staff["olga"]))
    assert pending.status == "recording"
    [row] = await fetch("SELECT leased_until FROM cheques")
    assert row["leased_until"] is None  # the provider was unreachable: free for the sweep
    fake.down = False
    entered, gate, calls = asyncio.Event(), asyncio.Event(), []
    write = fake.record_offline_payment

    async def slow(payment: NewOfflinePayment, *, idempotency_key: str) -> OfflinePayment:
        calls.append(payment.payment_number)
        entered.set()
        await gate.wait()
        return await write(payment, idempotency_key=idempotency_key)

    fake.record_offline_payment = slow  # type: ignore[method-assign]
    providers = Providers({"zuora": fake})
    first = asyncio.create_task(writing.record_at_provider(providers, service.guard, pending.id))
    await asyncio.wait_for(entered.wait(), 5)
    second = await asyncio.wait_for(
        writing.record_at_provider(providers, service.guard, pending.id), 5
    )
    assert second.status == "recording" and calls == [pending.payment_number]
    await fetch("UPDATE cheques SET updated_at = now() - interval '1 minute'")
    assert await asyncio.wait_for(service.finish_unfinished(), 5) == 0  # leased: left alone
    assert calls == [pending.payment_number]
    gate.set()
    assert (await first).status == "recorded"
    [row] = await fetch("SELECT status, leased_until FROM cheques")
    assert (row["status"], row["leased_until"]) == ("recorded", None)
    assert fake.writes == [pending.payment_number]


async def test_a_reversal_under_way_holds_the_cheque_and_an_expired_lease_frees_it(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    made = await service.record(cheque(), by(staff["olga"]))
    fake.down = True
    bouncing = await service.bounce(made.id, "no funds", by(staff["lee"]))
    assert bouncing.status == "bouncing"
    [row] = await fetch("SELECT leased_until FROM cheques")
    assert row["leased_until"] is None  # released after the outage
    fake.down = False
    # another process holds it, calling the provider
    await fetch(
        "UPDATE cheques SET leased_until = now() + interval '1 minute',"
        " updated_at = now() - interval '1 minute'"
    )
    providers = Providers({"zuora": fake})
    held = await writing.reverse_at_provider(providers, service.guard, made.id)
    assert held.status == "bouncing" and fake.payments[made.payment_number].status == "recorded"
    assert await service.finish_unfinished() == 0
    assert fake.invoices["inv_A-EUR_1"].balance.amount_minor == 0  # still paid
    # that process died: once its lease runs out, the sweep takes the cheque
    await fetch("UPDATE cheques SET leased_until = now() - interval '1 second'")
    assert await service.finish_unfinished() == 1
    done = await service.read(made.id)
    assert done.status == "bounced" and fake.invoices["inv_A-EUR_1"].status == "open"


async def test_a_cheque_being_bounced_is_not_bounced_twice(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    made = await service.record(cheque(), by(staff["olga"]))
    fake.down = True
    assert (await service.bounce(made.id, "no funds", by(staff["lee"]))).status == "bouncing"
    with pytest.raises(BillingError) as twice:
        await service.bounce(made.id, "no funds, again", by(staff["omar"]))
    assert twice.value.code is ErrorCode.CHEQUE_NOT_BOUNCEABLE and twice.value.status == 409
    assert "is being marked bounced already" in twice.value.detail
    assert made.number in twice.value.detail
    [row] = await fetch("SELECT status, bounce_reason FROM cheques")
    assert (row["status"], row["bounce_reason"]) == ("bouncing", "no funds")


async def test_a_closed_batch_keeps_what_it_deposited_when_a_cheque_bounces_later(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    olga = by(staff["olga"])
    first = await service.record(cheque("1"), olga)
    second = await service.record(cheque("2", 4_900, invoice="inv_A-EUR_2"), olga)
    await service.close_batch(
        first.batch_id, BatchClose(scanner_total_minor=16_900, closed_by="omar"), by(staff["omar"])
    )
    deposited = await fetch("SELECT number FROM cheques WHERE deposited_at IS NOT NULL")
    assert {row["number"] for row in deposited} == {first.number, second.number}
    await service.bounce(second.id, "Returned by the bank: no funds.", by(staff["lee"]))
    batch = await service.batch(first.batch_id)
    assert (batch.status, batch.cheque_count, batch.total.amount_minor) == ("closed", 2, 16_900)
    assert batch.bounced_count == 1
    slip = await service.slip(first.batch_id)
    assert [(c.number, c.status) for c in slip.cheques] == [
        (first.number, "recorded"),
        (second.number, "bounced"),
    ]


async def test_an_open_batchs_slip_lists_neither_failed_nor_bounced_cheques(
    service: ChequeService, staff: dict[str, StaffMember], fake: FakeOffline
) -> None:
    olga = by(staff["olga"])
    kept = await service.record(cheque("1", 1_000, invoice=None), olga)
    fake.refuse_next = BillingError(ErrorCode.INVOICE_NOT_OPEN, "Zuora refused it.")
    with pytest.raises(BillingError):
        await service.record(cheque("2", 2_000, invoice=None), olga)
    returned = await service.record(cheque("3", 3_000, invoice=None), olga)
    await service.bounce(returned.id, "no funds", olga)
    also = await service.record(cheque("4", 400, invoice=None), olga)
    statuses = await fetch("SELECT status FROM cheques WHERE batch_id = $1", kept.batch_id)
    assert sorted(row["status"] for row in statuses) == [
        "bounced",
        "failed",
        "recorded",
        "recorded",
    ]
    slip = await service.slip(kept.batch_id)
    assert slip.batch.status == "open"
    assert [c.number for c in slip.cheques] == [kept.number, also.number]
    rows = list(csv.reader(io.StringIO(slip_csv(slip))))
    header = next(at for at, row in enumerate(rows) if row[:1] == ["number"])
    listed = rows[header + 1 : -1]
    assert [row[0] for row in listed] == [kept.number, also.number]
    assert rows[-1][0] == "total" and rows[-1][6:9] == ["14.00", "1400", "EUR"]
    assert sum(int(row[7]) for row in listed) == int(rows[-1][7])


async def test_an_iban_in_the_reference_is_refused_and_stored_nowhere(
    service: ChequeService, staff: dict[str, StaffMember]
) -> None:
    with pytest.raises(BillingError) as refused:
        await service.record(cheque("DE89 3704 0044 0532 0130 00"), by(staff["olga"]))
    assert refused.value.code is ErrorCode.IBAN_OUTSIDE_IBAN_FIELD
    assert "3704" not in refused.value.detail
    assert (await fetch("SELECT count(*) AS n FROM cheques"))[0]["n"] == 0
    for table in ("cheques", "cheque_batches", "notification_events", "idempotency_keys"):
        rows = await fetch(f"SELECT count(*) AS n FROM {table} t WHERE t::text LIKE '%3704%'")
        assert rows[0]["n"] == 0, table
    [entry] = await fetch("SELECT * FROM audit_records WHERE action = 'cheque.record.refused'")
    assert "3704" not in str(await read_payload(entry))
