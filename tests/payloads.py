"""Request bodies a support tool would send."""

from __future__ import annotations

import copy
import uuid
from typing import Any

VALID_IBAN = "DE89 3704 0044 0532 0130 00"
VALID_IBAN_COMPACT = "DE89370400440532013000"


def iban_change(ticket: str | None = None, **payload: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "iban_change",
        "ticket": {
            "system": "zendesk",
            "id": ticket or uuid.uuid4().hex[:12],
            "url": "https://example.zendesk.com/agent/tickets/1",
        },
        "customer": {
            "zuora_account_id": "A00000101",
            "backoffice_id": "shop-101",
            "company_name": "Atelier Lumière SARL",
        },
        "requester": {"name": "Camille", "email": "camille@example.com"},
        "contact_reasons": ["Billing > Payment method > Bank details change"],
        "payload": {
            "iban": VALID_IBAN,
            "account_holder": "Atelier Lumière SARL",
            "account_holder_email": "compta@shop-101.example",
            "targets": ["zuora_collection", "stripe_customer_debit"],
        },
    }
    body["payload"].update(payload)
    return body


def plan_change(ticket: str | None = None, **payload: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "plan_change",
        "ticket": {"system": "intercom", "id": ticket or uuid.uuid4().hex[:12]},
        "customer": {"stripe_customer_id": "cus_Demo1", "backoffice_id": "shop-102"},
        "requester": {"name": "Camille"},
        "contact_reasons": ["Account > Subscription > Upsell"],
        "payload": {
            "subscription_ref": "A-S00000102",
            "current_tier": "solo",
            "target_tier": "team",
            "consent_channel": "recorded_call",
            "contract_signed_on": "2021-06-01",
        },
    }
    body["payload"].update(payload)
    return body


def with_change(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = changed
    for part in parents:
        target = target[part]
    target[last] = value
    return changed
