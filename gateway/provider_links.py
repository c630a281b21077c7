"""Links from the back office to a customer at the providers' own dashboards: the one place that
builds those URLs.

- Zuora, known by its 32-hex account id: `<ui>/apps/CustomerAccount.do?method=view&id=<id>`
  (the account page every tenant serves); known only by its account number (A00012345):
  `<ui>/platform/apps/search?searchTerm=<number>&searchObjectType=account`. `<ui>` is
  BG_ZUORA_DASHBOARD_URL, else the host of the Zuora API URL the gateway uses
  (rest.eu.zuora.com: eu.zuora.com), else https://www.zuora.com.
- Stripe: `<dashboard>/customers/<cus_...>` and `<dashboard>/connect/accounts/<acct_...>`,
  under `/test/` when the gateway's key is a test-mode key. `<dashboard>` is
  BG_STRIPE_DASHBOARD_URL (https://dashboard.stripe.com).

When the gateway talks to a built-in emulator (sandbox), the link goes to that emulator, which
serves the same paths as a read-only page of what it holds, masked. An id that is missing gives
no link; every id is URL-quoted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote, urlencode, urlsplit

from gateway.i18n import N_
from gateway.providers import emulator_base, stripe_emulator_base
from settings import Settings
from settings.model import ZuoraTransportName

ZUORA_UI = "https://www.zuora.com"
OPEN_IN_ZUORA = N_("Open in Zuora")
OPEN_IN_STRIPE = N_("Open in Stripe")
OPEN_CONNECT_IN_STRIPE = N_("Open the Connect account in Stripe")
_ZUORA_ID = re.compile(r"[0-9a-fA-F]{32}")
_STRIPE_TEST_KEYS = ("sk_test_", "rk_test_")


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


def _segment(value: str) -> str:
    return quote(value, safe="")


def _zuora_uses_emulator(settings: Settings) -> bool:
    rest = settings.zuora_transport is ZuoraTransportName.REST
    return settings.sandbox and not (settings.zuora_rest_url if rest else settings.zuora_soap_url)


def _stripe_uses_emulator(settings: Settings) -> bool:
    return settings.sandbox and not settings.stripe_api_key


def zuora_ui(settings: Settings) -> str:
    """The tenant's UI host: configured, or that of the API URL in use, or Zuora's US one."""
    if _zuora_uses_emulator(settings):
        return emulator_base(settings)
    if settings.zuora_dashboard_url:
        return settings.zuora_dashboard_url.rstrip("/")
    apis = (settings.zuora_rest_url, settings.zuora_soap_url)
    if settings.zuora_transport is not ZuoraTransportName.REST:
        apis = apis[::-1]  # the URL of the transport in use first
    for api in apis:
        host = (urlsplit(api).hostname or "") if api else ""
        if host == "zuora.com" or host.endswith(".zuora.com"):
            host = host.removeprefix("rest.")
            return f"https://{'www.zuora.com' if host == 'zuora.com' else host}"
    return ZUORA_UI


def stripe_dashboard(settings: Settings) -> str:
    """The dashboard, with `/test` for a test-mode key (the emulator's key is one)."""
    if _stripe_uses_emulator(settings):
        return f"{stripe_emulator_base(settings)}/test"
    base = settings.stripe_dashboard_url.rstrip("/")
    test = (settings.stripe_api_key or "").startswith(_STRIPE_TEST_KEYS)
    return f"{base}/test" if test else base


def zuora_account_link(settings: Settings, account: str | None) -> ProviderLink | None:
    if not account or not account.strip():
        return None
    account = account.strip()
    if _ZUORA_ID.fullmatch(account):
        query = urlencode({"method": "view", "id": account})
        url = f"{zuora_ui(settings)}/apps/CustomerAccount.do?{query}"
    else:
        query = urlencode({"searchTerm": account, "searchObjectType": "account"})
        url = f"{zuora_ui(settings)}/platform/apps/search?{query}"
    return ProviderLink("zuora", OPEN_IN_ZUORA, url, account)


def stripe_customer_link(settings: Settings, customer: str | None) -> ProviderLink | None:
    if not customer or not customer.strip():
        return None
    url = f"{stripe_dashboard(settings)}/customers/{_segment(customer.strip())}"
    return ProviderLink("stripe", OPEN_IN_STRIPE, url, customer.strip())


def stripe_connect_link(settings: Settings, account: str | None) -> ProviderLink | None:
    if not account or not account.strip():
        return None
    url = f"{stripe_dashboard(settings)}/connect/accounts/{_segment(account.strip())}"
    return ProviderLink("stripe", OPEN_CONNECT_IN_STRIPE, url, account.strip())


def request_links(settings: Settings, refs: ProviderRefs, checks: Any = None) -> list[ProviderLink]:
    """The work page's links. The Zuora account's id read by the pre-checks (a
    `gateway.fulfilment.schemas.Checks`) is preferred to an account number as filed: it opens
    the account page itself rather than a search."""
    zuora = refs.zuora_account
    if zuora and not _ZUORA_ID.fullmatch(zuora) and checks is not None:
        read = [t.account_id for t in checks.targets if t.provider == "zuora" and t.account_id]
        zuora = read[0] if read else zuora
    found = (
        zuora_account_link(settings, zuora),
        stripe_customer_link(settings, refs.stripe_customer),
        stripe_connect_link(settings, refs.stripe_connect_account),
    )
    return [link for link in found if link is not None]


def customer_links(settings: Settings, sides: Iterable[_Side]) -> list[ProviderLink]:
    """The customer page's links: one per provider side, by the account id read there."""
    builders = {"zuora": zuora_account_link, "stripe": stripe_customer_link}
    found = (
        builders[side.provider](settings, side.account.id)
        for side in sides
        if side.provider in builders
    )
    return [link for link in found if link is not None]
