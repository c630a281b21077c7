"""`audit forget` reaches every entry about a customer: a request filed, another filed and
cancelled, one applied at the emulators, a refund, each through the real services; once the
customer is forgotten nothing readable about them is left in the trail."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from audit.erasure import forget_subject
from audit.store import read_payload
from gateway.api_keys.service import ApiClient
from gateway.core.db.connection import fetch
from gateway.corrections.schemas import RefundCreate
from gateway.corrections.service import CorrectionService, Requester
from gateway.fulfilment.service import FulfilmentService
from gateway.providers import Providers
from settings import get_settings
from tests.database import auth
from tests.fake_billing import ACCOUNT, FakeBilling
from tests.integration import test_apply

# The customer's references as the requests name them, and their account at the refund's provider.
SUBJECTS = ("shop-101", ACCOUNT)
THEIR_DATA = ("shop-101", "A00000101", "cus_DemoAtelier01", "Atelier", "Camille", ACCOUNT)
TOOL = ApiClient(uuid.uuid4(), "support-tool", frozenset(), None, "acme")


@pytest.fixture
def emulators() -> Iterator[tuple[str, str]]:
    yield from test_apply.emulators.__wrapped__()  # type: ignore[attr-defined]


@pytest.fixture
def fulfilment(app: Any) -> FulfilmentService:
    from gateway.fulfilment.wiring import fulfilment_service

    return fulfilment_service()


async def _refund() -> str:
    billing = FakeBilling()
    billing.paid("pay_small", 4_900)

    async def no_worker(_: uuid.UUID) -> None:
        return None

    service = CorrectionService(get_settings(), Providers({"stripe": billing}), defer=no_worker)
    order = RefundCreate(provider="stripe", payment_id="pay_small", amount_minor=1_000, reason="x")
    filed = await service.file(order, Requester.of_api_key(TOOL))
    assert await service.advance(filed.id) == "succeeded"
    return str(filed.id)


async def test_a_forgotten_customer_has_nothing_readable_left(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    body = test_apply.atelier("zuora_collection", "stripe_customer_debit")
    cancelled = await test_apply.file(http, api_key, body)
    answer = await http.post(
        f"/v1/change-requests/{cancelled}/cancel",
        json={"reason": "Camille withdrew"},
        headers=auth(api_key, "cancel-1"),
    )
    assert answer.status_code == 200, answer.text
    applied = await test_apply.file(http, api_key, body)
    assert (await test_apply.apply(http, api_key, applied)).status_code == 202
    assert await fulfilment.advance(await test_apply.run_of(applied)) == "succeeded"
    refunded = await _refund()

    for subject in SUBJECTS:
        assert await forget_subject(subject, "the customer asked to be forgotten")

    rows = await fetch("SELECT * FROM audit_records ORDER BY id")
    ours = [row for row in rows if row["target_id"] in (cancelled, applied, refunded)]
    assert {row["action"] for row in ours} >= {
        "change_request.create.succeeded",
        "change_request.cancel.succeeded",
        "change_request.apply.succeeded",
        "correction.file_refund.succeeded",
    }
    for row in rows:
        payload = await read_payload(dict(row))
        if row in ours or row["subject"] in SUBJECTS:
            assert payload is None, (row["action"], row["subject"])  # reads as erased
        else:
            assert not any(mark in str(payload) for mark in THEIR_DATA), row["action"]
