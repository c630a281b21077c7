"""Links from the back office to a customer at the providers' own dashboards. Each provider's
URLs are its own (`Provider.dashboard`, adapters/<provider>/links.py); here, which reference of a
request or of the customer page each link opens. An id that is missing gives no link; every id
is URL-quoted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from adapters.registry import PROVIDERS
from adapters.stripe.links import OPEN_CONNECT_IN_STRIPE, connect_url
from adapters.zuora.links import is_account_id
from settings import Settings


@dataclass(frozen=True)
class ProviderLink:
    provider: str  # "zuora" or "stripe"
    label: str  # marked for the catalogues: shown through translate()
    url: str
    reference: str  # the id the link opens, as the gateway knows it


class ProviderRefs(NamedTuple):
    """A change request's references at the providers, as filed."""

    zuora_account: str | None = None
    stripe_customer: str | None = None
    stripe_connect_account: str | None = None


NO_REFS = ProviderRefs()


class _Account(Protocol):
    @property
    def id(self) -> str: ...


class _Side(Protocol):
    """One provider's side of the customer page (admin.customer_reads.ProviderSide)."""

    @property
    def provider(self) -> str: ...

    @property
    def account(self) -> _Account: ...


def account_link(settings: Settings, provider: str, account: str | None) -> ProviderLink | None:
    """The provider's page of `account` (a customer, an account) in its own UI."""
    dashboard = PROVIDERS[provider].dashboard if provider in PROVIDERS else None
    if dashboard is None or not account or not account.strip():
        return None
    reference = account.strip()
    return ProviderLink(
        provider, dashboard.label, dashboard.account_url(settings, reference), reference
    )


def stripe_connect_link(settings: Settings, account: str | None) -> ProviderLink | None:
    if not account or not account.strip():
        return None
    url = connect_url(settings, account.strip())
    return ProviderLink("stripe", OPEN_CONNECT_IN_STRIPE, url, account.strip())


def request_links(settings: Settings, refs: ProviderRefs, checks: Any = None) -> list[ProviderLink]:
    """The work page's links. The Zuora account's id read by the pre-checks (a
    `gateway.fulfilment_schemas.Checks`) is preferred to an account number as filed:
    it opens the account page itself rather than a search."""
    zuora = refs.zuora_account
    if zuora and not is_account_id(zuora) and checks is not None:
        read = [t.account_id for t in checks.targets if t.provider == "zuora" and t.account_id]
        zuora = read[0] if read else zuora
    found = (
        account_link(settings, "zuora", zuora),
        account_link(settings, "stripe", refs.stripe_customer),
        stripe_connect_link(settings, refs.stripe_connect_account),
    )
    return [link for link in found if link is not None]


def customer_links(settings: Settings, sides: Iterable[_Side]) -> list[ProviderLink]:
    """The customer page's links: one per provider side, by the account id read there."""
    found = (account_link(settings, side.provider, side.account.id) for side in sides)
    return [link for link in found if link is not None]
