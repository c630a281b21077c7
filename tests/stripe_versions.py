"""What the Stripe API version the adapter is pinned to (`2026-10-28.endive`) no longer takes,
per operation (method and path, ids as `*`, as the emulator names them). The OpenAPI fixture in
../shared/fixtures/stripe is from 2023 and still lists these, so the existence check
(`tests/stripe_openapi.py`) cannot catch them: this table does.
"""

from __future__ import annotations

from adapters.stripe.emulator.forms import parameter_names

PINNED_VERSION = "2026-10-28.endive"

# Stripe picks the payment method types from the account's settings since 2026-09-30 and
# answers 400 when they are sent.
_PAYMENT_METHOD_TYPES = frozenset({"payment_method_types"})
REMOVED_PARAMETERS: dict[str, frozenset[str]] = {
    "POST /v1/setup_intents": _PAYMENT_METHOD_TYPES,
    "POST /v1/setup_intents/*": _PAYMENT_METHOD_TYPES,
    "POST /v1/payment_intents": _PAYMENT_METHOD_TYPES,
    "POST /v1/payment_intents/*": _PAYMENT_METHOD_TYPES,
}
# Whole calls gone before the pinned version (2025-03-31.basil: the upcoming-invoice API,
# replaced by POST /v1/invoices/create_preview).
REMOVED_CALLS = frozenset({"GET /v1/invoices/upcoming", "GET /v1/invoices/upcoming/lines"})


def removed_in_pinned_version(operation: str, params: object) -> list[str]:
    """The parameters (top-level names) or the call itself that the pinned version refused."""
    if operation in REMOVED_CALLS:
        return [operation]
    removed = REMOVED_PARAMETERS.get(operation, frozenset())
    return [name for name in parameter_names(params) if name.split("[", 1)[0] in removed]
