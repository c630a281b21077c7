"""What Apply found and did: the live pre-checks (written by gateway/fulfilment/checks.py) and
the runs at the providers (gateway/fulfilment/). Explicit structs, never ORM rows.

Beneath change_requests, whose read model shows them, and fulfilment, which writes them. The
module's path names StepRead's component in the OpenAPI document ("fulfilment_schemas_StepRead",
beside corrections' StepRead): a move renames it for generated clients."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Literal
from uuid import UUID

import msgspec

from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message

# == the pre-checks (written by gateway/fulfilment/checks.py) =================================

Severity = Literal["ok", "info", "warning", "blocking"]
Moment = Literal["intake", "claim", "apply", "manual"]
FactState = Literal["matched", "different", "not_checked", "recorded"]

# Blocking findings that refuse Apply with their own code (and HTTP status); any other blocking
# finding refuses with `checks_blocked`.
_REFUSAL_CODES: dict[str, ErrorCode] = {
    "collection_in_flight": ErrorCode.COLLECTION_IN_FLIGHT,
    "needs_new_contract": ErrorCode.NEEDS_NEW_CONTRACT,
    "current_tier_mismatch": ErrorCode.CURRENT_TIER_MISMATCH,
    "downgrade_not_allowed": ErrorCode.DOWNGRADE_NOT_ALLOWED,
    "holder_not_legal_name": ErrorCode.HOLDER_NOT_LEGAL_NAME,
    "identity_mismatch": ErrorCode.IDENTITY_MISMATCH,
    "account_not_found": ErrorCode.ACCOUNT_NOT_FOUND,
    "tier_unchanged": ErrorCode.TIER_UNCHANGED,
    "provider_not_configured": ErrorCode.PROVIDER_NOT_CONFIGURED,
}
# Retry-After for an apply refused because a provider could not be read.
UNREADABLE_RETRY_SECONDS = 30


class Finding(msgspec.Struct, kw_only=True):
    code: str
    target: str | None
    severity: Severity
    sentence: str  # shown to the specialist and returned by the API
    needs_acknowledgement: bool = False  # a warning the specialist must acknowledge by its code
    detail: dict[str, Any] = msgspec.field(default_factory=dict)  # masked values only

    def __post_init__(self) -> None:
        # Stored and returned as its English text; the work page says it again in the reader's
        # language from that text (gateway/fulfilment/sentences.py).
        self.sentence = str(self.sentence)


class MethodView(msgspec.Struct, kw_only=True):
    id: str
    masked: str | None
    kind: str
    active: bool
    is_default: bool


class CollectionView(msgspec.Struct, kw_only=True):
    id_masked: str
    amount_minor: int
    currency: str
    on: date | None  # the collection (effective) date
    safe_after: date  # the first day a bank-detail change no longer risks this debit
    method_masked: str | None = None
    status: str | None = None


class PayoutView(msgspec.Struct, kw_only=True):
    id_masked: str
    amount_minor: int
    currency: str
    status: str
    bank_account_id: str | None = None


class TargetState(msgspec.Struct, kw_only=True):
    """What the provider holds now for one target (masked for display)."""

    target: str
    provider: str
    account_id: str | None
    account_name: str | None
    default_method_id: str | None
    methods: list[MethodView] = msgspec.field(default_factory=list)
    # The active bank/SEPA methods (or payout accounts) Apply closes once the new one is default.
    replaced_method_ids: list[str] = msgspec.field(default_factory=list)
    collections_in_flight: list[CollectionView] = msgspec.field(default_factory=list)
    payouts_in_transit: list[PayoutView] = msgspec.field(default_factory=list)
    nothing_to_do: bool = False  # the new IBAN is already the default there
    readable: bool = True  # False: the provider could not be read; nothing above is known


class PlanPreview(msgspec.Struct, kw_only=True):
    id: str  # sha256 hex (first 32) of the canonical content below
    provider: str
    subscription_id: str
    charge_id: str
    current_tier: str
    target_tier: str
    quantity_before: int
    quantity_after: int
    effective_on: date
    proration: str
    proration_date: int | None  # Stripe: the Unix time the proration is computed at
    recurring_before_minor: int
    recurring_after_minor: int
    next_invoice_minor: int
    currency: str


class IdentityFact(msgspec.Struct, kw_only=True):
    fact: str  # name, email, postal_address, id_document, proof_of_address
    state: FactState
    filed: str | None = None  # what the agent recorded (masked where it is an address)
    provider_value: str | None = None  # what the provider holds
    source: str | None = None  # e.g. "zuora bill-to contact", "stripe connect account"


class ContractReturn(msgspec.Struct, kw_only=True):
    """A specialist's record that the customer's new contract came back signed."""

    recorded_by_id: int
    recorded_by: str
    recorded_at: datetime
    received_on: date
    how: str


class Checks(msgspec.Struct, kw_only=True):
    computed_at: datetime
    moment: Moment
    findings: list[Finding]
    targets: list[TargetState]
    preview: PlanPreview | None = None
    identity: list[IdentityFact] = msgspec.field(default_factory=list)
    contract_return: ContractReturn | None = None

    def blocking(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "blocking"]

    def refusal(
        self,
        acknowledged: frozenset[str],
        *,
        identity_override_reason: str | None = None,
    ) -> BillingError | None:
        """Why Apply must not run now, or None. The first blocking finding wins (an identity
        mismatch is lifted by the specialist's reason); then a provider that could not be read
        (503: nothing was checked there); then warnings not yet acknowledged by their code."""
        for finding in self.blocking():
            if finding.code == "identity_mismatch" and (identity_override_reason or "").strip():
                continue
            if finding.code == "needs_new_contract" and self.contract_return is not None:
                continue
            return _refusal_of(finding)
        unreadable = [f for f in self.findings if f.code == "provider_unreadable"]
        if unreadable:
            return BillingError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                Message(
                    "{sentence} Nothing was applied; try again in a minute.",
                    sentence=unreadable[0].sentence,
                ),
                extra={"target": unreadable[0].target},
                headers={"Retry-After": str(UNREADABLE_RETRY_SECONDS)},
            )
        missing = sorted(
            {
                finding.code
                for finding in self.findings
                if finding.needs_acknowledgement and finding.code not in acknowledged
            }
        )
        if missing:
            sentences = " ".join(
                dict.fromkeys(f.sentence for f in self.findings if f.code in missing)
            )
            return BillingError(
                ErrorCode.ACKNOWLEDGEMENT_REQUIRED,
                Message(
                    "{sentences} Acknowledge {codes} to apply anyway.",
                    sentences=sentences,
                    codes=", ".join(missing),
                ),
                extra={"codes": missing},
            )
        return None


def _refusal_of(finding: Finding) -> BillingError:
    code = _REFUSAL_CODES.get(finding.code, ErrorCode.CHECKS_BLOCKED)
    extra: dict[str, Any] = {"finding": finding.code, "target": finding.target}
    if finding.code == "collection_in_flight":
        extra["collection"] = finding.detail.get("collection")
        extra["safe_after"] = finding.detail.get("safe_after")
    else:
        extra.update(finding.detail)
    return BillingError(code, finding.sentence, extra=extra)


# == the runs at the providers (gateway/fulfilment/service.py, runner.py) ====================

StepStatus = Literal["pending", "calling", "succeeded", "failed", "settled_by_hand"]
RunStatus = Literal["waiting_approval", "running", "succeeded", "failed", "refused"]


class StepRead(msgspec.Struct, kw_only=True):
    """One provider call of a run, as the API and the work screen show it."""

    # One name per schema in the OpenAPI document: generated clients make a class of each.
    __schema_name__: ClassVar[str] = "FulfilmentStepRead"
    id: UUID
    position: int
    target: str
    provider: str
    operation: str
    status: StepStatus
    attempts: int
    # What the step names or made at the provider, masked: {"method": "pm_…1234"}.
    provider_ids: dict[str, str]
    provider_request_id: str | None  # Stripe's request id or Zuora's request/track id
    before: dict[str, Any] | None  # the provider's state the step changed, masked
    after: dict[str, Any] | None
    error_code: str | None
    error_message: str | None  # a sentence a support agent can act on
    started_at: datetime | None
    finished_at: datetime | None
    settled_by_id: int | None = None
    settled_reason: str | None = None


class RunRead(msgspec.Struct, kw_only=True):
    id: UUID
    number: int
    status: RunStatus
    plan_hash: str
    preview_id: str | None
    started_by: dict[str, Any]  # the actor: {"kind": "staff", "id": "sam", "role": ...}
    approved_by_id: int | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    deadline_at: datetime
    error_code: str | None
    error_message: str | None
    steps: list[StepRead]


class FulfilmentRead(msgspec.Struct, kw_only=True):
    """Every run of a request, oldest first; the last one is what the status reports."""

    runs: list[RunRead]
