"""The cheque pages in French and Arabic: every page an operations member or a team lead opens
(today's batches and the entry form, a batch, a cheque, the deposit slip, the report) says
everything in the reader's language, with amounts as they write them ("120,00 €"); a refusal
made by ChequeService reads in French on the page while the API gives the same refusal in
English; in Arabic the pages run right to left and the report's chart is mirrored."""

from __future__ import annotations

import html
import re
import uuid

import httpx
import pytest
from litestar import Litestar

from gateway.api_keys.scopes import Scope
from gateway.staff.roles import Role
from tests.database import auth, issue_test_key
from tests.integration.staff import Staff, csrf_field, enrol
from tests.integration.test_cheque_pages import PAGES, batch_of, enter, operations
from tests.integration.test_customer_page import action_form, alert_of

pytestmark = pytest.mark.usefixtures("provider_emulators")

# English a page would show if a string escaped translation (each is on one of the pages).
ENGLISH = [
    "Enter a cheque",
    "Billed at",
    "Find the customer's open invoices",
    "Today's batches",
    "Cheques today",
    "Cheque report",
    "Depositor",
    "Business date",
    "Deposit slip",
    "printable page",
    "Close the batch",
    "Scanner's total",
    "No cheque in this batch",
    "Reference on the cheque",
    "Mark it bounced",
    "Why the bank returned it",
    "Mark bounced and reverse the payment",
    "Payment number at",
    "NOT CLOSED",
    "print this page for the bank",
    "Depositor's signature",
    "Per day and currency",
    "Bounced total",
    "Batches open",
    "Download as CSV",
    "Total of the cheques entered",
    "Cheques in EUR",
    "is recorded at",
    "now shows as",
    "The cheque pays",
    "Record the cheque",
    "a credit for the next invoice",
    "due on receipt",
    "(yours)",
    ">open<",
    ">closed<",
    ">recorded<",
]


def text_of(page: httpx.Response) -> str:
    """What a reader sees: the page's text and attributes people read (titles, placeholders),
    spaces as plain spaces; markup, styles and machine-read data attributes left out."""
    body = re.sub(r"<style.*?</style>", "", page.text, flags=re.S)
    read = re.findall(r'(?:placeholder|title|aria-label)="([^"]*)"', body)
    body = re.sub(r"<[^>]+>", "", body)
    text = html.unescape(" ".join([body, *read]))
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u200f", "")


def shown(page: httpx.Response, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)</d[dt]>', page.text, re.S)
    assert found, page.text
    text = html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u200f", "").strip()


def no_english(page: httpx.Response) -> None:
    assert page.status_code == 200, page.text
    text = text_of(page)
    left = [english for english in ENGLISH if english in text]
    assert not left, f"English left on {page.url}: {left}"


async def reading(app: Litestar, username: str, role: Role, language: str) -> Staff:
    member = (
        await operations(app, username, username.title(), username.title() + "son")
        if role is Role.OPERATIONS
        else await enrol(app, username, role)
    )
    member.client.headers["Accept-Language"] = language
    return member


async def test_every_cheque_page_speaks_french_amounts_included(app: Litestar) -> None:
    olga = await reading(app, "olga", Role.OPERATIONS, "fr")
    omar = await reading(app, "omar", Role.OPERATIONS, "fr")
    lee = await reading(app, "lee", Role.TEAM_LEAD, "fr")

    index = await olga.get(PAGES, provider="zuora", account="A-CHEQUE-EUR")
    no_english(index)
    assert 'lang="fr"' in index.text
    for french in (
        "Saisir un chèque",
        "Le chèque règle",
        "Enregistrer le chèque",
        "solde 120,00 €",
    ):
        assert french in text_of(index), french

    recorded = await enter(olga, "zuora", "A-CHEQUE-EUR", "120.00 EUR", "120,00", "0042")
    batch_id = batch_of(recorded)
    batch = await olga.client.get(recorded.headers["location"])
    no_english(batch)
    assert shown(batch, "running-total") == "120,00 €"
    notice = text_of(batch)
    assert "(120,00 €, numéro 0042) est enregistré chez Zuora" in notice
    assert "apparaît désormais comme payée" in notice
    assert "C'est vous qui remettez cette remise en banque" in notice

    # The depositor may not close her own batch: ChequeService's refusal, in French.
    address, hidden = action_form(await omar.get(f"{PAGES}/batches/{batch_id}"), "close")
    wrong = await omar.client.post(address, data={**hidden, "scanner_total": "100"})
    assert wrong.status_code == 409, wrong.text
    refusal = alert_of(wrong).replace("\u00a0", " ").replace("\u202f", " ")
    assert refusal.startswith("Le total du scanner (100,00 €) diffère de celui de la remise")
    assert "de 20,00 €" in refusal and "La remise reste ouverte" in refusal
    assert shown(wrong, "difference") == "20,00 €"

    cheque_id = re.search(r'href="/staff/cheques/([0-9a-f-]{36})"', batch.text)
    assert cheque_id
    cheque = await lee.get(f"{PAGES}/{cheque_id.group(1)}")
    no_english(cheque)
    assert "Marquer impayé et annuler le paiement" in text_of(cheque)
    assert shown(cheque, "cheque-amount") == "120,00 €"

    slip = await lee.get(f"{PAGES}/batches/{batch_id}/slip")
    no_english(slip)
    assert "NON CLÔTURÉE" in text_of(slip) and "Total, 1 chèque" in text_of(slip)
    assert shown(slip, "slip-total") == "120,00 €"

    leads_index = await lee.get(PAGES)
    no_english(leads_index)
    assert "En tant que chef d'équipe" in text_of(leads_index)

    report = await lee.get(f"{PAGES}/report")
    no_english(report)
    assert "Chèques en EUR, du" in text_of(report) and "Remises ouvertes" in text_of(report)

    # The CSV stays machine-readable: English column names, decimal points.
    csv_file = await lee.get(f"{PAGES}/batches/{batch_id}/slip.csv")
    assert csv_file.status_code == 200 and "120.00" in csv_file.text


async def test_a_refusal_reads_in_french_on_the_page_and_in_english_on_the_api(
    app: Litestar, http: httpx.AsyncClient
) -> None:
    olga = await reading(app, "olga", Role.OPERATIONS, "fr")
    batch_id = batch_of(await enter(olga, "zuora", "A-CHEQUE-EUR", "49.00 EUR", "49", "7001"))
    again = await enter(olga, "zuora", "A-CHEQUE-EUR", "1200.00 EUR", "10", "7001")
    assert again.status_code == 409, again.text
    assert alert_of(again).startswith("Le chèque 7001 de ce client est déjà enregistré sous le")

    token = csrf_field(await olga.get(PAGES, provider="zuora", account="A-CHEQUE-EUR"))
    own = await olga.client.post(
        f"{PAGES}/batches/{batch_id}/close", data={"_csrf_token": token, "scanner_total": "49"}
    )
    assert own.status_code == 403, own.text
    assert alert_of(own) == (
        "olga a remis cette remise, donc un autre membre de l'équipe des opérations ou un chef "
        "d'équipe passe les chèques au scanner et la clôture."
    )

    key = await issue_test_key([Scope.PAYMENTS_OFFLINE.value])
    answer = await http.post(
        f"/v1/cheque-batches/{batch_id}/close",
        json={"scanner_total_minor": 4900, "closed_by": "olga"},
        headers={**auth(key, uuid.uuid4().hex), "Accept-Language": "fr"},
    )
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"] == (
        "olga deposited this batch, so another operations member or a team lead scans the "
        "cheques and closes it."
    )
    missing = await http.get(
        f"/v1/cheques/{uuid.uuid4()}", headers={**auth(key), "Accept-Language": "ar"}
    )
    assert missing.status_code == 404 and missing.json()["detail"].startswith("No cheque has")


async def test_every_cheque_page_speaks_arabic_right_to_left(app: Litestar) -> None:
    olga = await reading(app, "olga", Role.OPERATIONS, "ar")
    lee = await reading(app, "lee", Role.TEAM_LEAD, "ar")

    index = await olga.get(PAGES, provider="zuora", account="A-CHEQUE-EUR")
    no_english(index)
    assert 'lang="ar" dir="rtl"' in index.text and "إدخال شيك" in text_of(index)

    recorded = await enter(olga, "zuora", "A-CHEQUE-EUR", "120.00 EUR", "120.00", "0043")
    batch_id = batch_of(recorded)
    batch = await olga.client.get(recorded.headers["location"])
    no_english(batch)
    assert "سُجِّل الشيك" in text_of(batch) and "مدفوعة" in text_of(batch)
    assert "120.00 €" in shown(batch, "running-total")

    cheque_id = re.search(r'href="/staff/cheques/([0-9a-f-]{36})"', batch.text)
    assert cheque_id
    cheque = await lee.get(f"{PAGES}/{cheque_id.group(1)}")
    no_english(cheque)
    assert "تعليمه كمرتجع وعكس الدفعة" in text_of(cheque)

    slip = await lee.get(f"{PAGES}/batches/{batch_id}/slip")
    no_english(slip)
    assert "قسيمة الإيداع" in text_of(slip)

    lead_index = await lee.get(PAGES)
    no_english(lead_index)

    report = await lee.get(f"{PAGES}/report")
    no_english(report)
    assert "الشيكات بعملة EUR" in text_of(report)
    # Mirrored: the amounts' axis stands on the right (640 - 84), the days run right to left.
    assert '<line class="axis" x1="556" y1="10" x2="556"' in report.text
    assert 'direction="rtl"' in report.text
