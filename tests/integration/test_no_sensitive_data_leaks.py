"""Property tests: no generated IBAN or card number ever reaches a response or a log line.

They drive the real server over loopback and read the log file it writes, so every logger in
the process (uvicorn, Litestar, the gateway) is covered.
"""

from __future__ import annotations

import re
import uuid

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schwifty import IBAN

from tests.database import LiveServer, auth
from tests.payloads import iban_change, with_change
from tests.strategies import card_numbers, ibans

FREE_TEXT_FIELDS = [
    "requester.name",
    "payload.account_holder",
    "ticket.id",
    "customer.company_name",
]
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _digits_and_letters(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def _assert_absent(secret: str, *texts: str) -> None:
    wanted = _digits_and_letters(secret)
    for text in texts:
        assert wanted not in _digits_and_letters(text)


@PROPERTY_SETTINGS
@given(iban=ibans(), field=st.sampled_from(["payload.iban", *FREE_TEXT_FIELDS]))
def test_generated_ibans_never_come_back_or_reach_the_logs(
    live_server: LiveServer, api_key: str, iban: str, field: str
) -> None:
    body = with_change(iban_change(ticket=uuid.uuid4().hex[:10]), field, iban)
    with httpx.Client(base_url=live_server.base_url) as client:
        created = client.post(
            "/v1/change-requests",
            json=body,
            headers={**auth(api_key, uuid.uuid4().hex), "X-Request-ID": IBAN(iban).compact},
        )
        if field == "payload.iban":
            assert created.status_code == 201, created.text
        else:
            assert created.status_code == 422
            assert created.json()["code"] == "iban_outside_iban_field"
        listed = client.get("/v1/change-requests", headers=auth(api_key))
    _assert_absent(
        IBAN(iban).compact,
        created.text,
        listed.text,
        str(created.headers),
        live_server.log_path.read_text(),
    )


@PROPERTY_SETTINGS
@given(
    card=card_numbers(),
    field=st.sampled_from(["payload.iban", *FREE_TEXT_FIELDS, "contact_reasons"]),
)
def test_generated_card_numbers_are_refused_and_never_logged(
    live_server: LiveServer, api_key: str, card: str, field: str
) -> None:
    value: object = [f"card {card}"] if field == "contact_reasons" else card
    body = with_change(iban_change(), field, value)
    with httpx.Client(base_url=live_server.base_url) as client:
        response = client.post(
            "/v1/change-requests", json=body, headers=auth(api_key, uuid.uuid4().hex)
        )
    assert response.status_code == 422
    assert response.json()["code"] == "card_number_not_accepted"
    assert card not in re.sub(r"\D", "", response.text)
    assert card not in re.sub(r"[ -]", "", live_server.log_path.read_text())
