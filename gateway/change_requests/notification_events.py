"""A change request's events: its row read inside the transaction that moved it, turned into
the masked data a support tool shows (status, ticket, customer references, masked IBAN or
target tier, who has it, what failed) and a sentence ready for the ticket's internal note."""

from __future__ import annotations

import uuid
from typing import Any

from gateway.change_requests import queries
from gateway.change_requests.fulfilment_queries import LAST_RUN
from gateway.change_requests.outcomes import StaffName, staff_names
from gateway.change_requests.states import Status, Transition
from gateway.core.customers import CUSTOMER_REFERENCES
from gateway.core.db.connection import fetch
from gateway.core.db.rows import loaded
from gateway.i18n import Message
from gateway.notifications.events import EventType
from gateway.notifications.fanout import files_for_customers
from gateway.notifications.outbox import event_values, record_event
from gateway.notifications.wording import (
    account_phrase,
    label_of,
    listed,
    ticket_fields,
)

E = EventType

# The event each move of the state machine is told as.
TRANSITION_EVENTS: dict[Transition, EventType] = {
    Transition.ASSIGN: E.CHANGE_REQUEST_ASSIGNED,
    Transition.START: E.CHANGE_REQUEST_STARTED,
    Transition.WAIT_FOR_CUSTOMER: E.CHANGE_REQUEST_WAITING_CUSTOMER,
    Transition.RESUME: E.CHANGE_REQUEST_RESUMED,
    Transition.APPLY: E.CHANGE_REQUEST_APPLYING,
    Transition.REQUEST_APPROVAL: E.CHANGE_REQUEST_AWAITING_APPROVAL,
    Transition.APPROVE_PLAN: E.CHANGE_REQUEST_APPLYING,
    Transition.REFUSE_PLAN: E.CHANGE_REQUEST_PLAN_REFUSED,
    Transition.APPLY_SUCCEEDED: E.CHANGE_REQUEST_APPLIED,
    Transition.APPLY_FAILED: E.CHANGE_REQUEST_APPLY_FAILED,
    Transition.RETRY_APPLY: E.CHANGE_REQUEST_APPLYING,
    Transition.SETTLE_BY_HAND: E.CHANGE_REQUEST_APPLYING,
    Transition.APPROVE: E.CHANGE_REQUEST_APPROVED,
    Transition.REJECT: E.CHANGE_REQUEST_REJECTED,
    Transition.REWORK: E.CHANGE_REQUEST_REOPENED,
    Transition.CANCEL: E.CHANGE_REQUEST_CANCELLED,
    Transition.AMEND: E.CHANGE_REQUEST_AMENDED,
}


async def record_transition(request_id: uuid.UUID, transition: Transition) -> uuid.UUID:
    """The event of a move, in the caller's transaction (after the row's UPDATE)."""
    return await record_change_request_event(TRANSITION_EVENTS[transition], request_id)


async def record_change_request_event(
    event: EventType,
    request_id: uuid.UUID,
    *,
    note: str | None = None,
    extra: dict[str, Any] | None = None,
    row: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Read the request as it is now (in the caller's transaction; `row` when the caller has
    just written it, as filing has) and record `event` about it; `note` replaces the standard
    sentence, `extra` adds masked fields."""
    if row is None:
        rows = await fetch(queries.ROW, request_id)
        row = dict(rows[0])
    data = await change_request_data(event, row)
    if note is not None:
        data["note"] = note
    data.update(extra or {})
    customer = {name: str(row[name]) for name in CUSTOMER_REFERENCES if row.get(name)}
    return await record_event(
        event,
        subject_type="change_request",
        subject_id=str(row["id"]),
        client=row["client"],
        data=data,
        customer=customer or None,
    )


async def filed_event_values(row: dict[str, Any]) -> list[Any]:
    """The FILED event of a request being filed, as values for the filing statement
    (notifications' EVENT_CTES), which writes it with the row."""
    data = await change_request_data(EventType.CHANGE_REQUEST_FILED, row)
    customer = {name: str(row[name]) for name in CUSTOMER_REFERENCES if row.get(name)}
    return event_values(
        EventType.CHANGE_REQUEST_FILED,
        subject_type="change_request",
        subject_id=str(row["id"]),
        client=row["client"],
        data=data,
        customer=customer or None,
    )


_ABOUT_THE_RUN = frozenset(
    {E.CHANGE_REQUEST_APPLYING, E.CHANGE_REQUEST_APPLIED, E.CHANGE_REQUEST_APPLY_FAILED}
)


async def change_request_data(event: EventType, row: dict[str, Any]) -> dict[str, Any]:
    details = loaded(row.get("details")) or {}
    staff_ids = [row.get("assignee_id"), row.get("processed_by_id"), row.get("reviewed_by_id")]
    # A request no one has touched yet (every filing) names no one: nothing to await.
    names = await staff_names(staff_ids) if staff_ids != [None, None, None] else {}
    assignee = names.get(row["assignee_id"]) if row.get("assignee_id") else None
    # The Apply run, read only for the events that tell of it (one query fewer on the others).
    run = await _last_run(row["id"]) if event in _ABOUT_THE_RUN else None
    data: dict[str, Any] = {
        **ticket_fields(_ticket_of(row)),
        "status": row["status"],
        "kind": row["kind"],
        "customer": {name: row[name] for name in CUSTOMER_REFERENCES if row.get(name)},
        "assignee": _staff(assignee),
    }
    if row["kind"] == "iban_change":
        data["iban"] = {
            "country": details.get("iban_country"),
            "last4": str(details.get("iban_masked") or "")[-4:] or None,
            "masked": details.get("iban_masked"),
        }
        data["targets"] = list(details.get("targets") or [])
    else:
        data["current_tier"] = details.get("current_tier")
        data["target_tier"] = details.get("target_tier")
    if run is not None and event in (E.CHANGE_REQUEST_APPLYING, E.CHANGE_REQUEST_APPLIED):
        data["providers"] = list(run["providers"] or [])
    if run is not None and event is E.CHANGE_REQUEST_APPLY_FAILED:
        data["error"] = {"code": run["error_code"], "message": run["error_message"]}
    if event is E.CHANGE_REQUEST_CHECKS_READY:
        data["checks"] = _checks_summary(loaded(row.get("checks")))
    data["note"] = _note(event, row, details, names, run, data)
    return data


def _ticket_of(row: dict[str, Any]) -> str | None:
    return str(row["ticket"]) if row.get("ticket") else None


def _staff(name: StaffName | None) -> dict[str, str] | None:
    return {"username": name.username, "display_name": name.display_name} if name else None


async def _last_run(request_id: Any) -> dict[str, Any] | None:
    rows = await fetch(LAST_RUN, request_id)
    return dict(rows[0]) if rows else None


def _checks_summary(checks: dict[str, Any] | None) -> dict[str, Any]:
    findings = list((checks or {}).get("findings") or [])
    blocking = [f for f in findings if f.get("severity") == "blocking"]
    return {
        "blocking": [{"code": f.get("code"), "sentence": f.get("sentence")} for f in blocking],
        "warnings": sum(1 for f in findings if f.get("severity") == "warning"),
    }


def _what(row: dict[str, Any], details: dict[str, Any]) -> Message:
    if row["kind"] == "iban_change":
        return Message("bank details change")
    target = (details.get("target_tier") or {}).get("name")
    return Message("plan change to {tier}", tier=target) if target else Message("plan change")


def _name(names: dict[int, StaffName], staff_id: int | None, fallback: Message) -> str:
    found = names.get(staff_id) if staff_id is not None else None
    return found.display_name if found else fallback


def _applier(row: dict[str, Any]) -> Message:
    """Who applied a request no staff member processed: a support tool's key, through the API."""
    applied_by = loaded(row.get("applied_by")) or {}
    if applied_by.get("kind") == "api_key":
        return Message("the support tool's key {name}", name=applied_by.get("role") or "")
    return Message("a specialist")


def _note(
    event: EventType,
    row: dict[str, Any],
    details: dict[str, Any],
    names: dict[int, StaffName],
    run: dict[str, Any] | None,
    data: dict[str, Any],
) -> Message:
    """The sentence for the ticket's internal note, as a Message: English in the body, and in
    each endpoint's language (outbox.py). Values the gateway stored in English (a check's
    sentence, a provider's error, the lifecycle's triage reason) stay as they were written."""
    what = _what(row, details)
    account = account_phrase(row)
    masked = details.get("iban_masked")
    about = Message(" (IBAN {masked})", masked=masked) if masked else ""
    if event is E.CHANGE_REQUEST_FILED:  # names no one and no run: told before they are read
        return Message(
            "The {what} for {account}{about} was filed; it waits in Triage for a specialist.",
            what=what,
            account=account,
            about=about,
        )
    assignee = _name(names, row.get("assignee_id"), Message("the specialist"))
    processor = _name(names, row.get("processed_by_id"), _applier(row))
    reviewer = _name(names, row.get("reviewed_by_id"), Message("A team lead"))
    providers = listed([p.capitalize() for p in (run or {}).get("providers") or []])
    said = {"what": what, "account": account, "assignee": assignee}
    if event is E.CHANGE_REQUEST_ASSIGNED:
        return Message("The {what} for {account} is assigned to {assignee}.", **said)
    if event is E.CHANGE_REQUEST_STARTED:
        return Message("{assignee} started work on the {what} for {account}.", **said)
    if event is E.CHANGE_REQUEST_WAITING_CUSTOMER:
        return Message(
            "{assignee} waits for the customer's answer before the {what} can go on.",
            assignee=assignee,
            what=what,
        )
    if event is E.CHANGE_REQUEST_RESUMED:
        return Message("{assignee} resumed work on the {what} for {account}.", **said)
    if event is E.CHANGE_REQUEST_CHECKS_READY:
        blocking = data["checks"]["blocking"]
        if blocking:
            return Message(
                "Pre-checks read from the providers for the {what}: {count} finding(s) stop it "
                "for now. First: {first}",
                what=what,
                count=len(blocking),
                first=blocking[0]["sentence"],
            )
        return Message(
            "Pre-checks read from the providers: the {what} for {account} can be applied.",
            what=what,
            account=account,
        )
    if event is E.CHANGE_REQUEST_AWAITING_APPROVAL:
        return Message(
            "The {what} for {account} waits for a team lead to approve its plan.",
            what=what,
            account=account,
        )
    if event is E.CHANGE_REQUEST_PLAN_REFUSED:
        return Message(
            "{reviewer} refused the plan of the {what}; {assignee} reworks it.",
            reviewer=reviewer,
            what=what,
            assignee=assignee,
        )
    if event is E.CHANGE_REQUEST_APPLYING:
        return Message(
            "The {what} for {account} is being applied at {providers}.",
            what=what,
            account=account,
            providers=providers or Message("the providers"),
        )
    if event is E.CHANGE_REQUEST_APPLIED:
        return _applied(row, what, account, processor, providers, about)
    if event is E.CHANGE_REQUEST_APPLY_FAILED:
        failed_at = (run or {}).get("failed_provider")
        reason = (run or {}).get("error_message") or Message("see the request in the back office.")
        if failed_at:
            return Message(
                "The {what} for {account} failed at {provider}: {reason} A team lead retries "
                "it or settles it by hand.",
                what=what,
                account=account,
                provider=str(failed_at).capitalize(),
                reason=reason,
            )
        return Message(
            "The {what} for {account} failed: {reason} A team lead retries it or settles it "
            "by hand.",
            what=what,
            account=account,
            reason=reason,
        )
    if event is E.CHANGE_REQUEST_APPROVED:
        return Message(
            "{reviewer} approved the {what} for {account}. Nothing more to do.",
            reviewer=reviewer,
            what=what,
            account=account,
        )
    if event is E.CHANGE_REQUEST_REJECTED:
        return Message(
            "{reviewer} sent the {what} back to {assignee} for rework after review.",
            reviewer=reviewer,
            what=what,
            assignee=assignee,
        )
    if event is E.CHANGE_REQUEST_REOPENED:
        return Message(
            "{assignee} took the {what} up again after the review.", assignee=assignee, what=what
        )
    if event is E.CHANGE_REQUEST_AMENDED:
        return Message(
            "{processor} amended the resolution of the {what}; a team lead reviews it again.",
            processor=processor,
            what=what,
        )
    if event is E.CHANGE_REQUEST_CANCELLED:
        return Message(
            "The {what} for {account} was cancelled; nothing reached a provider.",
            what=what,
            account=account,
        )
    if event is E.CHANGE_REQUEST_BLOCKED_BY_FRAUD_STOP:
        return Message(
            "Apply was refused: a value of the {what} for {account} is on the fraud-stop list. "
            "Do not retry; a team lead decides.",
            what=what,
            account=account,
        )
    why = str(row.get("triage_reason") or "").rstrip(".")  # the lifecycle's, as the lead reads it
    why = f" {why}." if why else ""
    if event in (E.CHANGE_REQUEST_EXPIRED, E.CHANGE_REQUEST_RETURNED_TO_TRIAGE):
        return Message(
            "The {what} for {account} is back in Triage, unassigned.{why}",
            what=what,
            account=account,
            why=why,
        )
    if event is E.CHANGE_REQUEST_CUSTOMER_SILENT:
        return Message(
            "The customer has not answered about the {what} for {account}; a team lead "
            "closes or re-posts it.",
            what=what,
            account=account,
        )
    return Message(
        "The {what} for {account} is now {status}.",
        what=what,
        account=account,
        status=_status(row["status"]),
    )


def _status(status: str) -> str:
    try:
        return label_of(Status(status))
    except ValueError:
        return status.replace("_", " ")


def _applied(
    row: dict[str, Any],
    what: Message,
    account: Message,
    processor: str,
    providers: str,
    about: str,
) -> Message:
    review = (
        Message("a team lead reviews it next.")
        if row.get("review_required")
        else Message("no review needed.")
    )
    if row["kind"] == "iban_change":
        done = (
            Message(
                "Bank details changed at {providers} for {account}{about}",
                providers=providers,
                account=account,
                about=about,
            )
            if providers
            else Message("Bank details changed for {account}{about}", account=account, about=about)
        )
    elif providers:
        done = Message(
            "{what} made at {providers} for {account}",
            what=_capitalized(what),
            providers=providers,
            account=account,
        )
    else:
        done = Message("{what} made for {account}", what=_capitalized(what), account=account)
    return Message(
        "{done}. Applied by {processor}; {review}", done=done, processor=processor, review=review
    )


def _capitalized(what: Message) -> Message:
    """The phrase opening a sentence: "Plan change to Tier 2" (each language's own phrase)."""
    if what.template == "bank details change":
        return Message("Bank details change")
    if what.values:
        return Message("Plan change to {tier}", **what.values)
    return Message("Plan change")


@files_for_customers
async def clients_that_filed(customer: dict[str, Any]) -> set[str]:
    """The clients that filed a request for the customer (by any of its references)."""
    return await queries.clients_of_customer(customer)
