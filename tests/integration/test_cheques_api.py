"""The offline-payments API as a script or a bank's scanner software uses it: cheques recorded
in two currencies on both providers, batches closed against the scanner's total by a second
person, the deposit slip and the daily report as JSON and CSV, a bounce that reopens the
invoice. Real PostgreSQL, the app over HTTP, the Zuora and Stripe emulators over loopback
HTTP with their cheque demo customers (`A-CHEQUE-EUR`..., `cus_cheque_eur`...); what the
provider holds afterwards is read back through the gateway's own /v1/customers routes."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from audit.entry import SYSTEM
from gateway.api_keys.scopes import Scope
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from tests.app_log import captured_app_log
from tests.database import auth, issue_test_key, superuser

CUSTOMERS = {
    "zuora": {"EUR": "A-CHEQUE-EUR", "USD": "A-CHEQUE-USD", "GBP": "A-CHEQUE-GBP"},
    "stripe": {"EUR": "cus_cheque_eur", "USD": "cus_cheque_usd", "GBP": "cus_cheque_gbp"},
}
# Each demo customer's open invoices: 120.00, 49.00 and 1200.00 in its currency.
SMALL, MEDIUM, LARGE = 4_900, 12_000, 120_000
PROVIDERS = ("zuora", "stripe")


@pytest.fixture
async def staff() -> None:
    """Two operations members (Olga Petit deposits, Omar Haddad scans and closes) and a lead."""
    for username, first, last, role in (
        ("olga", "Olga", "Petit", Role.OPERATIONS),
        ("omar", "Omar", "Haddad", Role.OPERATIONS),
        ("lena", "Lena", "Lind", Role.TEAM_LEAD),
    ):
        await create_staff(
            username, f"{username}@example.com", role, SYSTEM, first_name=first, last_name=last
        )


@pytest.fixture
async def key(provider_emulators: None, staff: None) -> str:
    """A script's key: cheques, and reading the customers' invoices back."""
    return await issue_test_key([Scope.PAYMENTS_OFFLINE.value, Scope.BILLING_READ.value])


async def post(
    http: httpx.AsyncClient, key: str, path: str, body: dict[str, Any], idem: str | None = None
) -> httpx.Response:
    return await http.post(path, json=body, headers=auth(key, idem or uuid.uuid4().hex))


async def get(http: httpx.AsyncClient, key: str, path: str, **params: Any) -> httpx.Response:
    return await http.get(path, params=params, headers=auth(key))


async def invoices(
    http: httpx.AsyncClient, key: str, provider: str, currency: str
) -> list[dict[str, Any]]:
    answer = await get(
        http, key, f"/v1/customers/{provider}/{CUSTOMERS[provider][currency]}/invoices"
    )
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["invoices"]
    return found


async def open_invoice(
    http: httpx.AsyncClient, key: str, provider: str, currency: str, balance: int
) -> dict[str, Any]:
    [found] = [
        invoice
        for invoice in await invoices(http, key, provider, currency)
        if invoice["status"] == "open" and invoice["balance"]["amount_minor"] == balance
    ]
    return found


async def invoice_now(
    http: httpx.AsyncClient, key: str, provider: str, currency: str, invoice_id: str
) -> dict[str, Any]:
    [found] = [i for i in await invoices(http, key, provider, currency) if i["id"] == invoice_id]
    return found


def cheque(
    provider: str,
    currency: str,
    amount: int,
    reference: str,
    invoice_id: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "provider": provider,
        "account_id": CUSTOMERS[provider][currency],
        "amount_minor": amount,
        "currency": currency,
        "reference": reference,
        "depositor": "olga",
        **more,
    }
    if invoice_id is not None:
        body["invoice_id"] = invoice_id
    return body


async def record(http: httpx.AsyncClient, key: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = await post(http, key, "/v1/cheques", body)
    assert answer.status_code == 201, answer.text
    recorded: dict[str, Any] = answer.json()
    assert recorded["status"] == "recorded", recorded
    return recorded


async def test_cheques_in_two_currencies_are_recorded_numbered_and_batched_apart(
    http: httpx.AsyncClient, key: str
) -> None:
    eur_invoice = await open_invoice(http, key, "zuora", "EUR", MEDIUM)
    eur = await record(http, key, cheque("zuora", "EUR", MEDIUM, "0001234", eur_invoice["id"]))
    usd_invoice = await open_invoice(http, key, "stripe", "USD", SMALL)
    usd = await record(http, key, cheque("stripe", "USD", SMALL, "88-1002", usd_invoice["number"]))

    # numbered with the depositor's initials, per depositor and day across currencies
    day = eur["business_date"].replace("-", "")
    assert eur["number"] == f"OP-{day}-0001" and usd["number"] == f"OP-{day}-0002"
    assert eur["payment_number"] == f"CHQ-{eur['number']}"
    assert (eur["amount"], usd["amount"]) == (
        {"amount_minor": MEDIUM, "currency": "EUR"},
        {"amount_minor": SMALL, "currency": "USD"},
    )
    assert eur["invoice_id"] == eur_invoice["id"] and usd["invoice_id"] == usd_invoice["id"]
    assert eur["invoice_status"] == usd["invoice_status"] == "paid"
    assert eur["depositor"] == "olga" and eur["entered_by"].startswith("api_key:")
    assert eur["batch_id"] != usd["batch_id"]  # one batch per currency
    # and the provider says so too
    assert (await invoice_now(http, key, "zuora", "EUR", eur_invoice["id"]))["status"] == "paid"
    assert (await invoice_now(http, key, "stripe", "USD", usd_invoice["id"]))["status"] == "paid"

    listed = await get(http, key, "/v1/cheques", currency="EUR")
    assert [c["id"] for c in listed.json()["items"]] == [eur["id"]]
    newest_first = await get(http, key, "/v1/cheques", business_date=eur["business_date"])
    assert [c["id"] for c in newest_first.json()["items"]] == [usd["id"], eur["id"]]
    by_customer = await get(
        http, key, "/v1/cheques", provider="stripe", account_id=usd["account_id"]
    )
    assert [c["id"] for c in by_customer.json()["items"]] == [usd["id"]]
    one = await get(http, key, f"/v1/cheques/{eur['id']}")
    assert one.status_code == 200 and one.json() == eur

    batches = (await get(http, key, "/v1/cheque-batches", status="open")).json()["items"]
    totals = {b["currency"]: (b["cheque_count"], b["total"]["amount_minor"]) for b in batches}
    assert totals == {"EUR": (1, MEDIUM), "USD": (1, SMALL)}
    missing = await get(http, key, f"/v1/cheques/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["code"] == "cheque_not_found"


async def test_a_credit_without_an_invoice_is_recorded_for_the_next_invoice(
    http: httpx.AsyncClient, key: str
) -> None:
    credit = await record(http, key, cheque("zuora", "GBP", 5_000, "CR-77"))
    assert credit["credit"] is True and credit["invoice_id"] is None
    # no invoice was paid by it
    assert all(i["status"] == "open" for i in await invoices(http, key, "zuora", "GBP"))


async def test_a_retry_with_the_same_key_gets_the_same_answer_and_records_nothing_new(
    http: httpx.AsyncClient, key: str
) -> None:
    invoice = await open_invoice(http, key, "zuora", "EUR", LARGE)
    payments_path = "/v1/customers/zuora/A-CHEQUE-EUR/payments"
    before = len((await get(http, key, payments_path)).json()["payments"])
    body = cheque("zuora", "EUR", LARGE, "555001", invoice["id"])
    first = await post(http, key, "/v1/cheques", body, idem="cheque-555001")
    again = await post(http, key, "/v1/cheques", body, idem="cheque-555001")
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert len((await get(http, key, "/v1/cheques")).json()["items"]) == 1
    assert len((await get(http, key, payments_path)).json()["payments"]) == before + 1

    # entered again under a new key: its invoice is paid now, so nothing is paid twice
    twice = await post(http, key, "/v1/cheques", body)
    assert twice.status_code == 409, twice.text
    assert twice.json()["code"] in ("invoice_not_open", "cheque_already_recorded")
    # a key reused for another body is refused, not guessed at
    other = await post(
        http, key, "/v1/cheques", {**body, "reference": "555002"}, idem="cheque-555001"
    )
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


async def test_the_same_credit_cheque_entered_twice_is_refused_naming_the_first(
    http: httpx.AsyncClient, key: str
) -> None:
    body = cheque("stripe", "GBP", 2_500, "777-001")
    first = await record(http, key, body)
    twice = await post(http, key, "/v1/cheques", body)  # a new key: a second entry
    assert twice.status_code == 409, twice.text
    assert twice.json()["code"] == "cheque_already_recorded"
    assert twice.json()["cheque_id"] == first["id"]
    assert [c["id"] for c in (await get(http, key, "/v1/cheques")).json()["items"]] == [first["id"]]


async def test_a_key_without_the_offline_payments_scope_is_refused(
    http: httpx.AsyncClient, key: str
) -> None:
    reader = await issue_test_key([Scope.BILLING_READ.value])
    refused = [
        await post(http, reader, "/v1/cheques", cheque("zuora", "EUR", MEDIUM, "0001234")),
        await get(http, reader, "/v1/cheques"),
        await get(http, reader, "/v1/cheque-batches"),
        await get(http, reader, "/v1/cheque-reports/daily"),
        await get(http, reader, "/v1/cheque-reports/daily.csv"),
    ]
    for answer in refused:
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "forbidden"
        assert answer.json()["required_scope"] == "payments:offline"
    assert (await get(http, key, "/v1/cheques")).json()["items"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reference", "4111 1111 1111 1111"),
        ("reference", "4111/1111/1111/1111"),
        ("note", "Paid by card 4111-1111-1111-1111 instead"),
    ],
)
async def test_a_card_number_is_refused_and_appears_nowhere_in_the_answer_or_the_log(
    http: httpx.AsyncClient, key: str, field: str, value: str
) -> None:
    body = {**cheque("zuora", "EUR", MEDIUM, "0001234"), field: value}
    with captured_app_log() as log:
        answer = await post(http, key, "/v1/cheques", body)
    assert "4111111111111111" not in re.sub(r"\D", "", log.getvalue())
    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "card_number_not_accepted"
    assert value not in answer.text
    assert "4111111111111111" not in re.sub(r"\D", "", answer.text)
    assert (await get(http, key, "/v1/cheques")).json()["items"] == []
    async with superuser() as connection:
        assert await connection.fetchval("SELECT count(*) FROM cheques") == 0


async def test_a_batch_closes_only_against_the_right_total_and_by_a_second_person(
    http: httpx.AsyncClient, key: str
) -> None:
    big = await open_invoice(http, key, "zuora", "EUR", MEDIUM)
    small = await open_invoice(http, key, "stripe", "EUR", SMALL)
    first = await record(http, key, cheque("zuora", "EUR", MEDIUM, "100200", big["id"]))
    scanned_at = datetime.now(UTC).isoformat()  # the scanner ran here: before the second
    second = await record(http, key, cheque("stripe", "EUR", SMALL, "100201", small["id"]))
    assert first["batch_id"] == second["batch_id"]
    batch_path = f"/v1/cheque-batches/{first['batch_id']}"
    batch = (await get(http, key, batch_path)).json()
    assert batch["status"] == "open" and batch["cheque_count"] == 2
    assert batch["total"] == {"amount_minor": MEDIUM + SMALL, "currency": "EUR"}
    assert batch["depositor"] == "olga" and batch["depositor_initials"] == "OP"

    # a wrong total: 409, the difference and the cheque entered after the scan; still open
    wrong = await post(
        http,
        key,
        f"{batch_path}/close",
        {"scanner_total_minor": MEDIUM, "closed_by": "omar", "scanned_at": scanned_at},
    )
    assert wrong.status_code == 409, wrong.text
    problem = wrong.json()
    assert problem["code"] == "cheque_batch_total_mismatch"
    assert problem["batch_total"] == {"amount_minor": MEDIUM + SMALL, "currency": "EUR"}
    assert problem["scanner_total"] == {"amount_minor": MEDIUM, "currency": "EUR"}
    assert problem["difference"] == {"amount_minor": SMALL, "currency": "EUR"}
    assert [c["number"] for c in problem["cheques_since_scan"]] == [second["number"]]
    assert problem["cheques_since_scan"][0]["amount"] == {"amount_minor": SMALL, "currency": "EUR"}
    still = (await get(http, key, batch_path)).json()
    assert still["status"] == "open" and still["closed_at"] is None
    assert still["last_scan"]["matched"] is False
    assert still["last_scan"]["difference"]["amount_minor"] == SMALL

    # the depositor cannot close her own batch, even with the right total
    own = await post(
        http,
        key,
        f"{batch_path}/close",
        {"scanner_total_minor": MEDIUM + SMALL, "closed_by": "olga"},
    )
    assert own.status_code == 403, own.text
    assert own.json()["code"] == "cheque_batch_second_person"
    assert (await get(http, key, batch_path)).json()["status"] == "open"

    # the right total, closed by a second person
    closed = await post(
        http,
        key,
        f"{batch_path}/close",
        {"scanner_total_minor": MEDIUM + SMALL, "closed_by": "omar"},
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["closed_by"] == "omar"
    assert closed.json()["last_scan"]["matched"] is True
    closed_again = await post(
        http,
        key,
        f"{batch_path}/close",
        {"scanner_total_minor": MEDIUM + SMALL, "closed_by": "lena"},
    )
    assert closed_again.status_code == 409 and closed_again.json()["code"] == "cheque_batch_closed"

    # the deposit slip lists every cheque and the total
    slip = (await get(http, key, f"{batch_path}/slip")).json()
    assert slip["batch"]["status"] == "closed"
    assert {c["number"] for c in slip["cheques"]} == {first["number"], second["number"]}
    as_csv = await get(http, key, f"{batch_path}/slip.csv")
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = as_csv.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=") and disposition.endswith('.csv"')
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert ["total", "169.00", "16900"] in rows  # the header rows
    header = next(at for at, row in enumerate(rows) if row[:1] == ["number"])
    listed = {(row[0], row[1], row[6], row[7]) for row in rows[header + 1 : -1]}
    assert listed == {
        (first["number"], "100200", "120.00", str(MEDIUM)),
        (second["number"], "100201", "49.00", str(SMALL)),
    }
    assert rows[-1][0] == "total" and rows[-1][6:9] == ["169.00", "16900", "EUR"]

    # the next cheque of the day opens the depositor's next batch
    later = await record(
        http,
        key,
        cheque(
            "zuora",
            "EUR",
            SMALL,
            "100202",
            (await open_invoice(http, key, "zuora", "EUR", SMALL))["id"],
        ),
    )
    assert later["batch_id"] != first["batch_id"]
    assert (await get(http, key, f"/v1/cheque-batches/{later['batch_id']}")).json()["sequence"] == 2


async def test_an_unknown_batch_is_not_found(http: httpx.AsyncClient, key: str) -> None:
    for path in ("", "/slip", "/slip.csv"):
        answer = await get(http, key, f"/v1/cheque-batches/{uuid.uuid4()}{path}")
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "cheque_batch_not_found"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_bounced_cheque_reopens_its_invoice_at_the_provider(
    http: httpx.AsyncClient, key: str, provider: str
) -> None:
    invoice = await open_invoice(http, key, provider, "EUR", SMALL)
    paid = await record(http, key, cheque(provider, "EUR", SMALL, "300400", invoice["id"]))
    assert (await invoice_now(http, key, provider, "EUR", invoice["id"]))["status"] == "paid"

    reason = "Returned by the bank: no funds."
    bounced = await post(http, key, f"/v1/cheques/{paid['id']}/bounce", {"reason": reason})
    assert bounced.status_code == 200, bounced.text
    assert bounced.json()["status"] == "bounced"
    assert bounced.json()["bounce_reason"] == reason
    assert bounced.json()["invoice_status"] == "open"
    again = await invoice_now(http, key, provider, "EUR", invoice["id"])
    assert again["status"] == "open" and again["balance"]["amount_minor"] == SMALL

    twice = await post(http, key, f"/v1/cheques/{paid['id']}/bounce", {"reason": reason})
    assert twice.status_code == 409 and twice.json()["code"] == "cheque_not_bounceable"
    # a bounced cheque leaves its batch's total
    batch = (await get(http, key, f"/v1/cheque-batches/{paid['batch_id']}")).json()
    assert batch["total"]["amount_minor"] == 0 and batch["bounced_count"] == 1


async def test_the_daily_report_as_json_and_csv(http: httpx.AsyncClient, key: str) -> None:
    eur = await record(
        http,
        key,
        cheque(
            "zuora",
            "EUR",
            MEDIUM,
            "500600",
            (await open_invoice(http, key, "zuora", "EUR", MEDIUM))["id"],
        ),
    )
    await record(
        http,
        key,
        cheque(
            "stripe",
            "USD",
            LARGE,
            "500601",
            (await open_invoice(http, key, "stripe", "USD", LARGE))["id"],
        ),
    )
    bounced = await post(
        http, key, f"/v1/cheques/{eur['id']}/bounce", {"reason": "Signature missing."}
    )
    assert bounced.status_code == 200, bounced.text
    today = eur["business_date"]

    answer = await get(http, key, "/v1/cheque-reports/daily")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["date_to"] == today
    days = [(d["business_date"], d["currency"]) for d in report["days"]]
    assert days == [(today, "EUR"), (today, "USD")]
    euros, dollars = report["days"]
    assert euros["cheque_count"] == 1 and euros["cheque_total"]["amount_minor"] == MEDIUM
    assert euros["bounced_count"] == 1 and euros["bounced_total"]["amount_minor"] == MEDIUM
    assert dollars["cheque_count"] == 1 and dollars["cheque_total"]["amount_minor"] == LARGE
    assert dollars["bounced_count"] == 0
    assert euros["batches_open"] == dollars["batches_open"] == 1
    only_usd = await get(
        http, key, "/v1/cheque-reports/daily", date_from=today, date_to=today, currency="USD"
    )
    assert [d["currency"] for d in only_usd.json()["days"]] == ["USD"]

    as_csv = await get(http, key, "/v1/cheque-reports/daily.csv", date_from=today, date_to=today)
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["content-disposition"] == (
        f'attachment; filename="cheque-report-{today}-{today}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [(r["business_date"], r["currency"]) for r in rows] == days
    assert rows[0]["cheque_total"] == "120.00" and rows[0]["bounced_count"] == "1"
    assert rows[1]["cheque_total"] == "1200.00" and rows[1]["cheque_total_minor"] == str(LARGE)
