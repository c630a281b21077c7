"""The Corrections queue's decisions and what a correction shows, over HTTP against both
sandbox emulators: a refusal needs a reason and reaches the maker, an approval of a payload other
than the one shown is refused, and a prepaid cancellation shows how its refund is worked out."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from litestar import Litestar

from gateway.staff.roles import Role
from tests.integration.staff import enrol
from tests.integration.test_customer_page import (
    BIG_REFUND_PAGE,
    action_form,
    alert_of,
    correction_id_of,
    refund,
)

pytestmark = pytest.mark.usefixtures("provider_emulators")


async def test_a_lead_refuses_with_a_reason_and_an_outdated_approval_is_refused(
    app: Litestar,
) -> None:
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    ada = await enrol(app, "ada", Role.ADMIN)
    filed = correction_id_of(await refund(lee, BIG_REFUND_PAGE, reason="Refund in full"))
    queue = await ada.get("/staff/corrections")
    _, hidden = action_form(queue, "approve")
    outdated = await ada.client.post(
        f"/staff/corrections/{filed}/approve", data={**hidden, "payload_hash": "0" * 64}
    )
    assert outdated.status_code == 409 and "not what you were shown" in alert_of(outdated)
    token = {"_csrf_token": hidden["_csrf_token"]}
    no_reason = await ada.client.post(f"/staff/corrections/{filed}/refuse", data=token)
    assert no_reason.status_code == 400 and "Write a reason for refusing" in alert_of(no_reason)
    refused = await ada.client.post(
        f"/staff/corrections/{filed}/refuse", data={**token, "reason": "Refund only half"}
    )
    assert refused.status_code == 303
    after = await ada.client.get(refused.headers["location"])
    assert "Refused: nothing runs" in after.text and "Nothing waits for approval" in after.text
    assert "refused by ada: Refund only half" in after.text
    seen_by_maker = await lee.get(f"/staff/corrections/{filed}")
    assert "Refused by ada: Refund only half. Nothing ran." in seen_by_maker.text


async def test_a_prepaid_cancellation_shows_how_its_refund_is_worked_out(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    page = await sam.get("/staff/customers/stripe/cus_prepaid_package")
    assert "prepaid" in page.text
    address, hidden = action_form(page, "cancel")
    typed = {"when": "now", "then": "refund_remaining", "reason": "Cancelled after payment"}
    answer = await sam.client.post(address, data={**hidden, **typed})
    shown = await sam.get(f"/staff/corrections/{correction_id_of(answer)}")
    computed = re.search(r'data-testid="computation">(.*?)</dl>', shown.text, re.S)
    assert computed, shown.text
    lines = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", computed.group(1)))
    assert lines["Last payment"] == "€1,200.00"  # amounts as the reader's language writes them
    assert lines["Fee"].startswith("30 % of the unused value")
    unused, fee, refunded = (
        Decimal(re.findall(r"[\d,]+\.\d\d", text)[-1].replace(",", ""))
        for text in (lines["Unused value"], lines["Fee"], lines["Refund"])
    )
    assert refunded == unused - fee and Decimal(0) < refunded < Decimal("1200.00")
