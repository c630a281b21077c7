"""IBANs of SEPA countries outside the EEA (GB, CH, MC, SM, VA, AD, GI) are filed with the
holder's address, which their debits must carry (Stripe refuses such a SEPA method without
it); without it, intake answers a problem that says what to ask the customer."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from gateway.core.db.connection import fetch
from tests.database import auth
from tests.payloads import iban_change

ADDRESS = {"line1": "1 Market Street", "city": "London", "postal_code": "EC1A 1BB", "country": "GB"}
NON_EEA = {
    "GB": "GB82WEST12345698765432",
    "CH": "CH9300762011623852957",
    "GI": "GI75NWBK000000007099453",
}


async def file(http: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/v1/change-requests", json=body, headers=auth(key, uuid.uuid4().hex))


@pytest.mark.parametrize("country", sorted(NON_EEA))
async def test_a_non_eea_iban_without_the_holders_address_is_refused(
    http: httpx.AsyncClient, api_key: str, country: str
) -> None:
    response = await file(http, api_key, iban_change(iban=NON_EEA[country]))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "holder_address_required"
    assert "address" in problem["detail"] and problem["iban_country"] == country
    assert await fetch("SELECT id FROM change_requests") == []


async def test_a_non_eea_iban_with_the_address_is_filed_and_shows_it(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = iban_change(iban=NON_EEA["GB"], account_holder_address=ADDRESS)
    response = await file(http, api_key, body)
    assert response.status_code == 201, response.text
    assert response.json()["payload"]["account_holder_address"] == {**ADDRESS, "line2": None}


async def test_an_incomplete_address_is_refused_and_an_eea_iban_needs_none(
    http: httpx.AsyncClient, api_key: str
) -> None:
    partial = {key: value for key, value in ADDRESS.items() if key != "city"}
    incomplete = await file(
        http, api_key, iban_change(iban=NON_EEA["GB"], account_holder_address=partial)
    )
    assert incomplete.status_code == 400 and incomplete.json()["code"] == "validation_failed"
    eea = await file(http, api_key, iban_change())
    assert eea.status_code == 201 and eea.json()["payload"]["account_holder_address"] is None
