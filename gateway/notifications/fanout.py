"""Fan-out: each event not yet fanned out, in position order, becomes one pending delivery per
enabled endpoint that subscribed to its type and may see it.

Who may see an event: an endpoint of every client (client NULL) sees all; a client's endpoint
sees its client's events, and the provider events (no client) of customers that client filed
a change request or correction for. One fan-out at a time (a transaction advisory lock), and a
delivery is unique per event and endpoint, so running it twice sends nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.core.db.connection import fetch, transaction
from gateway.core.db.rows import loaded
from gateway.notifications import queries as notification_queries
from gateway.notifications.events import matches

BATCH = 500

# The clients that filed work of one family for a customer (an event's customer references).
FiledBy = Callable[[dict[str, Any]], Awaitable[set[str]]]
# One per family that files work for customers, each declared beside that family's events
# (gateway/change_requests/notification_events.py, gateway/corrections/notification_events.py);
# a worker imports them with its jobs (gateway/core/jobs.py).
_FILED_BY: list[FiledBy] = []


def files_for_customers(filed_by: FiledBy) -> FiledBy:
    """Declares a family's `filed_by` to the fan-out (a decorator)."""
    _FILED_BY.append(filed_by)
    return filed_by


async def clients_of_customer(customer: dict[str, Any] | None) -> set[str]:
    """The clients that filed a change request or correction for this customer."""
    if not customer:
        return set()
    return set().union(*[await filed_by(customer) for filed_by in _FILED_BY])


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
        events = await fetch(notification_queries.WAITING_EVENTS, batch)
        if not events:
            return 0, touched
        endpoints = await fetch(notification_queries.ENABLED_ENDPOINTS)
        event_ids: list[uuid.UUID] = []
        endpoint_ids: list[uuid.UUID] = []
        for event in events:
            for endpoint_id in await audience(event, endpoints):
                event_ids.append(event["id"])
                endpoint_ids.append(endpoint_id)
        if event_ids:
            await fetch(notification_queries.INSERT_DELIVERIES, event_ids, endpoint_ids)
            touched.update(endpoint_ids)
        await fetch(notification_queries.FANNED_OUT, [event["id"] for event in events])
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
