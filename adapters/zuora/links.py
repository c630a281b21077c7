"""Where the back office's "Open in Zuora" goes: an account known by its 32-hex id opens at
`<ui>/apps/CustomerAccount.do?method=view&id=<id>` (the account page every tenant serves); one
known only by its number (A00012345) at
`<ui>/platform/apps/search?searchTerm=<number>&searchObjectType=account`. `<ui>` is
BG_ZUORA_DASHBOARD_URL, else the host of the Zuora API URL the gateway uses
(rest.eu.zuora.com: eu.zuora.com), else https://www.zuora.com; in sandbox with the emulator,
the emulator, which serves the same paths as a read-only page of what it holds, masked."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from adapters.provider import Dashboard
from adapters.zuora.settings import ZuoraSettings, ZuoraTransportName
from gateway.core.catalogues import N_

ZUORA_UI = "https://www.zuora.com"
_ZUORA_ID = re.compile(r"[0-9a-fA-F]{32}")


def is_account_id(reference: str) -> bool:
    return bool(_ZUORA_ID.fullmatch(reference))


def zuora_ui(settings: ZuoraSettings) -> str:
    """The tenant's UI host: configured, or that of the API URL in use, or Zuora's US one."""
    rest = settings.zuora_transport is ZuoraTransportName.REST
    if settings.sandbox and not (settings.zuora_rest_url if rest else settings.zuora_soap_url):
        return settings.zuora_emulator_base
    if settings.zuora_dashboard_url:
        return settings.zuora_dashboard_url.rstrip("/")
    apis = (settings.zuora_rest_url, settings.zuora_soap_url)
    if not rest:
        apis = apis[::-1]  # the URL of the transport in use first
    for api in apis:
        host = (urlsplit(api).hostname or "") if api else ""
        if host == "zuora.com" or host.endswith(".zuora.com"):
            host = host.removeprefix("rest.")
            return f"https://{'www.zuora.com' if host == 'zuora.com' else host}"
    return ZUORA_UI


def account_url(settings: ZuoraSettings, account: str) -> str:
    if is_account_id(account):
        query = urlencode({"method": "view", "id": account})
        return f"{zuora_ui(settings)}/apps/CustomerAccount.do?{query}"
    query = urlencode({"searchTerm": account, "searchObjectType": "account"})
    return f"{zuora_ui(settings)}/platform/apps/search?{query}"


DASHBOARD = Dashboard(N_("Open in Zuora"), account_url)
