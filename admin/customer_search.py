"""Finding a customer at every configured provider from one search box: an email, a company
name, a back-office id, a Zuora account number or id, a Stripe customer id.

The box does not say which one was typed, so each provider is asked with every look-up the text
could be (an email only as an email; an id only when it has no spaces); what answers is listed
once per account. A provider that cannot be read is named, never hidden."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from adapters.ports import Account, AccountLookup, Accounts
from gateway.core.errors import BillingError, ErrorCode
from gateway.providers import Providers

PROVIDER_NAMES = {"zuora": "Zuora", "stripe": "Stripe"}
UNAVAILABLE = frozenset({ErrorCode.PROVIDER_UNAVAILABLE, ErrorCode.SERVICE_UNAVAILABLE})


@dataclass(frozen=True)
class Found:
    provider: str
    account: Account

    @property
    def provider_name(self) -> str:
        return PROVIDER_NAMES.get(self.provider, self.provider)


@dataclass(frozen=True)
class SearchResult:
    found: list[Found]
    unreadable: list[str]  # providers that answered with an error: "Zuora could not be read"


def lookups_for(query: str) -> list[AccountLookup]:
    """The look-ups the text could mean, most precise first."""
    text = query.strip()
    if not text:
        return []
    if "@" in text and " " not in text:
        return [AccountLookup(email=text)]
    lookups = []
    if " " not in text:
        lookups += [
            AccountLookup(id=text),
            AccountLookup(number=text),
            AccountLookup(backoffice_id=text),
        ]
    return [*lookups, AccountLookup(company_name=text)]


async def _search_one(name: str, adapter: Accounts, query: str) -> tuple[list[Found], bool]:
    found: dict[str, Found] = {}
    failed = False
    for lookup in lookups_for(query):
        try:
            account = await adapter.find_account(lookup)
        except BillingError as error:
            # A look-up this provider refuses (an id of the wrong shape) says nothing more.
            failed = failed or error.code in UNAVAILABLE
            continue
        if account is not None:
            found.setdefault(account.id, Found(name, account))
    return list(found.values()), failed and not found


async def search(providers: Providers, query: str) -> SearchResult:
    asked = [
        (name, adapter)
        for name, adapter in providers.adapters.items()
        if isinstance(adapter, Accounts)
    ]
    answers = await asyncio.gather(*(_search_one(name, adapter, query) for name, adapter in asked))
    found = [hit for hits, _ in answers for hit in hits]
    unreadable = [
        PROVIDER_NAMES.get(name, name)
        for (name, _), (_, failed) in zip(asked, answers, strict=True)
        if failed
    ]
    return SearchResult(found, unreadable)
