"""Fraud-stop refusals in the lead's language: the FRAUD-STOP, unblock and bulk unblock forms
answer a French or Arabic lead in French or Arabic (the kinds named in words, never as codes),
while the same refusal over /v1 stays English, word for word, whatever Accept-Language says."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar

from gateway.fraud.schemas import EntryKind, ScreenMatch
from gateway.fraud.screening import KindName, blocked_refusal, explain
from gateway.i18n import translate, use_language
from gateway.staff.roles import Role
from tests.database import auth
from tests.integration.staff import Staff, enrol


async def lead_reading(app: Litestar, username: str, language: str) -> Staff:
    lead = await enrol(app, username, Role.TEAM_LEAD)
    lead.client.headers["Accept-Language"] = language
    return lead


async def refusal(lead: Staff, slug: str, fields: dict[str, Any]) -> str:
    refused = await lead.form(slug, fields)
    assert refused.status_code == 422, refused.text
    sentence: str = refused.json()["custom_form_error"]
    return sentence


async def test_a_french_lead_reads_fraud_stop_refusals_in_french(
    app: Litestar, http: httpx.AsyncClient, api_key: str
) -> None:
    lea = await lead_reading(app, "lea", "fr")
    stop = {"reason": "réseau de rétrofacturations"}

    bad_ip = await refusal(lea, "fraud-stop", {**stop, "customer": "shop-9", "ip": "203.0.113"})
    assert bad_ip == "'203.0.113' n'est pas une adresse IPv4 ou IPv6."
    nothing = await refusal(lea, "fraud-stop", stop)
    assert nothing == (
        "Indiquez une demande ou un client, ainsi que l'empreinte de carte et l'adresse IP à "
        "bloquer."
    )
    unknown = await refusal(lea, "unblock-entry", {"entry_id": 999, "reason": "erreur"})
    assert unknown == "Aucune entrée de la liste de blocage ne porte le numéro 999."
    missing = await refusal(lea, "bulk-unblock", {"entry_ids": "5, 6", "reason": "erreur"})
    assert missing == (
        "Aucune entrée de la liste de blocage ne porte le numéro 5, 6 ; rien n'a été enregistré."
    )
    no_bulk = await refusal(lea, "approve-bulk-unblock", {"bulk_unblock_id": 77})
    assert no_bulk == "Aucun déblocage groupé ne porte le numéro 77."

    # The same refusals over /v1, asked in French: English, as support tools read them.
    french = {"Accept-Language": "fr", "Cookie": "bg_lang=fr"}
    blocked = await http.post(
        "/v1/blocklist/entries",
        json={"kind": "ip", "value": "203.0.113", "reason": "chargeback ring"},
        headers={**auth(api_key, uuid.uuid4().hex), **french},
    )
    assert blocked.status_code == 422, blocked.text
    assert blocked.json()["detail"] == "'203.0.113' is not an IPv4 or IPv6 address."
    unblocked = await http.request(
        "DELETE",
        "/v1/blocklist/entries/999",
        json={"reason": "mistake"},
        headers={**auth(api_key), **french},
    )
    assert unblocked.status_code == 404, unblocked.text
    assert unblocked.json()["detail"] == "No blocklist entry has the id 999."


async def test_an_arabic_lead_reads_them_in_arabic(app: Litestar) -> None:
    layla = await lead_reading(app, "layla", "ar")
    stop = {"reason": "احتيال على البطاقات"}
    nothing = await refusal(layla, "fraud-stop", stop)
    assert nothing == "حدّد طلبًا أو عميلًا، وبصمة البطاقة وعنوان IP المراد إيقافهما."
    interface = await refusal(layla, "fraud-stop", {**stop, "customer": "shop-9", "ip": "::1%eth0"})
    assert interface == "'::1%eth0' يحدّد واجهة شبكة (%eth0)؛ أدخل العنوان من دونها."
    unknown = await refusal(layla, "unblock-entry", {"entry_id": 999, "reason": "خطأ"})
    assert unknown == "لا يوجد قيد في قائمة الحظر بالرقم 999."


def match(entry_id: int, kind: EntryKind) -> ScreenMatch:
    return ScreenMatch(
        entry_id=entry_id, kind=kind, display="x", reason="r", source_ticket=None, why="w"
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "Refused by fraud-stop: the card BIN and the email address given are blocked "
            "(entries 9, 4). A team lead can review the block in the back office.",
        ),
        (
            "fr",
            "Refusé par l'anti-fraude : les valeurs données (BIN de carte, adresse e-mail) sont "
            "bloquées (entrées 9, 4). Un chef d'équipe peut revoir le blocage dans le "
            "back-office.",
        ),
        (
            "ar",
            "رفضه إيقاف الاحتيال: القيم المقدَّمة (BIN البطاقة وعنوان البريد الإلكتروني) "
            "محظورة (القيود 9, 4). "
            "يمكن لرئيس الفريق مراجعة الحظر في المكتب الخلفي.",
        ),
    ],
)
def test_a_fraud_stop_refusal_names_each_kind_in_the_readers_words(
    language: str, expected: str
) -> None:
    refused = blocked_refusal([match(9, "email"), match(4, "card_bin")])
    assert str(refused.detail) == (  # what the API says, in any language
        "Refused by fraud-stop: the card BIN and the email address given are blocked "
        "(entries 9, 4). A team lead can review the block in the back office."
    )
    with use_language(language):
        assert translate(refused.detail) == expected


def test_a_kind_keeps_its_code_for_the_api_and_is_a_word_on_a_page() -> None:
    kind = KindName("card_fingerprint")
    assert kind == "card_fingerprint"
    with use_language("fr"):
        assert translate(kind) == "empreinte de carte"
        assert translate(explain("ip", "203.0.113.7", "ip_range", "203.0.113.0/24")) == (
            "L'adresse IP 203.0.113.7 fait partie de la plage bloquée 203.0.113.0/24."
        )
    with use_language("en"):
        assert translate(kind) == "card fingerprint"
