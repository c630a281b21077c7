"""Process one Zuora callout kept in the inbox, once: read the object again from Zuora (a
callout says only that something happened; what Zuora holds now is the truth), then record
what was found on what it concerns, in one transaction with marking the event processed:

- a payment settled or failed, a refund processed: on the correction whose steps made or
  acted on that payment or refund (`gateway.corrections.provider_events`);
- a payment method closed: on the change request whose fulfilment step created or closed it
  (`fulfilment_steps.result` `created_id` / `closed_id`).

Zuora's read happens outside any transaction; if Zuora is unavailable the job fails and is
retried (and the minute sweep finds the event while it is unprocessed).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from adapters.ports import Payment, PaymentMethod, RefundResult
from adapters.zuora.callouts import ACTED_ON
from gateway.change_requests.fulfilment_queries import REQUESTS_OF_ZUORA_METHOD
from gateway.change_requests.provider_events import record_provider_event
from gateway.core.db.connection import fetch, transaction
from gateway.core.log import get_logger
from gateway.corrections.provider_events import record_correction_event
from gateway.webhooks import queries
from gateway.webhooks.provider_notices import record_provider_notice, zuora_payment_failed

_log = get_logger("gateway.webhooks")


class ZuoraReader(Protocol):
    """What the job reads again from Zuora (the Zuora adapter does, see readers.py)."""

    async def payment(self, payment_id: str) -> Payment | None: ...

    async def refund(self, account_id: str | None, refund_id: str) -> RefundResult | None: ...

    async def payment_method(
        self, account_id: str | None, method_id: str
    ) -> PaymentMethod | None: ...


async def process_zuora_event(row_id: UUID, reader: ZuoraReader) -> str | None:
    """The outcome, or None when another worker has it or it was processed already."""
    rows = await fetch(queries.UNPROCESSED, row_id)
    if not rows:
        return None
    row = rows[0]
    event_type = str(row["event_type"])
    found = await _reread(reader, event_type, row["object_id"], row["account_id"])
    async with transaction():
        if not await fetch(queries.LOCK, row_id):
            return None
        outcome = await _record(row, found)
        await fetch(queries.DONE, row_id, outcome)
    _log.info("zuora callout processed", event_id=row["event_id"], outcome=outcome)
    return outcome


async def _reread(
    reader: ZuoraReader, event_type: str, object_id: str | None, account_id: str | None
) -> dict[str, Any] | None:
    """What Zuora holds now about the object (None: not found, or not an event we handle)."""
    if not object_id or event_type not in ACTED_ON:
        return None
    if event_type.startswith("payment."):
        payment = await reader.payment(object_id)
        if payment is None:
            return None
        return {
            "status": payment.status,
            "amount": {
                "amount_minor": payment.amount.amount_minor,
                "currency": payment.amount.currency,
            },
            "refunded_minor": payment.refunded.amount_minor,
        }
    if event_type == "refund.succeeded":
        refund = await reader.refund(account_id, object_id)
        if refund is None:
            return None
        return {
            "status": refund.status,
            "amount": {
                "amount_minor": refund.amount.amount_minor,
                "currency": refund.amount.currency,
            },
            "payment_id": refund.payment_id,
        }
    method = await reader.payment_method(account_id, object_id)
    if method is None:
        return None
    return {"status": "active" if method.active else "closed", "masked": method.masked}


async def _record(row: Any, found: dict[str, Any] | None) -> str:
    event_type = str(row["event_type"])
    if event_type not in ACTED_ON or not row["object_id"]:
        return "ignored"
    payload = json.loads(row["payload"])
    news = {
        "provider": "zuora",
        "event": event_type,
        "event_id": row["event_id"],
        "what": ACTED_ON[event_type],
        "object_type": row["object_type"],
        "object": row["object_id"],
        "status": (found or {}).get("status"),
        "reread_from_zuora": found is not None,
        "pulled_from_history": bool(payload.get("pulledFromHistory")),
        "at": datetime.now(UTC).isoformat(),
        **({"found": found} if found else {}),
    }
    if event_type == "payment.failed":  # told to the support tools, in this transaction
        account = payload.get("accountNumber") or row["account_id"]
        notice = zuora_payment_failed(account, str(row["object_id"]), found)
        if notice is not None:
            await record_provider_notice(notice)
    recorded = False
    if row["object_type"] == "payment_method":
        for request in await fetch(REQUESTS_OF_ZUORA_METHOD, row["object_id"]):
            recorded |= await record_provider_event(
                request["id"], news, row["event_id"], provider="zuora"
            )
    else:
        recorded = await record_correction_event(
            "zuora", str(row["object_type"]), str(row["object_id"]), news, row["event_id"]
        )
    return "recorded" if recorded else "nothing_concerned"
