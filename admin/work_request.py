"""The request as the work page shows it: masked values only, read for one staff member.

A specialist reaches only the requests assigned to them; any other id is "not found", so that
guessing ids tells them nothing (the same rule as their queue's view). A team lead reads every
request.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from gateway.change_requests import queries
from gateway.change_requests.states import Kind
from gateway.core.customers import CUSTOMER_REFERENCES, PROVIDER_REFERENCES
from gateway.core.db.connection import fetch
from gateway.core.db.rows import loaded
from gateway.i18n import N_, gettext
from gateway.i18n.formatting import format_date
from gateway.i18n.labels import label
from gateway.provider_links import NO_REFS, ProviderRefs
from gateway.staff import queries as staff_queries
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from gateway.tickets import display_ticket

TARGET_NAMES = {
    "zuora_collection": N_("Zuora (direct debit collection)"),
    "stripe_customer_debit": N_("Stripe customer (SEPA debit)"),
    "stripe_connect_payout": N_("Stripe Connect (payouts)"),
    "zuora_subscription": N_("Zuora subscription"),
    "stripe_subscription": N_("Stripe subscription"),
}

STATUS_SENTENCES = {
    "new": N_("New: nobody has taken it yet."),
    "assigned": N_("Assigned: waiting for its specialist to start."),
    "in_progress": N_("In progress: check it and apply it."),
    "waiting_customer": N_("Waiting for the customer."),
    "awaiting_approval": N_("Waiting for a team lead to approve the plan before it runs."),
    "applying": N_("Applying: the gateway is carrying out the steps at the providers."),
    "applied": N_("Applied at the providers; a team lead reviews it."),
    "apply_failed": N_("A step failed: a team lead retries it or settles it by hand."),
    "processed": N_("Processed by hand (before Apply existed); a team lead reviews it."),
    "approved": N_("Applied and approved by a team lead."),
    "rejected": N_("Sent back by a team lead: read the comment, fix it and apply again."),
    "cancelled": N_("Cancelled: the customer withdrew."),
}

DIRECTIONS = {
    "upgrade": N_("upgrade"),
    "downgrade": N_("downgrade"),
    "unknown": N_("unknown"),
}
CONSENTS = {
    "recorded_call": N_("recorded phone call"),
    "written": N_("written"),
}


@dataclass(frozen=True)
class WorkRequest:
    id: uuid.UUID
    kind: str
    status: str
    ticket: str
    ticket_url: str | None
    company_name: str | None
    references: list[tuple[str, str]]
    requester: list[tuple[str, str]]
    contact_reasons: list[str]
    facts: list[tuple[str, str]]  # what was asked for, masked
    targets: list[str]
    assignee_id: int | None
    assignee: str | None
    maker_id: int | None
    maker: str | None
    reviewer: str | None
    reviewed_at: datetime | None
    review_comment: str | None
    resolution_note: str | None
    resolution_reasons: list[str]
    checks_json: str | None  # the pre-checks as stored (JSON text)
    created_at: datetime
    # Why the request is in Triage (gateway/change_requests/lifecycle.py), until acted on.
    triage_reason: str | None = None
    triage_reason_at: datetime | None = None
    # The references as filed, for the links to the providers (gateway/provider_links.py).
    provider_refs: ProviderRefs = NO_REFS

    @property
    def status_sentence(self) -> str:
        return gettext(STATUS_SENTENCES.get(self.status, self.status.replace("_", " ")))

    @property
    def kind_name(self) -> str:
        try:
            return label(Kind(self.kind))
        except ValueError:
            return self.kind


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, date):
        return format_date(value)
    return str(value)


def _iban_facts(details: dict[str, Any]) -> list[tuple[str, str]]:
    facts = [
        (gettext("New IBAN"), str(details.get("iban_masked", ""))),
        (gettext("Bank"), str(details.get("bank_name") or gettext("not known"))),
        (gettext("BIC"), str(details.get("bic") or gettext("not known"))),
        (gettext("Account holder"), str(details.get("account_holder", ""))),
    ]
    if details.get("account_holder_email"):
        facts.append((gettext("Holder's email"), str(details["account_holder_email"])))
    if details.get("iban_on_file_for_another_customer"):
        facts.append((gettext("Same IBAN"), gettext("on file for another customer's open request")))
    return facts


def _plan_facts(details: dict[str, Any]) -> list[tuple[str, str]]:
    tier = details.get("target_tier") or {}
    seats = (
        gettext("%(low)s to %(high)s seats")
        % {"low": tier.get("min_seats"), "high": tier.get("max_seats")}
        if tier
        else ""
    )
    direction = str(details.get("direction", ""))
    consent = str(details.get("consent_channel", ""))
    signed = details.get("contract_signed_on")
    return [
        (gettext("Subscription"), str(details.get("subscription_ref", ""))),
        (
            gettext("Current tier (as filed)"),
            str(details.get("current_tier") or gettext("not given")),
        ),
        (gettext("Target tier"), f"{tier.get('name', '')} ({seats})" if tier else ""),
        (gettext("Direction"), gettext(DIRECTIONS.get(direction, direction))),
        (gettext("Committed plan"), _text(bool(details.get("committed")))),
        (gettext("Consent"), gettext(CONSENTS.get(consent, consent.replace("_", " ")))),
        (gettext("Contract signed on"), _text(date.fromisoformat(str(signed))) if signed else ""),
    ]


# What the work page calls each customer reference.
_REFERENCE_LABELS = {
    "backoffice_id": N_("Back-office id"),
    "zuora_account_id": N_("Zuora account"),
    "stripe_customer_id": N_("Stripe customer"),
    "stripe_connect_account_id": N_("Stripe Connect account"),
}


def _to_work_request(row: dict[str, Any]) -> WorkRequest:
    details: dict[str, Any] = loaded(row["details"]) or {}
    requester: dict[str, Any] = loaded(row["requester"]) or {}
    references = [
        (gettext(_REFERENCE_LABELS[column]), str(row[column]))
        for column in (*PROVIDER_REFERENCES, *CUSTOMER_REFERENCES[:1])  # then the gateway's own id
        if row[column]
    ]
    iban = row["kind"] == "iban_change"
    return WorkRequest(
        id=row["id"],
        kind=row["kind"],
        status=row["status"],
        ticket=display_ticket(row["ticket"]),
        ticket_url=row["ticket_url"],
        company_name=row["company_name"],
        references=references,
        requester=[
            (gettext(name), str(requester[key]))
            for name, key in (
                (N_("Name"), "name"),
                (N_("Email"), "email"),
                (N_("Agent"), "agent_id"),
            )
            if requester.get(key)
        ],
        contact_reasons=list(row["contact_reasons"] or []),
        facts=_iban_facts(details) if iban else _plan_facts(details),
        targets=[str(target) for target in details.get("targets", [])] if iban else [],
        assignee_id=row["assignee_id"],
        assignee=row["assignee"],
        maker_id=row["processed_by_id"],
        maker=row["maker"],
        reviewer=row["reviewer"],
        reviewed_at=row["reviewed_at"],
        review_comment=row["review_comment"],
        resolution_note=row["resolution_note"],
        resolution_reasons=list(row["resolution_reasons"] or []),
        checks_json=row["checks"],
        created_at=row["created_at"],
        triage_reason=row["triage_reason"],
        triage_reason_at=row["triage_reason_at"],
        provider_refs=ProviderRefs(*(row[column] for column in PROVIDER_REFERENCES)),
    )


async def read_work_request(staff: StaffMember, request_id: uuid.UUID) -> WorkRequest | None:
    """The request if `staff` may open it, else None (shown as "not found"): a specialist their
    own, a team lead any; no other role."""
    if staff.role not in (Role.SPECIALIST, Role.TEAM_LEAD):
        return None
    rows = await fetch(
        queries.WORK_REQUEST, request_id, staff.id if staff.role is Role.SPECIALIST else None
    )
    if not rows:
        return None
    row = rows[0]
    if row["checks"] is not None and not isinstance(row["checks"], str):
        row["checks"] = json.dumps(row["checks"])
    return _to_work_request(row)


async def assignable_specialists() -> list[str]:
    """The usernames a team lead may give a request to: active specialists."""
    rows = await fetch(
        staff_queries.ACTIVE_WITH_ROLE,
        Role.SPECIALIST.value,
    )
    return [str(row["username"]) for row in rows]
