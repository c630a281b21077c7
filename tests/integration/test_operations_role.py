"""The operations role over HTTP: its members sign in with password and authenticator, land on
their own back office (/operations/, the cheques and their batches, read only, amounts as
money in their currency) and reach nothing else of the back office; specialists and leads do
not reach theirs. The services refuse them too, whatever page they go through."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date

import httpx
import pytest
from litestar import Litestar

from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.schemas import RefundCreate
from gateway.corrections.service import Requester
from gateway.corrections.wiring import correction_service
from gateway.fulfilment.service import Applier
from gateway.fulfilment.wiring import fulfilment_service
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from tests.database import auth
from tests.integration.staff import (
    PASSWORD,
    Staff,
    browser,
    csrf_field,
    enrol,
    submit_code,
    submit_password,
)
from tests.payloads import iban_change

DAY = date(2026, 12, 5)


async def member(staff: Staff) -> StaffMember:
    [row] = await fetch("SELECT id FROM staff_users WHERE username = $1", staff.username)
    return StaffMember(row["id"], staff.username, staff.role)


async def batch(
    depositor: Staff,
    currency: str,
    *,
    closed_by: str | None = None,
    scanner_total_minor: int | None = None,
) -> uuid.UUID:
    """A batch written straight into the table, as the cheque service writes one; closed when
    `closed_by` is given."""
    staff = await member(depositor)
    batch_id = uuid.uuid4()
    await fetch(
        "INSERT INTO cheque_batches (id, business_date, currency, depositor_staff_id,"
        " depositor_username, depositor_initials, sequence, status, closed_at,"
        " closed_by_username, scanner_total_minor)"
        " VALUES ($1, $2, $3, $4, $5, 'OP', 1, $6, CASE WHEN $6 = 'closed' THEN now() END,"
        " $7, $8)",
        batch_id,
        DAY,
        currency,
        staff.id,
        staff.username,
        "closed" if closed_by else "open",
        closed_by,
        scanner_total_minor,
    )
    return batch_id


async def cheque(
    batch_id: uuid.UUID,
    number: str,
    amount_minor: int,
    currency: str,
    *,
    status: str = "recorded",
    invoice_number: str | None = None,
    account_name: str | None = "Cheque Customer EUR SARL",
) -> None:
    await fetch(
        "INSERT INTO cheques (id, number, payment_number, reference, provider, account_id,"
        " account_name, invoice_id, invoice_number, amount_minor, currency, business_date,"
        " batch_id, depositor_staff_id, status, entered_by, deposited_at)"
        " SELECT $1, $2, 'CHQ-' || $2, 'REF-' || $2, 'zuora', 'A-CHEQUE-EUR', $3, $4, $4, $5,"
        " $6, b.business_date, b.id, b.depositor_staff_id, $7, '{}'::jsonb,"
        # a closed batch deposited its recorded cheques, as the service's close marks them
        " CASE WHEN b.status = 'closed' AND $7 = 'recorded' THEN now() END"
        " FROM cheque_batches b WHERE b.id = $8",
        uuid.uuid4(),
        number,
        account_name,
        invoice_number,
        amount_minor,
        currency,
        status,
        batch_id,
    )


@pytest.fixture
async def olga(app: Litestar) -> Staff:
    return await enrol(app, "olga", Role.OPERATIONS)


async def test_an_operations_member_signs_in_with_the_authenticator_and_lands_on_operations(
    app: Litestar, olga: Staff
) -> None:
    # The first sign-in enrolled the authenticator; the recovery codes page goes on to /operations/.
    assert olga.recovery_codes
    assert (await olga.get("/staff/")).headers["location"] == "/operations/"
    again = browser(app)
    answer = await submit_password(again, "olga", PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/staff/code"
    assert (await submit_code(again, "000000")).status_code == 401  # the code is asked for
    signed_in = await submit_code(again, olga.recovery_codes[0])
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/operations/"
    home = await again.get("/operations/")
    assert home.status_code == 200 and "<html" in home.text.lower()
    # Nobody signed in: the mount sends the browser to sign in.
    stranger = browser(app)
    assert (await stranger.get("/operations/")).headers["location"] == "/staff/login"
    assert (await stranger.get("/operations/api/tables/mailed_cheques/")).status_code == 401


async def test_the_operations_back_office_lists_cheques_and_batches_as_money(
    olga: Staff,
) -> None:
    tables = await olga.get("/operations/api/tables/")
    assert sorted(tables.json()) == ["deposit_batches", "mailed_cheques"]
    assert (await olga.get("/operations/api/forms/")).json() == []
    links = (await olga.get("/operations/api/links/")).json()
    assert links == {
        "Cheques": "/staff/cheques",
        "Cheque report": "/staff/cheques/report",
        "Preferences": "/staff/preferences",  # language and time zone, every role's own
    }

    eur = await batch(olga, "EUR")
    await cheque(eur, "OP-20261205-0001", 12000, "EUR", invoice_number="INV-1")
    await cheque(eur, "OP-20261205-0002", 4900, "EUR", account_name=None)  # a credit
    await cheque(eur, "OP-20261205-0003", 120000, "EUR", status="bounced")
    await cheque(eur, "OP-20261205-0004", 5000, "EUR", status="recording")
    jpy = await batch(olga, "JPY", closed_by="omar", scanner_total_minor=15000)
    await cheque(jpy, "OP-20261205-0005", 15000, "JPY")
    kwd = await batch(olga, "KWD")
    await cheque(kwd, "OP-20261205-0006", 1250, "KWD")

    rows = {row["number"]: row for row in await olga.rows("mailed_cheques", __page_size=50)}
    assert len(rows) == 6
    first = rows["OP-20261205-0001"]
    assert first["amount"] == "120.00 EUR"
    assert first["batch"] == "2026-12-05 EUR OP #1"
    assert first["depositor"] == "olga"
    assert first["invoice_number"] == "INV-1"
    assert first["account"] == "Cheque Customer EUR SARL (A-CHEQUE-EUR)"
    assert first["reference"] == "REF-OP-20261205-0001"
    assert first["status"] == "recorded" and first["provider"] == "zuora"
    assert first["business_date"] == "Dec 5, 2026"  # a date as the reader writes it (English)
    credit = rows["OP-20261205-0002"]
    assert credit["invoice_number"] == "" and credit["account"] == "A-CHEQUE-EUR"
    assert credit["note"] == "" and credit["failure"] == ""
    assert rows["OP-20261205-0005"]["amount"] == "15000 JPY"
    assert rows["OP-20261205-0006"]["amount"] == "1.250 KWD"

    recorded = await olga.rows("mailed_cheques", status="recorded")
    assert {row["number"] for row in recorded} == {
        "OP-20261205-0001",
        "OP-20261205-0002",
        "OP-20261205-0005",
        "OP-20261205-0006",
    }
    in_yen = await olga.rows("mailed_cheques", currency="jpy")  # matched as its code, any case
    assert [row["number"] for row in in_yen] == ["OP-20261205-0005"]
    that_day = await olga.rows("mailed_cheques", business_date=DAY.isoformat())
    assert len(that_day) == 6
    assert await olga.rows("mailed_cheques", business_date="2026-12-06") == []

    batches = {row["currency"]: row for row in await olga.rows("deposit_batches")}
    # The recorded cheques only: not the bounced one, not the one still being recorded.
    assert batches["EUR"]["cheque_count"] == 2 and batches["EUR"]["total"] == "169.00 EUR"
    assert batches["EUR"]["name"] == "2026-12-05 EUR OP #1"
    assert batches["EUR"]["status"] == "open"
    assert batches["EUR"]["scanner_total"] == "" and batches["EUR"]["closed_by"] == ""
    assert batches["EUR"]["depositor"] == "olga"
    assert batches["JPY"]["total"] == "15000 JPY" and batches["JPY"]["scanner_total"] == "15000 JPY"
    assert batches["JPY"]["status"] == "closed" and batches["JPY"]["closed_by"] == "omar"
    assert batches["KWD"]["total"] == "1.250 KWD"
    closed = await olga.rows("deposit_batches", status="closed")
    assert [row["currency"] for row in closed] == ["JPY"]
    assert [row["name"] for row in await olga.rows("deposit_batches", currency="kwd")] == [
        "2026-12-05 KWD OP #1"
    ]
    # Read only: piccolo-admin's row editing answers no.
    token = olga.client.cookies.get("csrftoken") or ""
    edited = await olga.client.patch(
        f"/operations/api/tables/deposit_batches/{eur}/",
        json={"status": "closed"},
        headers={"X-CSRFToken": token},
    )
    assert edited.status_code in (403, 405)
    [still] = await fetch("SELECT status FROM cheque_batches WHERE id = $1", eur)
    assert still["status"] == "open"


async def test_an_operations_member_reaches_no_other_back_office(
    app: Litestar, olga: Staff
) -> None:
    await olga.get("/operations/api/user/")  # piccolo-admin's CSRF cookie, as the browser has it
    for mount, table in (
        ("specialist", "my_queue"),
        ("lead", "all_requests"),
        ("admin", "staff_accounts"),
    ):
        # The index sends them home; every read and form of the other mount is refused.
        home = await olga.get(f"/{mount}/")
        assert home.status_code == 303 and home.headers["location"] == "/operations/"
        refused = await olga.get(f"/{mount}/api/tables/{table}/")
        assert refused.status_code == 403, refused.text
        assert "is for the" in refused.json()["detail"]
        form = await olga.form("decrypt-audit-entry", {"seq": 1, "why": "curious"}, mount=mount)
        assert form.status_code == 403


async def test_specialists_and_leads_are_refused_at_operations(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    for staff, home in ((sam, "/specialist/"), (lee, "/lead/")):
        index = await staff.get("/operations/")
        assert index.status_code == 303 and index.headers["location"] == home
        for table in ("mailed_cheques", "deposit_batches"):
            refused = await staff.get(f"/operations/api/tables/{table}/")
            assert refused.status_code == 403
            assert refused.json()["detail"] == "This back office is for the operations role."
    links = (await lee.get("/lead/api/links/")).json()
    assert links["Cheques"] == "/staff/cheques" and "Customers" in links
    assert "Cheques" not in (await sam.get("/specialist/api/links/")).json()


def sentence(page: httpx.Response) -> str:
    """The page's text as a person reads it."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.text))
    return " ".join(text.split())


async def test_the_staff_pages_refuse_an_operations_member_with_a_sentence(
    http: httpx.AsyncClient, api_key: str, provider_emulators: None, olga: Staff
) -> None:
    filed = await http.post(
        "/v1/change-requests", json=iban_change(), headers=auth(api_key, uuid.uuid4().hex)
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    token = csrf_field(await olga.get("/staff/login"))  # any of the app's forms: a valid token
    someone = uuid.uuid4()
    pages = {
        f"/staff/requests/{request_id}": "The work page is for specialists and team leads.",
        "/staff/customers/": "The customer page is for specialists, team leads and admins.",
        "/staff/customers/?q=cheque": "The customer page is for specialists",
        "/staff/customers/zuora/A00000101": "The customer page is for specialists",
        "/staff/customers/zuora/A00000101/invoices/INV1/document": "The customer page is for",
        "/staff/corrections/": "The Corrections queue is for team leads and admins.",
        f"/staff/corrections/{someone}": "A correction's page is for specialists, team leads",
        "/staff/notifications/": "The notification pages are for team leads and admins.",
        "/staff/settings": "This page is for admins.",
    }
    for path, said in pages.items():
        page = await olga.get(path)
        assert page.status_code == 403, (path, page.status_code, page.text)
        assert said in sentence(page), (path, sentence(page))
    posts = {
        f"/staff/requests/{request_id}/apply": "The work page is for specialists and team leads.",
        "/staff/customers/zuora/A00000101/refund": "The customer page is for specialists",
        "/staff/customers/zuora/A00000101/fraud-stop": "The customer page is for specialists",
        f"/staff/corrections/{someone}/approve": "The Corrections queue is for team leads",
        "/staff/notifications/register": "The notification pages are for team leads",
    }
    for path, said in posts.items():
        page = await olga.client.post(path, data={"_csrf_token": token, "reason": "because"})
        assert page.status_code == 403, (path, page.status_code, page.text)
        assert said in sentence(page), (path, sentence(page))
    [row] = await fetch("SELECT status FROM change_requests WHERE id = $1", uuid.UUID(request_id))
    assert row["status"] == "new"
    assert await fetch("SELECT 1 FROM corrections") == []


async def test_the_services_refuse_an_operations_member_too(
    http: httpx.AsyncClient, api_key: str, provider_emulators: None, olga: Staff
) -> None:
    """Whatever page or form a call comes through, the services name who may."""
    filed = await http.post(
        "/v1/change-requests", json=iban_change(), headers=auth(api_key, uuid.uuid4().hex)
    )
    assert filed.status_code == 201, filed.text
    staff = await member(olga)
    with pytest.raises(BillingError) as applied:
        await fulfilment_service().apply(uuid.UUID(filed.json()["id"]), Applier.of_staff(staff))
    assert applied.value.code is ErrorCode.ROLE_NOT_ALLOWED
    assert "specialist or a team lead" in applied.value.detail

    refund = RefundCreate(provider="zuora", payment_id="P-1", reason="Charged twice in March.")
    with pytest.raises(BillingError) as filing:
        await correction_service().file(refund, Requester.of_staff(staff))
    assert filing.value.code is ErrorCode.ROLE_NOT_ALLOWED
    assert "specialists, team leads and admins" in filing.value.detail
    assert await fetch("SELECT 1 FROM corrections") == []
    [refused] = await fetch(
        "SELECT action, actor_id FROM audit_entries WHERE action = 'correction.file_refund.refused'"
    )
    assert refused["actor_id"] == "olga"


async def test_the_demo_has_two_operations_members_with_their_initials() -> None:
    from gateway.cheques.numbers import initials
    from gateway.demo import demo_sign_in_help, seed_demo_staff

    await seed_demo_staff()
    rows = await fetch(
        "SELECT username, first_name, last_name FROM staff_users WHERE role = 'operations'"
        " ORDER BY username"
    )
    named = {row["username"]: (row["first_name"], row["last_name"]) for row in rows}
    assert named == {"olga": ("Olga", "Petit"), "omar": ("Omar", "Haddad")}
    assert [initials(name, *names) for name, names in named.items()] == ["OP", "OH"]
    shown = demo_sign_in_help("http://127.0.0.1:8000")
    assert "olga (operations)" in shown and "omar (operations)" in shown


async def test_an_admin_creates_an_operations_member_with_the_names_their_initials_come_from(
    app: Litestar,
) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    created = await ada.form(
        "create-staff-account",
        {
            "username": "emile",
            "email": "emile@example.com",
            "role": "operations",
            "first_name": "Émile",
            "last_name": "Zola",
        },
    )
    assert created.status_code == 200, created.text
    assert "(Operations (mailed cheques))" in created.json()["custom_form_success"]
    [row] = await fetch(
        "SELECT role, first_name, last_name FROM staff_users WHERE username = 'emile'"
    )
    assert (row["role"], row["first_name"], row["last_name"]) == ("operations", "Émile", "Zola")
    refused = await ada.form(
        "create-staff-account",
        {"username": "x", "email": "x@example.com", "role": "operations", "first_name": "<b>"},
    )
    assert refused.status_code != 200 and "first name" in refused.text
    assert await fetch("SELECT 1 FROM staff_users WHERE username = 'x'") == []
    unknown = await ada.form(
        "create-staff-account", {"username": "y", "email": "y@example.com", "role": "ops"}
    )
    assert unknown.status_code != 200 and "Operations (mailed cheques)" in unknown.text
