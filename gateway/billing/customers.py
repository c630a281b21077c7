"""Finding a customer at a provider the way every /v1/customers route does: by account number,
provider id or back-office id, with the same problems when the provider or customer is not
there."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from adapters.ports import Account, AccountLookup, Capability, capabilities_of
from gateway.core.errors import BillingError, ErrorCode
from gateway.providers import Providers

# What each capability lets a support agent do, for the sentence naming what a provider lacks.
WHAT_IT_DOES: dict[Capability, str] = {
    Capability.BILLING_HISTORY: "list a customer's invoices and payments",
    Capability.INVOICE_PDFS: "hand out invoice PDFs",
    Capability.RECEIPTS: "hand out payment receipts",
}


def configured_adapter(providers: Providers, provider: str, needed: Set[Capability]) -> Any:
    """The provider's adapter; 404 provider_not_configured when there is none here, or when it
    cannot even find accounts (`needed`)."""
    adapter = providers.get(provider)
    if adapter is None or not capabilities_of(adapter) >= needed:
        raise BillingError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            f"No provider {provider!r} is configured here; GET /v1/capabilities lists them.",
        )
    return adapter


def require_capability(adapter: Any, provider: str, capability: Capability) -> None:
    """422 provider_lacks_capability, naming what the provider cannot do, when it cannot."""
    if capability not in capabilities_of(adapter):
        what = WHAT_IT_DOES.get(capability, capability.value.replace("_", " "))
        raise BillingError(
            ErrorCode.PROVIDER_LACKS_CAPABILITY,
            f"The gateway cannot {what} at {provider.capitalize()}: its adapter has no "
            f"{capability.value} capability (GET /v1/capabilities lists what each provider "
            "can do).",
            extra={"provider": provider},
        )


async def find_customer(adapter: Any, provider: str, reference: str) -> Account:
    """The account whose number, provider id or back-office id is `reference`."""
    for lookup in (
        AccountLookup(number=reference),
        AccountLookup(id=reference),
        AccountLookup(backoffice_id=reference),
    ):
        account: Account | None = await adapter.find_account(lookup)
        if account is not None:
            return account
    raise BillingError(
        ErrorCode.CUSTOMER_NOT_FOUND,
        f"{provider.capitalize()} has no account with the number or id {reference}.",
    )
