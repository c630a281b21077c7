"""The back office's notification pages over HTTP: an admin registers an endpoint and sees its
secret once, a disabled endpoint heads the list with its reason, a team lead reads and resends
but changes nothing, and a specialist does not open the pages."""

from __future__ import annotations

import html
import re

import httpx
from litestar import Litestar

from gateway.core.db.connection import fetch
from gateway.notifications.events import EventType
from gateway.notifications.outbox import record_event
from gateway.notifications.wiring import notification_service
from gateway.staff.roles import Role
from tests.integration.staff import Staff, csrf_field, enrol
from tests.integration.test_customer_page import action_form, alert_of

PAGE = "/staff/notifications"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def register_form(page: httpx.Response, url: str, *events: str, **typed: str) -> dict[str, object]:
    _, hidden = action_form(page, "register")
    return {**hidden, "url": url, "events": list(events), "description": "", **typed}


async def register(
    admin: Staff, url: str, *events: str, **typed: str
) -> tuple[httpx.Response, dict[str, object]]:
    page = await admin.get(PAGE)
    assert page.status_code == 200, page.text
    form = register_form(page, url, *events, **typed)
    return await admin.client.post(f"{PAGE}/register", data=form), form


def endpoint_id_of(answer: httpx.Response) -> str:
    found = re.search(r'href="/staff/notifications/([0-9a-f-]{36})"', answer.text)
    assert found, answer.text
    return found.group(1)


async def test_an_admin_sees_the_secret_once_and_a_second_send_registers_nothing(
    app: Litestar,
) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    answer, form = await register(
        ada, "http://127.0.0.1:9/hook", "change_request.*", description="Zendesk sidebar"
    )
    assert answer.status_code == 200, answer.text
    [secret] = SECRET.findall(answer.text)
    assert "shown only this once" in answer.text
    assert answer.headers["cache-control"] == "no-store"
    endpoint = endpoint_id_of(answer)

    shown = await ada.get(f"{PAGE}/{endpoint}")
    assert shown.status_code == 200 and "change_request.*" in shown.text
    assert "Zendesk sidebar" in shown.text and not SECRET.search(shown.text)
    listed = await ada.get(PAGE)
    assert "http://127.0.0.1:9/hook" in listed.text and not SECRET.search(listed.text)

    again = await ada.client.post(f"{PAGE}/register", data=form)  # a reload that posts again
    assert again.status_code == 303
    assert again.headers["location"] == f"{PAGE}/{endpoint}?done=registered_before"
    after = await ada.client.get(again.headers["location"])
    assert "its secret was shown then, once" in after.text
    assert secret not in after.text
    assert len(await fetch("SELECT id FROM notification_endpoints")) == 1
    stored = await fetch("SELECT secret_ciphertext FROM notification_endpoints")
    assert secret not in str(stored[0]["secret_ciphertext"])


async def test_a_refused_registration_says_why_and_keeps_the_form(app: Litestar) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    no_events, _ = await register(ada, "http://127.0.0.1:9/hook")
    assert no_events.status_code == 400
    assert "Choose at least one event" in alert_of(no_events)
    elsewhere, _ = await register(ada, "https://helpdesk.example/hook", "*")
    assert elsewhere.status_code == 422
    assert "helpdesk.example" in alert_of(elsewhere)
    assert 'value="https://helpdesk.example/hook"' in elsewhere.text
    assert not SECRET.search(elsewhere.text)
    assert await fetch("SELECT id FROM notification_endpoints") == []


async def test_a_disabled_endpoint_heads_the_list_with_its_reason(app: Litestar) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    first, _ = await register(ada, "http://127.0.0.1:9/first", "*")
    second, _ = await register(ada, "http://127.0.0.1:9/second", "correction.*")
    failing = endpoint_id_of(second)
    assert endpoint_id_of(first) != failing
    page = await ada.get(f"{PAGE}/{failing}")
    address, hidden = action_form(page, "disable")
    no_reason = await ada.client.post(address, data=hidden)
    assert no_reason.status_code == 422
    assert "Say why the endpoint is disabled" in alert_of(no_reason)
    disabled = await ada.client.post(
        address, data={**hidden, "reason": "The help desk moved to a new address"}
    )
    assert disabled.status_code == 303

    listed = await ada.get(PAGE)
    box = re.search(r'data-testid="disabled-endpoints">(.*?)</div>', listed.text, re.S)
    assert box, listed.text
    assert "http://127.0.0.1:9/second" in box.group(1)
    assert "The help desk moved to a new address" in html.unescape(box.group(1))
    assert "/first" not in box.group(1)
    assert listed.text.index("disabled-endpoints") < listed.text.index('data-testid="endpoints"')
    rows = re.findall(r'data-testid="endpoint" data-id="([^"]+)" data-enabled="(\w+)"', listed.text)
    assert rows[0] == (failing, "no") and rows[1][1] == "yes"

    shown = await ada.get(f"{PAGE}/{failing}")
    address, hidden = action_form(shown, "enable")
    assert (await ada.client.post(address, data=hidden)).status_code == 303
    assert 'data-testid="disabled-endpoints"' not in (await ada.get(PAGE)).text


async def test_a_lead_reads_and_a_specialist_cannot_open_the_pages(app: Litestar) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    sam = await enrol(app, "sam", Role.SPECIALIST)
    answer, _ = await register(ada, "http://127.0.0.1:9/hook", "*")
    endpoint = endpoint_id_of(answer)

    for path in (PAGE, f"{PAGE}/{endpoint}"):
        refused = await sam.get(path)
        assert refused.status_code == 403, refused.text
        assert "for team leads and admins" in refused.text
    token = csrf_field(await sam.get("/staff/login"))  # any of the app's forms: a valid token
    posted = await sam.client.post(
        f"{PAGE}/register", data={"_csrf_token": token, "url": "http://127.0.0.1:9/x"}
    )
    assert posted.status_code == 403

    listed = await lee.get(PAGE)
    assert listed.status_code == 200 and "http://127.0.0.1:9/hook" in listed.text
    assert 'data-testid="register-form"' not in listed.text
    shown = await lee.get(f"{PAGE}/{endpoint}")
    assert shown.status_code == 200 and 'data-testid="endpoint-actions"' not in shown.text
    rotate = await lee.client.post(
        f"{PAGE}/{endpoint}/rotate-secret",
        data={"_csrf_token": csrf_field(await lee.get("/staff/login"))},
    )
    assert rotate.status_code == 403 and "Only an admin" in rotate.text
    assert not SECRET.search(rotate.text)


async def test_a_rotated_secret_is_shown_once(app: Litestar) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    answer, _ = await register(ada, "http://127.0.0.1:9/hook", "*")
    [first] = SECRET.findall(answer.text)
    endpoint = endpoint_id_of(answer)
    page = await ada.get(f"{PAGE}/{endpoint}")
    address, hidden = action_form(page, "rotate-secret")
    rotated = await ada.client.post(address, data=hidden)
    assert rotated.status_code == 200, rotated.text
    [second] = SECRET.findall(rotated.text)
    assert second != first and "old secret no longer signs" in rotated.text
    again = await ada.client.post(address, data=hidden)
    assert again.status_code == 303 and "rotated_before" in again.headers["location"]
    after = await ada.client.get(again.headers["location"])
    assert "rotated the secret already" in after.text and not SECRET.search(after.text)


async def test_a_lead_resends_a_delivery_once_and_a_waiting_one_is_refused_with_a_sentence(
    app: Litestar,
) -> None:
    ada = await enrol(app, "ada", Role.ADMIN)
    lee = await enrol(app, "lee", Role.TEAM_LEAD)
    answer, _ = await register(ada, "http://127.0.0.1:9/hook", "correction.*")
    endpoint = endpoint_id_of(answer)
    await record_event(
        EventType.CORRECTION_FILED,
        subject_type="correction",
        subject_id="7d1f6a0e-0000-4000-8000-000000000001",
        client=None,
        data={"status": "awaiting_approval", "note": "A refund of 10.00 EUR was filed."},
    )
    await notification_service().dispatch()  # the worker's fan-out
    listed = await lee.get(f"{PAGE}/{endpoint}")
    [delivery] = re.findall(r'data-testid="delivery" data-id="([^"]+)"', listed.text)
    assert "correction.filed" in listed.text and 'data-status="pending"' in listed.text

    page = await lee.get(f"{PAGE}/deliveries/{delivery}")
    assert "A refund of 10.00 EUR was filed." in page.text  # the body sent, masked
    assert page.text.count('data-testid="payload"') == 1  # once, folded below the attempts
    assert "<title>Delivery · billing-gateway back office</title>" in page.text
    address, hidden = action_form(page, "resend")
    waiting = await lee.client.post(address, data=hidden)
    assert waiting.status_code == 409 and "still waiting to be sent" in alert_of(waiting)

    await fetch("UPDATE notification_deliveries SET status = 'delivered', delivered_at = now()")
    page = await lee.get(f"{PAGE}/deliveries/{delivery}")
    address, hidden = action_form(page, "resend")
    for _ in range(2):  # a double click
        resent = await lee.client.post(address, data=hidden)
        assert resent.status_code == 303
    shown = await lee.client.get(resent.headers["location"])
    assert "Resent: the same event, with the same id" in shown.text
    audited = await fetch(
        "SELECT actor_id FROM audit_records WHERE action = 'notification_delivery.resend.succeeded'"
    )
    assert [row["actor_id"] for row in audited] == ["lee"]
    missing = await lee.get(f"{PAGE}/deliveries/{endpoint}")
    assert missing.status_code == 404 and "No notification delivery has the id" in missing.text
