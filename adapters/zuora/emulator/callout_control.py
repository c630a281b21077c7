"""Control endpoints of the emulator's callouts (loopback only, never part of Zuora's API):

- `POST /_emulator/callouts` {url, username?, password?, secret?}: where callouts go (url null:
  nowhere); defaults from ZUORA_EMULATOR_CALLOUT_URL / _USERNAME / _PASSWORD / _SECRET, which
  `billing-gateway serve` sets in sandbox to the gateway's own endpoint.
- `GET /_emulator/callouts`: the target (no password or secret), every attempt, fail-next.
- `POST /_emulator/callouts/fail-next` {count}: the next N deliveries are not sent and are
  recorded as failed (a missed callout, for the history pull to find).
- `POST /_emulator/callouts/replay` {notification_id}: send that notification again, same id
  and body (Zuora's retries and its "resend").
- `POST /_emulator/callouts/drain` {seconds?}: wait until every queued callout was attempted.
- `POST /_emulator/debit-in-flight/fail` {account}: the account's debits in flight fail at
  the bank (Payment Error), which calls out PaymentFailed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from litestar import get, post
from litestar.exceptions import NotFoundException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody

from adapters.zuora.emulator.callouts import (
    CALLOUT_PASSWORD,
    CALLOUT_SECRET,
    CALLOUT_USERNAME,
    CalloutSender,
    CalloutTarget,
    announce,
)
from adapters.zuora.emulator.debits import find_account
from adapters.zuora.emulator.state import Tenant, ZuoraError


def fail_debits(tenant: Tenant, account_key: str) -> int:
    """The bank refused: the account's debits in flight fail (Payment Error)."""
    account_id = find_account(tenant, account_key)["Id"]
    failed = 0
    for payment in tenant.objects["Payment"].values():
        if payment.get("GatewayState") == "Submitted" and payment.get("AccountId") == account_id:
            payment.update(Status="Error", GatewayState="FailedToSettle")
            announce(tenant, "Payment", payment)
            failed += 1
    return failed


def callout_handlers(current: Callable[[], CalloutSender]) -> list[HTTPRouteHandler]:
    @post("/_emulator/callouts", status_code=200)
    async def configure(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        sender = current()
        url = data.get("url")
        if url is not None and not (isinstance(url, str) and url.startswith("http")):
            raise ValidationException("url is an http(s) URL, or null to stop calling out")
        sender.target = (
            CalloutTarget(
                url,
                str(data.get("username") or CALLOUT_USERNAME),
                str(data.get("password") or CALLOUT_PASSWORD),
                str(data.get("secret") or CALLOUT_SECRET),
            )
            if url
            else None
        )
        return _described(sender)

    @get("/_emulator/callouts")
    async def described() -> dict[str, Any]:
        return _described(current())

    @post("/_emulator/callouts/fail-next", status_code=200)
    async def fail_next(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        count = data.get("count", 1)
        if not isinstance(count, int) or count < 0:
            raise ValidationException("count is a whole number of deliveries, 0 or more")
        current().fail_next = count
        return {"fail_next": count}

    @post("/_emulator/callouts/replay", status_code=202)
    async def replay(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        notification_id = str(data.get("notification_id") or "")
        if not current().replay(notification_id):
            raise NotFoundException(f"no notification {notification_id!r}")
        return {"replayed": notification_id}

    @post("/_emulator/callouts/drain", status_code=200)
    async def drain(data: JSONBody[dict[str, Any] | None] = None) -> dict[str, Any]:
        seconds = float((data or {}).get("seconds", 10))
        done = await asyncio.to_thread(current().drain, seconds)
        return {"drained": done}

    @post("/_emulator/debit-in-flight/fail", status_code=200)
    async def debit_failed(data: JSONBody[dict[str, Any]]) -> dict[str, int]:
        try:
            return {"failed": fail_debits(current().tenant, str(data["account"]))}
        except (KeyError, ZuoraError) as error:
            raise ValidationException(f"an existing account is required: {error}") from None

    return [configure, described, fail_next, replay, drain, debit_failed]


def _described(sender: CalloutSender) -> dict[str, Any]:
    target = sender.target
    return {
        "target": {"url": target.url, "username": target.username} if target else None,
        "fail_next": sender.fail_next,
        "attempts": [
            {
                "notification_id": a.notification.id,
                "event": a.notification.category,
                "object_id": a.notification.object_id,
                "attempt": a.number,
                "at": a.at.isoformat(),
                "response_code": a.response_code,
            }
            for a in sender.attempts
        ],
    }
