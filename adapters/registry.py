"""The providers the gateway talks to, one line each (adding one: adapters/README.md). The
order is the order the back office asks them in."""

from __future__ import annotations

from adapters.provider import Provider
from adapters.stripe import provider as stripe
from adapters.zuora import provider as zuora

PROVIDERS: dict[str, Provider] = {
    "zuora": zuora.PROVIDER,
    "stripe": stripe.PROVIDER,
}
