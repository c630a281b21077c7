"""The work page in French and Arabic: every heading, label, button, status, check and refusal
in the staff member's language, with `lang`/`dir` set; the API's answer for the same refusal
stays English."""

from __future__ import annotations

import html
import re
import uuid

import httpx
from litestar import Litestar

from gateway.change_requests.workflow import WorkflowService
from gateway.core.db.connection import fetch
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import get_settings
from tests.database import auth
from tests.integration.staff import Staff, csrf_field, enrol
from tests.payloads import iban_change

# English sentences of the page, and how each language says some of them.
ENGLISH = (
    "The request",
    "Pre-checks",
    "Refresh checks",
    "Nothing was sent to a provider yet.",
    "In progress: check it and apply it.",
    "Apply reads the providers again first",
    "Back to the list",
    "Contact reasons filed",
    "signed in as",
    "New IBAN",
    "Account holder",
    "Steps",
    ">Apply<",
    "in progress",
    "Bank details (IBAN) change",
)
SAID = {
    "fr": (
        "La demande",
        "Vérifications préalables",
        "Actualiser les vérifications",
        "Rien n'a encore été envoyé à un prestataire.",
        "En cours : vérifiez-la puis appliquez-la.",
        "Nouvel IBAN",
        "Titulaire du compte",
        "Appliquer",
    ),
    "ar": (
        "الفحوص المسبقة",
        "تحديث الفحوص",
        "لم يُرسَل شيء إلى أي مزوّد خدمة بعد.",
        "قيد المعالجة: راجعه ثم طبّقه.",
        "الآيبان الجديد",
        "صاحب الحساب",
        "تطبيق",
    ),
}
REFUSED = {
    "fr": "Une demande à l'état « en cours » ne permet pas l'action",
    "ar": "لا يمكن تنفيذ",
}


def _text(page: str) -> str:
    """What a reader sees: the page without its style, scripts and tags."""
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


async def _in_progress(app: Litestar, http: httpx.AsyncClient, api_key: str) -> tuple[str, Staff]:
    filed = await http.post(
        "/v1/change-requests", json=iban_change(), headers=auth(api_key, uuid.uuid4().hex)
    )
    assert filed.status_code == 201, filed.text
    sam = await enrol(app, "sam", Role.SPECIALIST)
    [row] = await fetch("SELECT id FROM staff_users WHERE username = 'sam'")
    await WorkflowService(get_settings()).claim_next(StaffMember(row["id"], "sam", Role.SPECIALIST))
    return str(filed.json()["id"]), sam


async def test_the_work_page_speaks_french_and_arabic(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    request_id, sam = await _in_progress(app, http, api_key)
    english = await sam.get(f"/staff/requests/{request_id}")
    assert english.status_code == 200
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Pre-checks" in english.text and "Refresh checks" in english.text

    for language, direction in (("fr", "ltr"), ("ar", "rtl")):
        sam.client.headers["Accept-Language"] = language
        page = await sam.get(f"/staff/requests/{request_id}")
        assert page.status_code == 200, page.text
        assert f'<html lang="{language}" dir="{direction}">' in page.text
        shown = _text(page.text)
        for sentence in ENGLISH:
            where = page.text if sentence.startswith(">") else shown
            assert sentence not in where, (language, sentence)
        for sentence in SAID[language]:
            assert sentence in shown, (language, sentence)
        # The masked IBAN and the ticket stay left to right inside Arabic text.
        assert re.search(r"<bdi>DE\*+3000</bdi>", page.text), language
        assert "None" not in shown


async def test_the_pre_checks_are_said_again_in_the_readers_language(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    request_id, sam = await _in_progress(app, http, api_key)
    token = csrf_field(await sam.client.get("/staff/login"))
    refreshed = await sam.client.post(
        f"/staff/requests/{request_id}/checks", data={"_csrf_token": token}
    )
    assert refreshed.status_code == 303, refreshed.text
    english = _text((await sam.get(f"/staff/requests/{request_id}")).text)
    [stored] = await fetch(
        "SELECT checks FROM change_requests WHERE id = $1", uuid.UUID(request_id)
    )
    sentences = re.findall(r'"sentence":\s*"((?:[^"\\]|\\.)*)"', str(stored["checks"]))
    assert sentences, stored
    for language in ("fr", "ar"):
        sam.client.headers["Accept-Language"] = language
        page = await sam.get(f"/staff/requests/{request_id}")
        shown = _text(page.text)
        for sentence in sentences:
            if sentence in english:  # stored in English; shown in the reader's language
                assert sentence not in shown, (language, sentence)
        assert "The pre-checks were read" not in shown


async def test_a_refusal_is_translated_on_the_page_and_stays_english_in_the_api(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    request_id, _ = await _in_progress(app, http, api_key)
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    english_refusal = "A request that is in progress cannot approve"
    for language in ("en", "fr", "ar"):
        lee.client.headers["Accept-Language"] = language
        token = csrf_field(await lee.client.get("/staff/login"))
        refused = await lee.client.post(
            f"/staff/requests/{request_id}/approve", data={"_csrf_token": token}
        )
        assert refused.status_code == 409, refused.text
        found = re.search(r'data-testid="work-error">([^<]*)<', refused.text)
        assert found, refused.text
        alert = html.unescape(found.group(1))
        if language == "en":
            assert english_refusal in alert
        else:
            assert REFUSED[language] in alert, alert
            assert english_refusal not in alert

    # The same refusal through the API: English, whatever the support tool's language.
    cancelled = await http.post(
        f"/v1/change-requests/{request_id}/cancel",
        json={"reason": "customer withdrew"},
        headers={**auth(api_key, uuid.uuid4().hex), "Accept-Language": "fr"},
    )
    assert cancelled.status_code == 200, cancelled.text
    again = await http.post(
        f"/v1/change-requests/{request_id}/cancel",
        json={"reason": "twice"},
        headers={**auth(api_key, uuid.uuid4().hex), "Accept-Language": "ar"},
    )
    assert again.status_code == 409, again.text
    assert again.json()["detail"].startswith("A request that is cancelled cannot cancel; ")
