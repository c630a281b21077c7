"""Fan-out: each event not yet fanned out, in position order, becomes one pending delivery per
enabled endpoint that subscribed to its type and may see it.

Who may see an event: an endpoint of every client (client NULL) sees all; a client's endpoint
sees its client's events, and the provider events (no client) of customers that client filed
a change request or correction for. One fan-out at a time (a transaction advisory lock), and a
delivery is unique per event and endpoint, so running it twice sends nothing twice.
"""

from __future__ import annotations

import uuid
from typing import Any

from gateway.core.db.connection import fetch, transaction
from gateway.notifications.events import matches
from gateway.notifications.records import loaded

BATCH = 500
_CUSTOMER_CLIENTS = """
SELECT client FROM change_requests
 WHERE ($1::text IS NOT NULL AND zuora_account_id = $1)
    OR ($2::text IS NOT NULL AND stripe_customer_id = $2)
    OR ($3::text IS NOT NULL AND backoffice_id = $3)
UNION
SELECT client FROM corrections
 WHERE client IS NOT NULL AND account_id = ANY($4::text[])
"""


async def clients_of_customer(customer: dict[str, Any] | None) -> set[str]:
    """The clients that filed a change request or correction for this customer."""
    if not customer:
        return set()
    zuora = customer.get("zuora_account_id")
    stripe = customer.get("stripe_customer_id")
    backoffice = customer.get("backoffice_id")
    # Zuora's own account id beside its number: corrections keep the id.
    key = customer.get("zuora_account_key")
    provider_ids = [str(value) for value in (zuora, stripe, key) if value]
    rows = await fetch(_CUSTOMER_CLIENTS, zuora, stripe, backoffice, provider_ids)
    return {row["client"] for row in rows if row["client"]}


def wants(endpoint: dict[str, Any], event_type: str) -> bool:
    return any(matches(pattern, event_type) for pattern in endpoint["events"])


async def audience(event: dict[str, Any], endpoints: list[dict[str, Any]]) -> list[uuid.UUID]:
    """The endpoints that get `event`."""
    chosen = [endpoint for endpoint in endpoints if wants(endpoint, event["type"])]
    if event["type"].startswith("cheque."):
        # A cheque (entered by a scanner's key or in the back office) concerns the support
        # tools that filed work for its customer, beside the key that entered it.
        clients = await clients_of_customer(loaded(event["customer"]))
        if event["client"] is not None:
            clients.add(event["client"])
    elif event["client"] is not None:
        clients = {event["client"]}
    elif event["type"].startswith("provider."):
        clients = await clients_of_customer(loaded(event["customer"]))
    else:  # a staff-filed correction: only endpoints of every client
        clients = set()
    return [e["id"] for e in chosen if e["client"] is None or e["client"] in clients]


async def fan_out(batch: int = BATCH) -> tuple[int, set[uuid.UUID]]:
    """One batch of events fanned out: how many, and the endpoints that got deliveries."""
    touched: set[uuid.UUID] = set()
    async with transaction():
        await fetch("SELECT pg_advisory_xact_lock(hashtextextended('notifications.fan_out', 0))")
        events = await fetch(
            "SELECT id, type, client, customer FROM notification_events"
            " WHERE fanned_out_at IS NULL ORDER BY position LIMIT $1",
            batch,
        )
        if not events:
            return 0, touched
        endpoints = await fetch(
            "SELECT id, events, client FROM notification_endpoints WHERE enabled"
        )
        event_ids: list[uuid.UUID] = []
        endpoint_ids: list[uuid.UUID] = []
        for event in events:
            for endpoint_id in await audience(event, endpoints):
                event_ids.append(event["id"])
                endpoint_ids.append(endpoint_id)
        if event_ids:
            await fetch(
                "INSERT INTO notification_deliveries (id, event_id, endpoint_id, next_attempt_at)"
                " SELECT gen_random_uuid(), event_id, endpoint_id, now()"
                " FROM unnest($1::uuid[], $2::uuid[]) AS fan (event_id, endpoint_id)"
                " ON CONFLICT (event_id, endpoint_id) DO NOTHING",
                event_ids,
                endpoint_ids,
            )
            touched.update(endpoint_ids)
        await fetch(
            "UPDATE notification_events SET fanned_out_at = now() WHERE id = ANY($1::uuid[])",
            [event["id"] for event in events],
        )
    return len(events), touched


async def fan_out_all(most_batches: int = 100) -> set[uuid.UUID]:
    """Every event waiting, batch after batch (the next run takes what is left)."""
    touched: set[uuid.UUID] = set()
    for _ in range(most_batches):
        count, batch = await fan_out()
        touched |= batch
        if count < BATCH:
            break
    return touched
