"""The customer, corrections and notification pages in French and Arabic: each page a team lead
or an admin opens says everything in the reader's language (right to left in Arabic), amounts
as they write them; a refusal reads in French on the page while the API gives it in English;
and an endpoint registered for French notes receives its help-desk note in French."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from litestar import Litestar

from gateway.notifications.wiring import notification_service
from gateway.staff.roles import Role
from tests.database import auth, issue_test_key
from tests.integration.notification_receiver import Receiver
from tests.integration.staff import Staff, enrol
from tests.integration.test_customer_page import (
    BIG_REFUND_PAGE,
    STRIPE_PAGE,
    action_form,
    alert_of,
    correction_id_of,
    refund,
)
from tests.payloads import iban_change

pytestmark = pytest.mark.usefixtures("provider_emulators")

NOTIFICATIONS = "/staff/notifications"
# English each page would show if a string escaped translation.
ENGLISH = {
    "customer": [
        "Payment methods",
        "Subscriptions",
        "Invoices",
        "Payments and refunds",
        "Open change requests",
        "Blocklist matches",
        "Nothing of this customer is blocked",
        "Billing email",
        "Ticket (optional)",
        "Cancel the subscription",
        "Refund the payment",
        "at the end of the term",
        "refund the last payment",
        "Card fingerprint",
        "FRAUD-STOP",
        "Refundable",
        "None.",
        " to ",
        "€49.00",
    ],
    "search": ["Search every provider", "Email, company", "Provider", "Currency"],
    "queue": [
        "Corrections waiting for approval",
        "Oldest first",
        "Recent decisions",
        "Asked by",
        "Approve exactly this",
        "Why refused",
        "is approved by a second person",
        "Waiting for a team lead",
        "Refund the payment",
        "needed",
    ],
    "correction": [
        "Open the customer",
        "This page shows the decision",
        "Waiting for a team lead",
        "is approved by a second person",
        "Approve exactly this",
        "Asked by",
    ],
    "notifications": [
        "Notifications to support tools",
        "Register an endpoint",
        "Language of the notes",
        "Every change-request event",
        "single events",
        "Last success",
        "never",
    ],
    "endpoint": [
        "All endpoints",
        "Deliveries",
        "Rotate the secret",
        "Why disable it",
        "Language of the notes",
        "not failing",
        "Newest first",
        "Enabled: nothing delivered yet.",
    ],
}
# What each page says instead, in each language.
SAID = {
    "fr": {
        "customer": ["Moyens de paiement", "Résilier l'abonnement", "49,00 €", "réussi", "payée"],
        "search": ["Chercher chez tous les prestataires"],
        "queue": ["Corrections en attente d'approbation", "2 500,00 €", "deuxième personne"],
        "correction": ["Ouvrir le client", "En attente de l'approbation d'un chef d'équipe"],
        "notifications": ["Notifications vers les outils de support", "Langue des notes"],
        "endpoint": ["Renouveler le secret", "Activé : rien n'a encore été remis."],
    },
    "ar": {
        "customer": ["وسائل الدفع", "إلغاء الاشتراك", "49.00", "مدفوعة"],
        "search": ["البحث لدى كل المزوّدين"],
        "queue": ["التصحيحات بانتظار الموافقة", "شخص ثانٍ"],
        "correction": ["فتح صفحة العميل", "بانتظار موافقة رئيس الفريق"],
        "notifications": ["الإشعارات إلى أدوات الدعم", "لغة الملاحظات"],
        "endpoint": ["تجديد السر", "مفعّلة: لم يُسلَّم شيء بعد."],
    },
}


def text_of(page: httpx.Response) -> str:
    """What a reader sees: the page's text and the attributes people read, without markup,
    styles or scripts, spaces as plain spaces."""
    body = re.sub(r"<(style|script)\b.*?</\1>", "", page.text, flags=re.S)
    read = re.findall(r'(?:placeholder|title|aria-label)="([^"]*)"', body)
    body = re.sub(r"<[^>]+>", " ", body)
    text = html.unescape(" ".join([body, *read]))
    for mark in ("\u00a0", "\u202f"):
        text = text.replace(mark, " ")
    return re.sub(r"[\u200e\u200f]", "", text)


def speaks(page: httpx.Response, language: str, which: str) -> None:
    assert page.status_code == 200, page.text
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in page.text
    text = text_of(page)
    left = [english for english in ENGLISH[which] if english in text]
    assert not left, f"English left on the {which} page in {language}: {left}"
    missing = [said for said in SAID[language][which] if said not in text]
    assert not missing, f"not said on the {which} page in {language}: {missing}"


async def reading(app: Litestar, username: str, role: Role, language: str) -> Staff:
    member = await enrol(app, username, role)
    member.client.headers["Accept-Language"] = language
    return member


@pytest.mark.parametrize("language", ["fr", "ar"])
async def test_the_customer_pages_speak_the_reader_s_language(app: Litestar, language: str) -> None:
    lee = await reading(app, "lee", Role.TEAM_LEAD, language)
    speaks(await lee.get("/staff/customers", q="Wrong Plan Card SARL"), language, "search")
    speaks(await lee.get(STRIPE_PAGE), language, "customer")


@pytest.mark.parametrize("language", ["fr", "ar"])
async def test_the_corrections_queue_and_a_correction_speak_the_reader_s_language(
    app: Litestar, language: str
) -> None:
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    filed = correction_id_of(await refund(lee, BIG_REFUND_PAGE, reason="Refund in full"))
    lou = await reading(app, "lou", Role.TEAM_LEAD, language)
    speaks(await lou.get("/staff/corrections"), language, "queue")
    speaks(await lou.get(f"/staff/corrections/{filed}"), language, "correction")


@pytest.mark.parametrize("language", ["fr", "ar"])
async def test_the_notification_pages_speak_the_reader_s_language(
    app: Litestar, language: str
) -> None:
    ada = await reading(app, "ada", Role.ADMIN, language)
    page = await ada.get(NOTIFICATIONS)
    speaks(page, language, "notifications")
    _, hidden = action_form(page, "register")
    registered = await ada.client.post(
        f"{NOTIFICATIONS}/register",
        data={**hidden, "url": "http://127.0.0.1:9/hook", "events": ["*"], "description": ""},
    )
    assert registered.status_code == 200, registered.text
    found = re.search(r'href="/staff/notifications/([0-9a-f-]{36})"', registered.text)
    assert found, registered.text
    speaks(await ada.get(f"{NOTIFICATIONS}/{found.group(1)}"), language, "endpoint")


async def test_a_refusal_reads_in_french_on_the_page_and_in_english_on_the_api(
    app: Litestar, http: httpx.AsyncClient
) -> None:
    sam = await reading(app, "sam", Role.SPECIALIST, "fr")
    finer = await refund(sam, STRIPE_PAGE, amount="10.005", reason="Mauvaise offre")
    assert finer.status_code == 400
    assert alert_of(finer).startswith("EUR a 2 décimales : saisissez le montant")
    over = await refund(sam, STRIPE_PAGE, amount="50.00", reason="Mauvaise offre")
    assert over.status_code == 422
    said = alert_of(over)
    assert said.startswith("Il reste au plus 49,00\u00a0€ à rembourser sur ce paiement"), said
    assert "{" not in said

    page = await sam.get(STRIPE_PAGE)
    _, hidden = action_form(page, "refund")
    key = await issue_test_key()
    body = {
        "provider": "stripe",
        "payment_id": hidden["payment_id"],
        "amount_minor": 5_000,
        "reason": "Mauvaise offre",
    }
    headers = {**auth(key, uuid.uuid4().hex), "Accept-Language": "fr"}
    api = await http.post("/v1/refunds", json=body, headers=headers)
    assert api.status_code == 422, api.text
    assert api.json()["code"] == "refund_exceeds_payment"
    assert api.json()["detail"].startswith("At most 49.00 EUR is left to refund on this payment")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    listening = Receiver()
    yield listening
    listening.stop()


async def test_an_endpoint_registered_in_french_receives_its_notes_in_french(
    app: Litestar,
    http: httpx.AsyncClient,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_kick() -> None:  # the test dispatches and delivers itself, below
        pass

    monkeypatch.setattr("gateway.notifications.outbox.kick_dispatch", no_kick)
    ada = await enrol(app, "ada", Role.ADMIN)
    page = await ada.get(NOTIFICATIONS)
    _, hidden = action_form(page, "register")
    typed = {"url": receiver.url, "events": ["change_request.*"], "language": "fr"}
    registered = await ada.client.post(
        f"{NOTIFICATIONS}/register", data={**hidden, **typed, "description": "Zendesk FR"}
    )
    assert registered.status_code == 200, registered.text
    [secret] = re.findall(r"whsec_[A-Za-z0-9+/=]+", registered.text)
    receiver.secret = secret
    receiver.start()

    body = iban_change(
        ticket="2001",
        iban="FR7630006000011234567890189",
        account_holder="Atelier Lumière SARL",
        account_holder_email="compta@atelier.example",
        targets=["zuora_collection"],
    )
    key = await issue_test_key()
    filed = await http.post("/v1/change-requests", json=body, headers=auth(key, "fr-note"))
    assert filed.status_code == 201, filed.text

    service = notification_service()
    [endpoint_id] = await service.dispatch()
    await service.deliver(endpoint_id)
    [arrival] = receiver.arrivals  # its signature verified by the Standard Webhooks library
    assert receiver.refused == 0
    assert arrival.type == "change_request.filed"  # codes stay codes
    note = arrival.data["note"]
    assert note.startswith("La demande de changement de coordonnées bancaires pour "), note
    assert "a été déposée ; elle attend dans le tri qu'un spécialiste la prenne." in note
    assert "FR76" not in note and "0189" in note  # the IBAN masked, as in English
