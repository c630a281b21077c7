"""Plan-tier rules of the upsell runbook: known tiers, no downgrade of committed plans,
a new contract for contracts signed before the terms changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from gateway.core.errors import BillingError, ErrorCode
from settings import PlanTier, Settings

COMPLAINT_REASON = "Account > Complaint > Churn Risk > Product"


@dataclass(frozen=True)
class PlanDecision:
    target: PlanTier
    direction: Literal["upgrade", "downgrade", "unknown"]
    needs_new_contract: bool


def _tier(settings: Settings, name: str) -> PlanTier:
    tier = settings.tier(name)
    if tier is None:
        known = ", ".join(t.name for t in settings.plan_tiers)
        raise BillingError(
            ErrorCode.UNKNOWN_TIER, f"There is no tier {name!r}; tiers are: {known}."
        )
    return tier


def decide(
    settings: Settings,
    *,
    current: str | None,
    target: str,
    committed: bool,
    contract_signed_on: date,
    today: date,
) -> PlanDecision:
    target_tier = _tier(settings, target)
    if contract_signed_on > today:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED, "The contract signing date is in the future; check it."
        )
    direction: Literal["upgrade", "downgrade", "unknown"] = "unknown"
    if current is not None:
        current_tier = _tier(settings, current)
        if current_tier == target_tier:
            raise BillingError(
                ErrorCode.TIER_UNCHANGED,
                f"The subscription is already on tier {target!r}; nothing to change.",
            )
        direction = "upgrade" if target_tier.min_seats > current_tier.min_seats else "downgrade"
        if direction == "downgrade" and committed:
            raise BillingError(
                ErrorCode.DOWNGRADE_NOT_ALLOWED,
                "A committed subscription is never downgraded. Explain this to the customer and "
                f"open a complaint instead (contact reason '{COMPLAINT_REASON}').",
            )
    return PlanDecision(
        target_tier,
        direction,
        needs_new_contract=contract_signed_on < settings.contract_terms_changed_on,
    )
