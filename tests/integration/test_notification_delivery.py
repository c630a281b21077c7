"""Outgoing notifications reach a real receiver on loopback, signed by the Standard Webhooks
scheme and checked there with the `standardwebhooks` library: registration shows the secret
once, only allowed hosts are reached, a receiver that was down catches up, redirects are not
followed, one endpoint gets its events in order, a resend carries the same webhook-id, an
endpoint failing for days is disabled, and a key sees its own client's endpoints only."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import msgspec
import pytest
from standardwebhooks import Webhook

from audit.entry import Actor
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.sensitive import contains_iban
from gateway.notifications.service import NotificationService
from settings import get_settings
from tests.database import auth, issue_test_key
from tests.emulators import free_port

TOOL = Actor(kind="api_key", id="test", role="test-tool")


@dataclass
class Receiver:
    """A support tool's webhook receiver: records every request, answers by `answers` (one
    status per request, then 200); `/moved` redirects to `/target`."""

    port: int
    answers: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self, path: str = "/hook") -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.received if r["path"] == path]

    def verified(self, secret: str) -> list[dict[str, Any]]:
        """Each body, checked with the library a receiver uses (raises when one is forged)."""
        return [
            Webhook(secret).verify(r["body"], r["headers"])
            for r in self.received
            if r["path"] == "/hook"
        ]


@contextlib.contextmanager
def receiving(receiver: Receiver) -> Iterator[Receiver]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.received.append({"path": self.path, "headers": headers, "body": body})
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("location", f"http://127.0.0.1:{receiver.port}/target")
            else:
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving(Receiver(free_port())) as running:
        yield running


async def _no_job(endpoint_id: uuid.UUID, at: Any) -> None:
    """The tests run the deliveries themselves."""


def service(**settings: Any) -> NotificationService:
    base = get_settings()
    changed = base.model_copy(
        update={
            "notification_retry_schedule": (0.3, 0.3),
            "notification_allowed_hosts": ("127.0.0.1",),
            **settings,
        }
    )
    return NotificationService(changed, Cipher(base.keys), later=_no_job)


async def event(
    subject_id: str = "cr-1",
    *,
    client: str | None = "test-tool",
    kind: str = "change_request.applied",
    customer: dict[str, str] | None = None,
) -> uuid.UUID:
    """An event as the outbox writes it (gateway/notifications/outbox.py)."""
    event_id = uuid.uuid4()
    subject_type = "customer" if kind.startswith("provider.") else "change_request"
    sequence = await fetch(
        "SELECT coalesce(max(sequence), 0) + 1 AS n FROM notification_events"
        " WHERE subject_type = $1 AND subject_id = $2",
        subject_type,
        subject_id,
    )
    payload = {
        "type": kind,
        "timestamp": "2026-12-07T10:00:00Z",
        "data": {"subject": {"type": subject_type, "id": subject_id}, "sequence": sequence[0]["n"]},
    }
    await fetch(
        "INSERT INTO notification_events (id, type, subject_type, subject_id, sequence, client,"
        " customer, payload) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)",
        event_id,
        kind,
        subject_type,
        subject_id,
        sequence[0]["n"],
        client,
        msgspec.json.encode(customer).decode() if customer else None,
        msgspec.json.encode(payload).decode(),
    )
    return event_id


async def deliveries(endpoint_id: Any) -> list[dict[str, Any]]:
    return await fetch(
        "SELECT d.*, e.position FROM notification_deliveries d"
        " JOIN notification_events e ON e.id = d.event_id WHERE endpoint_id = $1"
        " ORDER BY e.position",
        endpoint_id,
    )


async def attempts(endpoint_id: Any) -> list[dict[str, Any]]:
    return await fetch(
        "SELECT a.* FROM notification_attempts a JOIN notification_deliveries d"
        " ON d.id = a.delivery_id WHERE d.endpoint_id = $1 ORDER BY a.id",
        endpoint_id,
    )


async def test_registering_shows_the_secret_once_and_stores_it_encrypted(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    key = await issue_test_key(["notifications:manage"])
    body = {"url": receiver.url, "events": ["change_request.*"], "description": "Zendesk"}
    created = await http.post("/v1/notification-endpoints", json=body, headers=auth(key))
    assert created.status_code == 201, created.text
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert endpoint["client"] == "test-tool" and endpoint["enabled"] is True

    read = await http.get(f"/v1/notification-endpoints/{endpoint['id']}", headers=auth(key))
    listed = await http.get("/v1/notification-endpoints", headers=auth(key))
    for answer in (read.text, listed.text):
        assert endpoint["secret"] not in answer and "secret" not in answer
    assert [item["id"] for item in listed.json()["items"]] == [endpoint["id"]]
    stored = await fetch("SELECT secret_ciphertext FROM notification_endpoints")
    assert stored[0]["secret_ciphertext"].startswith("v1:aes256gcm:")
    assert endpoint["secret"][6:] not in stored[0]["secret_ciphertext"]

    again = await http.post("/v1/notification-endpoints", json=body, headers=auth(key))
    assert again.status_code == 409
    assert again.json()["code"] == "notification_endpoint_exists"
    assert again.json()["existing_id"] == endpoint["id"]
    # the same receiver written another way is the same endpoint: not registered twice
    respelled = {**body, "url": receiver.url.replace("http://", "HTTP://")}
    again = await http.post("/v1/notification-endpoints", json=respelled, headers=auth(key))
    assert again.status_code == 409, again.text
    assert again.json()["existing_id"] == endpoint["id"]

    rotated = await http.post(
        f"/v1/notification-endpoints/{endpoint['id']}/rotate-secret", headers=auth(key)
    )
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != endpoint["secret"]
    actions = {r["action"] for r in await fetch("SELECT action FROM audit_records")}
    assert {
        "notification_endpoint.register.succeeded",
        "notification_endpoint.rotate_secret.succeeded",
    } <= actions


async def test_a_host_not_allowed_is_refused_with_a_sentence(http: httpx.AsyncClient) -> None:
    key = await issue_test_key(["notifications:manage"])
    for url, code in (
        ("https://hooks.evil.example/collect", "notification_host_not_allowed"),
        ("http://user:pw@127.0.0.1:9/hook", "notification_url_invalid"),
    ):
        refused = await http.post(
            "/v1/notification-endpoints",
            json={"url": url, "events": ["*"]},
            headers=auth(key),
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == code
    unknown = await http.post(
        "/v1/notification-endpoints",
        json={"url": "http://127.0.0.1:9/hook", "events": ["change_request.teleported"]},
        headers=auth(key),
    )
    assert unknown.status_code in (400, 422)
    assert "change_request.teleported" in unknown.json()["detail"]
    assert await fetch("SELECT id FROM notification_endpoints") == []


async def test_a_delivery_is_signed_and_verifies_at_the_receiver(receiver: Receiver) -> None:
    notifications = service()
    endpoint, secret = await notifications.register(
        receiver.url, ["change_request.*"], "Zendesk", "test-tool", TOOL
    )
    event_id = await event()
    await event(kind="provider.payment_failed", client=None)  # not subscribed
    assert await notifications.dispatch() == {endpoint["id"]}
    await notifications.deliver(endpoint["id"])

    [body] = receiver.verified(secret)
    assert receiver.ids() == [str(event_id)]
    assert body["type"] == "change_request.applied"
    headers = receiver.received[0]["headers"]
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "billing-gateway"
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 32).verify(receiver.received[0]["body"], headers)
    [delivery] = await deliveries(endpoint["id"])
    assert delivery["status"] == "delivered" and delivery["last_response_status"] == 200
    [attempt] = await attempts(endpoint["id"])
    assert attempt["response_status"] == 200 and attempt["duration_ms"] >= 0


async def test_a_receiver_that_was_down_gets_the_delivery_on_a_later_try() -> None:
    notifications = service()
    down = Receiver(free_port())
    endpoint, secret = await notifications.register(down.url, ["*"], "", "test-tool", TOOL)
    event_id = await event()
    await notifications.dispatch()
    await notifications.deliver(endpoint["id"])  # nobody listens on the port

    [first] = await attempts(endpoint["id"])
    assert first["response_status"] is None and "connect" in first["error"].lower()
    [pending] = await deliveries(endpoint["id"])
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert pending["next_attempt_at"] is not None
    endpoint_row = await fetch("SELECT failing_since FROM notification_endpoints")
    assert endpoint_row[0]["failing_since"] is not None

    with receiving(down):
        await notifications.deliver(endpoint["id"])  # not due yet: nothing is sent
        assert down.received == []
        await asyncio.sleep(0.35)
        await notifications.deliver(endpoint["id"])
    assert down.ids() == [str(event_id)]
    assert len(down.verified(secret)) == 1
    [delivered] = await deliveries(endpoint["id"])
    assert delivered["status"] == "delivered" and delivered["attempts"] == 2
    endpoint_row = await fetch("SELECT failing_since, last_success_at FROM notification_endpoints")
    assert endpoint_row[0]["failing_since"] is None
    assert endpoint_row[0]["last_success_at"] is not None


async def test_once_the_schedule_is_spent_the_delivery_fails_and_the_next_one_goes(
    receiver: Receiver,
) -> None:
    notifications = service(notification_retry_schedule=(0.05,))
    endpoint, _ = await notifications.register(receiver.url, ["*"], "", "test-tool", TOOL)
    first, second = await event("cr-1"), await event("cr-2")
    receiver.answers = [500, 500]
    await notifications.dispatch()
    await notifications.deliver(endpoint["id"])
    await asyncio.sleep(0.1)
    await notifications.deliver(endpoint["id"])
    assert receiver.ids() == [str(first), str(first), str(second)]
    assert [d["status"] for d in await deliveries(endpoint["id"])] == ["failed", "delivered"]
    assert [a["response_status"] for a in await attempts(endpoint["id"])] == [500, 500, 200]


async def test_a_redirect_is_a_failed_try_and_is_not_followed(receiver: Receiver) -> None:
    notifications = service()
    moved = receiver.url.replace("/hook", "/moved")
    endpoint, _ = await notifications.register(moved, ["*"], "", "test-tool", TOOL)
    await event()
    await notifications.dispatch()
    await notifications.deliver(endpoint["id"])

    assert [r["path"] for r in receiver.received] == ["/moved"]  # /target never hit
    [attempt] = await attempts(endpoint["id"])
    assert attempt["response_status"] == 302
    assert "not followed" in attempt["error"]
    [delivery] = await deliveries(endpoint["id"])
    assert delivery["status"] == "pending"


async def test_an_endpoint_gets_its_events_in_order_even_across_a_failure(
    receiver: Receiver,
) -> None:
    notifications = service()
    endpoint, secret = await notifications.register(receiver.url, ["*"], "", "test-tool", TOOL)
    events = [await event("cr-1") for _ in range(3)]
    receiver.answers = [503]
    await notifications.dispatch()
    await notifications.deliver(endpoint["id"])
    assert receiver.ids() == [str(events[0])]  # the later ones wait behind the first

    await asyncio.sleep(0.35)
    await notifications.deliver(endpoint["id"])
    assert receiver.ids() == [str(events[0])] + [str(e) for e in events]
    sequences = [body["data"]["sequence"] for body in receiver.verified(secret)]
    assert sequences == [1, 1, 2, 3]


async def test_a_resend_carries_the_same_webhook_id_and_body(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    key = await issue_test_key(["notifications:manage"])
    created = await http.post(
        "/v1/notification-endpoints",
        json={"url": receiver.url, "events": ["change_request.applied"]},
        headers=auth(key),
    )
    endpoint = created.json()
    event_id = await event()
    notifications = service()
    await notifications.dispatch()
    await notifications.deliver(uuid.UUID(endpoint["id"]))
    page = await http.get(
        f"/v1/notification-endpoints/{endpoint['id']}/deliveries", headers=auth(key)
    )
    [delivery] = page.json()["items"]
    assert delivery["status"] == "delivered" and delivery["event_id"] == str(event_id)

    resent = await http.post(
        f"/v1/notification-deliveries/{delivery['id']}/resend", headers=auth(key, "resend-1")
    )
    assert resent.status_code == 202, resent.text
    assert resent.json()["status"] == "pending"
    await notifications.deliver(uuid.UUID(endpoint["id"]))

    assert receiver.ids() == [str(event_id), str(event_id)]
    first, second = receiver.verified(endpoint["secret"])
    assert first == second
    assert receiver.received[0]["body"] == receiver.received[1]["body"]
    detail = await http.get(f"/v1/notification-deliveries/{delivery['id']}", headers=auth(key))
    assert detail.json()["status"] == "delivered"
    assert [a["trigger"] for a in detail.json()["attempt_history"]] == ["schedule", "resend"]
    assert detail.json()["payload"]["type"] == "change_request.applied"
    pending = await http.post(
        f"/v1/notification-deliveries/{delivery['id']}/resend", headers=auth(key, "resend-2")
    )
    assert pending.status_code == 202  # delivered again: it may be resent again


async def test_an_endpoint_failing_for_days_is_disabled_and_says_why(receiver: Receiver) -> None:
    notifications = service(notification_disable_after_hours=120)
    endpoint, _ = await notifications.register(receiver.url, ["*"], "", "test-tool", TOOL)
    await event()
    receiver.answers = [500]
    await fetch("UPDATE notification_endpoints SET failing_since = now() - interval '121 hours'")
    await notifications.dispatch()
    await notifications.deliver(endpoint["id"])

    disabled = await notifications.get_endpoint(endpoint["id"])
    assert disabled["enabled"] is False and disabled["disabled_at"] is not None
    assert "120 hours" in disabled["disabled_reason"]
    assert "enable the endpoint" in disabled["disabled_reason"]
    audited = await fetch(
        "SELECT actor_id FROM audit_records"
        " WHERE action = 'notification_endpoint.disable_automatically.succeeded'"
    )
    assert len(audited) == 1
    await event("cr-2")
    await notifications.dispatch()  # a disabled endpoint gets no new deliveries
    assert len(await deliveries(endpoint["id"])) == 1

    await notifications.enable(endpoint["id"], TOOL)
    await notifications.deliver(endpoint["id"])  # its pending delivery goes at once
    assert [d["status"] for d in await deliveries(endpoint["id"])] == ["delivered"]


async def test_a_key_sees_and_hears_only_its_own_clients(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    own = await issue_test_key(["notifications:manage"])
    other = await issue_test_key(["notifications:manage"], client="other-tool")
    created = await http.post(
        "/v1/notification-endpoints",
        json={"url": receiver.url, "events": ["*"]},
        headers=auth(own),
    )
    endpoint_id = created.json()["id"]
    assert (
        await http.get(f"/v1/notification-endpoints/{endpoint_id}", headers=auth(other))
    ).status_code == 404
    assert (await http.get("/v1/notification-endpoints", headers=auth(other))).json()["items"] == []
    foreign = await http.post(
        "/v1/notification-endpoints",
        json={"url": receiver.url + "2", "events": ["*"], "client": "test-tool"},
        headers=auth(other),
    )
    assert foreign.status_code == 403

    mine = await event("cr-1", client="test-tool")
    await event("cr-9", client="other-tool")
    await event("corr-1", client=None, kind="correction.succeeded")  # staff-filed
    await fetch(
        "INSERT INTO corrections (id, kind, provider, account_id, object_id, status, reason,"
        " filed, payload, payload_hash, approval_required, client, requested_by)"
        " VALUES (gen_random_uuid(), 'refund', 'zuora', 'A-1', 'P-1', 'succeeded', 'r',"
        " '{}', '[]', $1, false, 'test-tool', '{}')",
        "0" * 64,
    )
    theirs = await event(
        "A-1", client=None, kind="provider.payment_failed", customer={"zuora_account_id": "A-1"}
    )
    await event(
        "A-2", client=None, kind="provider.payment_failed", customer={"zuora_account_id": "A-2"}
    )
    notifications = service()
    await notifications.dispatch()
    await notifications.deliver(uuid.UUID(endpoint_id))
    assert receiver.ids() == [str(mine), str(theirs)]


async def test_the_worker_fans_out_and_delivers(receiver: Receiver) -> None:
    """The real chain: the dispatch job (the outbox's kick) defers the endpoint's deliver job."""
    from gateway.core.jobs import job_app
    from gateway.notifications.jobs import defer_dispatch

    _, secret = await service().register(receiver.url, ["*"], "", None, TOOL)
    event_id = await event(client="some-client")  # an endpoint of every client hears it
    async with job_app.open_async():
        await defer_dispatch()
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    assert receiver.ids() == [str(event_id)]
    assert len(receiver.verified(secret)) == 1
    jobs = await fetch("SELECT task_name, status FROM procrastinate_jobs ORDER BY id")
    assert {"task_name": "notifications.deliver", "status": "succeeded"} in jobs


async def test_old_events_with_nothing_left_to_send_are_purged_with_their_attempts(
    receiver: Receiver,
) -> None:
    from gateway.notifications.jobs import purge_old_events

    notifications = service()
    endpoint, _ = await notifications.register(receiver.url, ["*"], "", "test-tool", TOOL)
    sent, waiting, recent = await event("cr-1"), await event("cr-2"), await event("cr-3")
    await notifications.dispatch()
    await notifications.deliver(endpoint["id"])
    await fetch(
        "UPDATE notification_deliveries SET status = 'pending' WHERE event_id = $1", waiting
    )
    await fetch(
        "UPDATE notification_events SET occurred_at = now() - interval '31 days'"
        " WHERE id = ANY($1::uuid[])",
        [sent, waiting],
    )

    assert await purge_old_events(30) == 1
    left = await fetch("SELECT id FROM notification_events ORDER BY position")
    assert [row["id"] for row in left] == [waiting, recent]  # a pending one stays, whatever its age
    assert len(await attempts(endpoint["id"])) == 2  # the purged event's attempt went with it


async def test_a_send_now_is_not_held_behind_a_retry_waiting_hours_ahead(
    receiver: Receiver,
) -> None:
    """An enable or a resend kicks the endpoint now, while its retry job waits for later: the
    queue must not keep the first behind the second (they share the endpoint's job lock)."""
    from datetime import UTC, datetime, timedelta

    from gateway.core.jobs import job_app
    from gateway.notifications.jobs import defer_delivery

    notifications = service()
    endpoint, _ = await notifications.register(receiver.url, ["*"], "", "test-tool", TOOL)
    event_id = await event()
    async with job_app.open_async():
        await notifications.dispatch()
        await defer_delivery(endpoint["id"], datetime.now(UTC) + timedelta(hours=2))
        await defer_delivery(endpoint["id"])
        await job_app.run_worker_async(wait=False, install_signal_handlers=False)
    assert receiver.ids() == [str(event_id)]


async def test_notes_and_urls_holding_bank_or_card_details_are_refused() -> None:
    notifications = service()
    iban = "DE89 3704 0044 0532 0130 00"
    with pytest.raises(BillingError) as refused:
        await notifications.register(
            "http://127.0.0.1:9/hook", ["*"], f"old payer {iban}", "test-tool", TOOL
        )
    assert refused.value.code is ErrorCode.IBAN_OUTSIDE_IBAN_FIELD
    with pytest.raises(BillingError) as refused:
        await notifications.register(
            "http://127.0.0.1:9/hook?iban=DE89370400440532013000", ["*"], "", "test-tool", TOOL
        )
    assert refused.value.code is ErrorCode.NOTIFICATION_URL_INVALID
    endpoint, _ = await notifications.register("http://127.0.0.1:9/hook", ["*"], "", None, TOOL)
    with pytest.raises(BillingError) as refused:
        await notifications.disable(endpoint["id"], f"moved, see {iban}", TOOL)
    assert refused.value.code is ErrorCode.IBAN_OUTSIDE_IBAN_FIELD
    stored = await fetch("SELECT description, disabled_reason, url FROM notification_endpoints")
    assert all(not contains_iban(str(value)) for row in stored for value in row.values())
