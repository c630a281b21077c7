"""The whole customer page, gathered: the customer at the provider it was opened at and its
counterpart at each other provider (same back-office id or same email), then what the gateway
itself knows of them: open change requests, corrections, and blocklist matches."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.ports import AccountLookup, Accounts
from admin.customer_reads import ProviderSide, find_by_id, read_side
from gateway.change_requests import queries
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError
from gateway.corrections.schemas import CorrectionRead
from gateway.corrections.wiring import correction_service
from gateway.fraud.schemas import ScreenMatch
from gateway.fraud.wiring import blocklist_service
from gateway.providers import Providers
from gateway.tickets import display_ticket


@dataclass(frozen=True)
class OpenRequest:
    id: Any
    kind: str
    status: str
    ticket: str
    company_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class CustomerView:
    sides: list[ProviderSide]  # the customer where it was opened first
    backoffice_ids: list[str]
    requests: list[OpenRequest]
    corrections: list[CorrectionRead]
    blocked: list[ScreenMatch]


def references(sides: list[ProviderSide]) -> list[str]:
    refs = {ref for side in sides for ref in (side.account.id, side.account.number)}
    return sorted(refs)


async def _counterparts(
    providers: Providers, first: ProviderSide, backoffice_ids: list[str]
) -> list[ProviderSide]:
    lookups = [AccountLookup(backoffice_id=bo) for bo in backoffice_ids]
    if first.email:
        lookups.append(AccountLookup(email=first.email))
    sides = []
    for name, adapter in providers.adapters.items():
        if name == first.provider or not isinstance(adapter, Accounts):
            continue
        for lookup in lookups:
            try:
                found = await adapter.find_account(lookup)
            except BillingError:
                continue  # this look-up is not one the provider answers
            if found is not None:
                sides.append(await read_side(name, adapter, found))
                break
    return sides


async def _screen(sides: list[ProviderSide], backoffice_ids: list[str]) -> list[ScreenMatch]:
    """Every reference, email and card fingerprint of the customer against the blocklist (the
    screening support tools and FRAUD-STOP use), each on its own so that one value of a shape
    the list refuses hides nothing else."""
    values = [("customer", ref) for ref in [*references(sides), *backoffice_ids]]
    values += [("email", side.email) for side in sides if side.email]
    values += [
        ("card_fingerprint", method.fingerprint)
        for side in sides
        for method in side.methods
        if method.fingerprint and method.kind == "card"
    ]
    matches: dict[int, ScreenMatch] = {}
    for kind, value in dict.fromkeys(values):
        try:
            result = await blocklist_service().screen_values([(kind, value)])
        except BillingError:
            continue
        for match in result.matches:
            matches.setdefault(match.entry_id, match)
    return list(matches.values())


async def _corrections(sides: list[ProviderSide]) -> list[CorrectionRead]:
    service = correction_service()
    pages = await asyncio.gather(
        *(service.list(provider=side.provider, account_id=side.account.id) for side in sides)
    )
    found = {item.id: item for page in pages for item in page.items}
    return sorted(found.values(), key=lambda item: item.created_at, reverse=True)


async def customer_view(
    providers: Providers, provider: str, account_id: str, backoffice_id: str | None
) -> CustomerView | None:
    """None when the provider is not configured or has no such customer."""
    adapter = providers.get(provider)
    account = await find_by_id(adapter, account_id) if adapter is not None else None
    if account is None:
        return None
    first = await read_side(provider, adapter, account)
    known = [
        row["backoffice_id"] for row in await fetch(queries.BACKOFFICE_IDS_OF, references([first]))
    ]
    backoffice_ids = list(dict.fromkeys([*([backoffice_id] if backoffice_id else []), *known]))
    sides = [first, *await _counterparts(providers, first, backoffice_ids)]
    rows = await fetch(queries.OPEN_FOR_CUSTOMER, references(sides), backoffice_ids)
    requests = [
        OpenRequest(
            row["id"],
            row["kind"],
            row["status"],
            display_ticket(row["ticket"]),
            row["company_name"],
            row["created_at"],
        )
        for row in rows
    ]
    corrections, blocked = await asyncio.gather(_corrections(sides), _screen(sides, backoffice_ids))
    return CustomerView(sides, backoffice_ids, requests, corrections, blocked)
