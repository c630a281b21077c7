"""Callouts from the emulated tenant, as a Zuora tenant configured per adapters/zuora/callouts.py
sends them: signed, with Basic credentials and a `Zuora-Notification-Id`, for a payment
processed (settled) or failed, a refund processed and a payment method closed.

Delivery is off the request path: a daemon thread posts each callout with a short timeout, so
an unreachable gateway never slows the emulator. Every attempt is kept and served as Zuora's
callout history (`GET /v1/notification-history/callout`: failedOnly, startTime, endTime,
page, pageSize up to 40, nextPage).

Its control endpoints (`/_emulator/callouts...`) are in callout_control.py.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from adapters.zuora.callouts import (
    BY_CATEGORY,
    NOTIFICATION_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    basic_authorization,
    sign_callout,
)

if TYPE_CHECKING:
    from adapters.zuora.emulator.state import Tenant, ZObject

CALLOUT_USERNAME = "zuora-callouts"
CALLOUT_PASSWORD = "emulator-callout-password"  # noqa: S105 (the emulator's own, sandbox only)
CALLOUT_SECRET = "emulator-callout-secret"  # noqa: S105 (the emulator's own, sandbox only)
TIMEOUT_SECONDS = 2.0
NOT_SENT = -1  # responseCode of a delivery the fail-next switch held back
UNREACHABLE = -2000  # responseCode when the target did not answer (refused, timed out)


@dataclass(frozen=True)
class CalloutTarget:
    url: str
    username: str = CALLOUT_USERNAME
    password: str = field(default=CALLOUT_PASSWORD, repr=False)
    secret: str = field(default=CALLOUT_SECRET, repr=False)


def target_from_environment() -> CalloutTarget | None:
    url = os.environ.get("ZUORA_EMULATOR_CALLOUT_URL")
    if not url:
        return None
    return CalloutTarget(
        url,
        os.environ.get("ZUORA_EMULATOR_CALLOUT_USERNAME", CALLOUT_USERNAME),
        os.environ.get("ZUORA_EMULATOR_CALLOUT_PASSWORD", CALLOUT_PASSWORD),
        os.environ.get("ZUORA_EMULATOR_CALLOUT_SECRET", CALLOUT_SECRET),
    )


@dataclass(frozen=True)
class Notification:
    id: str
    category: str
    object_id: str
    account_id: str | None
    account_number: str | None
    created: datetime
    body: bytes


@dataclass(frozen=True)
class Attempt:
    notification: Notification
    number: int
    at: datetime
    url: str
    response_code: int
    response_content: str

    @property
    def failed(self) -> bool:
        return self.response_code != 200


def event_of(kind: str, record: ZObject) -> str | None:
    """The callout a change to `record` makes, if any."""
    if kind == "Payment" and record.get("Status") == "Processed":
        return "PaymentProcessed"
    if kind == "Payment" and record.get("Status") == "Error":
        return "PaymentFailed"
    if kind == "Refund" and record.get("Status") == "Processed":
        return "RefundProcessed"
    if kind == "PaymentMethod" and record.get("PaymentMethodStatus") == "Closed":
        return "PaymentMethodClosed"
    return None


class CalloutSender:
    def __init__(self, tenant: Tenant, target: CalloutTarget | None = None) -> None:
        self.tenant = tenant
        self.target = target
        self.timeout_seconds = TIMEOUT_SECONDS
        self.fail_next = 0
        self.notifications: dict[str, Notification] = {}
        self.attempts: list[Attempt] = []
        self.announced: set[tuple[str, str]] = set()  # (object id, category): once each
        self._lock = threading.Lock()
        self._queue: queue.Queue[str] = queue.Queue()
        self._worker: threading.Thread | None = None

    # -- what happens in the tenant ------------------------------------------------------------

    def announce(self, kind: str, record: ZObject) -> str | None:
        """Call out the event a change to `record` is, once per object and event."""
        category = event_of(kind, record)
        if category is None or self.target is None:
            return None
        with self._lock:
            if (str(record["Id"]), category) in self.announced:
                return None
            self.announced.add((str(record["Id"]), category))
        account_id = record.get("AccountId")
        account = self.tenant.objects["Account"].get(str(account_id), {})
        created = datetime.now(UTC).replace(microsecond=0)
        note = Notification(
            id=secrets.token_hex(16),
            category=category,
            object_id=str(record["Id"]),
            account_id=str(account_id) if account_id else None,
            account_number=account.get("AccountNumber"),
            created=created,
            body=json.dumps(
                {
                    "eventCategory": category,
                    "eventTimestamp": created.isoformat().replace("+00:00", "Z"),
                    "objectType": BY_CATEGORY[category].zuora_object,
                    "objectId": str(record["Id"]),
                    "accountId": account_id,
                    "accountNumber": account.get("AccountNumber"),
                }
            ).encode(),
        )
        with self._lock:
            self.notifications[note.id] = note
        self._send(note.id)
        return note.id

    def replay(self, notification_id: str) -> bool:
        if notification_id not in self.notifications:
            return False
        self._send(notification_id)
        return True

    def drain(self, seconds: float = 10.0) -> bool:
        """Wait until every queued callout was attempted; False on timeout."""
        deadline = time.monotonic() + seconds
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -- delivery ------------------------------------------------------------------------------

    def _send(self, notification_id: str) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._deliver_all, daemon=True)
                self._worker.start()
        self._queue.put(notification_id)

    def _deliver_all(self) -> None:
        while True:
            notification_id = self._queue.get()
            try:
                self._deliver(self.notifications[notification_id])
            finally:
                self._queue.task_done()

    def _deliver(self, note: Notification) -> None:
        with self._lock:
            target = self.target
            held_back = self.fail_next > 0
            self.fail_next -= 1 if held_back else 0
            number = 1 + sum(1 for a in self.attempts if a.notification.id == note.id)
        if target is None:
            return
        if held_back:
            code, content = NOT_SENT, "not sent: the emulator's fail-next switch"
        else:
            code, content = self._post(target, note)
        attempt = Attempt(note, number, datetime.now(UTC), target.url, code, content)
        with self._lock:
            self.attempts.append(attempt)

    def _post(self, target: CalloutTarget, note: Notification) -> tuple[int, str]:
        moment, signature = sign_callout(note.body, target.secret)
        headers = {
            "Content-Type": "application/json",
            "Authorization": basic_authorization(target.username, target.password),
            NOTIFICATION_ID_HEADER: note.id,
            TIMESTAMP_HEADER: moment,
            SIGNATURE_HEADER: signature,
        }
        try:
            with httpx.Client(timeout=self.timeout_seconds) as client:
                answer = client.post(target.url, content=note.body, headers=headers)
        except httpx.HTTPError as error:
            return UNREACHABLE, f"{type(error).__name__}: {error}"
        return answer.status_code, answer.text


# -- hooks and wiring ----------------------------------------------------------------------------

_SENDER_ATTRIBUTE = "_callout_sender"


def attach_callouts(tenant: Tenant, target: CalloutTarget | None = None) -> CalloutSender:
    """Start calling out the tenant's events from now on: what the seeds (or the state file)
    hold already is not news, even when a later change touches it again."""
    sender = CalloutSender(tenant, target or target_from_environment())
    for kind in ("Payment", "Refund", "PaymentMethod"):
        for record in tenant.objects.get(kind, {}).values():
            category = event_of(kind, record)
            if category is not None:
                sender.announced.add((str(record["Id"]), category))
    setattr(tenant, _SENDER_ATTRIBUTE, sender)
    return sender


def sender_of(tenant: Tenant) -> CalloutSender | None:
    sender: CalloutSender | None = getattr(tenant, _SENDER_ATTRIBUTE, None)
    return sender


def announce(tenant: Tenant, kind: str, record: ZObject) -> None:
    """The hook the tenant's changes call: a callout if the change is an event and the tenant
    has a sender attached."""
    sender = sender_of(tenant)
    if sender is not None:
        sender.announce(kind, record)
