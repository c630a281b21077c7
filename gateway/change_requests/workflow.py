"""The back office's work on change requests: claim, progress, process, review.

Every step locks the row, checks who may take it (the role, the assignee, maker-checker) and
the state machine, writes the change and its audit entry in one transaction. The checks are
here, on the server, whatever screen or HTTP call asked for the step.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from audit import AuditEntry, append
from audit.actions import Action
from gateway.change_requests import queries
from gateway.change_requests.notification_events import record_transition
from gateway.change_requests.queries import NOW
from gateway.change_requests.references import parse_request_reference
from gateway.change_requests.service import _refuse_if_applied
from gateway.change_requests.states import Kind, Named, Status, Transition, next_status
from gateway.core.customers import references_of
from gateway.core.db.connection import fetch, transaction
from gateway.core.errors import BillingError, ErrorCode
from gateway.core.log import get_logger
from gateway.core.sensitive import refuse_card_or_iban
from gateway.i18n import Message
from gateway.staff import queries as staff_queries
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from gateway.tickets import display_ticket
from settings import Settings

_log = get_logger("workflow")

# A specialist moves their own request with these; the others belong to claim, process, review.
SPECIALIST_STEPS = (
    Transition.START,
    Transition.WAIT_FOR_CUSTOMER,
    Transition.RESUME,
    Transition.REWORK,
)


@dataclass(frozen=True)
class WorkItem:
    id: uuid.UUID
    ticket: str  # as screens show it: "zendesk #1001"
    kind: Kind
    status: Status
    processed_by_id: int | None = None
    customer: dict[str, object] = field(default_factory=dict)  # its references


def _refuse_sensitive_text(text: str) -> None:
    """Notes and comments are shown on every back-office screen: no bank or card details."""
    refuse_card_or_iban(
        text,
        card=Message("The text holds a card number. Card numbers are never stored; leave it out."),
        iban=Message(
            "The text holds an IBAN. Leave it out: the request already carries the bank "
            "details, masked, and a note is shown to everyone who opens the request."
        ),
        iban_first=True,
    )


def _require_role(staff: StaffMember, *roles: Role) -> None:
    if staff.role not in roles:
        allowed = Named(" or ".join(role.value.replace("_", " ") for role in roles), *roles)
        raise BillingError(
            ErrorCode.ROLE_NOT_ALLOWED, Message("Only a {allowed} can do this.", allowed=allowed)
        )


async def _defer_checks(request_id: uuid.UUID) -> None:
    """The live pre-checks, read from the providers by a job once the claim is committed (by
    name: change requests never import fulfilment). A queue that cannot be reached now costs
    only freshness: Apply refreshes the checks again before it plans."""
    from gateway.core.jobs import job_app

    try:
        await job_app.configure_task("fulfilment.refresh_checks").defer_async(
            request_id=str(request_id), moment="claim"
        )
    except Exception as error:
        _log.warning("pre-checks not deferred after a claim", error=str(error))


class WorkflowService:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def claim_next(self, staff: StaffMember, kind: Kind | None = None) -> WorkItem:
        """The oldest unassigned request (of `kind`, if given) becomes the specialist's, started."""
        _require_role(staff, Role.SPECIALIST)
        async with transaction():
            rows = await fetch(queries.LOCK_NEXT_UNCLAIMED, kind.value if kind else None)
            if not rows:
                what = f"{kind.value.replace('_', ' ')} requests" if kind else "requests"
                raise BillingError(
                    ErrorCode.NOTHING_TO_CLAIM, f"No unassigned {what} are waiting. Well done."
                )
            item = await self._locked(staff, str(rows[0]["id"]), within_own_queue=False)
            item = await self._move(staff, item, Transition.ASSIGN, assignee_id=staff.id)
            item = await self._move(staff, item, Transition.START)
        await _defer_checks(item.id)
        return item

    async def step(self, staff: StaffMember, reference: str, transition: Transition) -> WorkItem:
        """Start, wait for the customer, resume, or take a rejected request up again."""
        _require_role(staff, Role.SPECIALIST)
        if transition not in SPECIALIST_STEPS:
            raise BillingError(ErrorCode.ROLE_NOT_ALLOWED, Message("This step has its own screen."))
        async with transaction():
            item = await self._locked(staff, reference)
            return await self._move(staff, item, transition)

    async def amend(
        self, staff: StaffMember, reference: str, note: str, reasons: list[str]
    ) -> WorkItem:
        """Edit a processed request's resolution. An approval it had is void: it is reviewed
        again, by someone other than whoever amended it."""
        _require_role(staff, Role.SPECIALIST, Role.TEAM_LEAD)
        self._check_reasons(reasons)
        _refuse_sensitive_text(note)
        async with transaction():
            item = await self._locked(staff, reference)
            voided = item.status is Status.APPROVED
            item = await self._move(
                staff,
                item,
                Transition.AMEND,
                processed_by_id=staff.id,
                resolution_note=note,
                resolution_reasons=reasons,
                review_required=True,
                reviewed_by_id=None,
                reviewed_at=None,
            )
            if voided:
                await self._audit(
                    staff, item, Action.CHANGE_REQUEST_VOID_APPROVAL_SUCCEEDED, {}, {}
                )
            return item

    async def assign(self, staff: StaffMember, reference: str, assignee_username: str) -> WorkItem:
        _require_role(staff, Role.TEAM_LEAD)
        assignees = await fetch(
            staff_queries.ACTIVE_WITH_USERNAME_AND_ROLE,
            assignee_username,
            Role.SPECIALIST.value,
        )
        if not assignees:
            raise BillingError(
                ErrorCode.STAFF_NOT_FOUND,
                Message("No active specialist is called {name}.", name=repr(assignee_username)),
            )
        async with transaction():
            item = await self._locked(staff, reference)
            return await self._move(staff, item, Transition.ASSIGN, assignee_id=assignees[0]["id"])

    async def close(self, staff: StaffMember, reference: str, reason: str) -> WorkItem:
        """A team lead closes a request nothing was applied of (the customer did not answer,
        or withdrew): cancelled, with the reason the help desk is told."""
        _require_role(staff, Role.TEAM_LEAD)
        _refuse_sensitive_text(reason)
        async with transaction():
            item = await self._locked(staff, reference)
            await _refuse_if_applied(item.id)
            return await self._move(
                staff,
                item,
                Transition.CANCEL,
                cancelled_at=NOW,
                cancellation_reason=reason,
            )

    async def repost(self, staff: StaffMember, reference: str) -> WorkItem:
        """A team lead puts a request waiting on a silent customer back in work with its
        specialist (to ask the customer again); reassigning it is `assign`."""
        _require_role(staff, Role.TEAM_LEAD)
        async with transaction():
            item = await self._locked(staff, reference)
            return await self._move(staff, item, Transition.RESUME)

    async def approve(self, staff: StaffMember, reference: str) -> WorkItem:
        _require_role(staff, Role.TEAM_LEAD)
        return await self._review(staff, reference, Transition.APPROVE)

    async def reject(self, staff: StaffMember, reference: str, comment: str) -> WorkItem:
        """Back to the specialist who did it, with the reviewer's comment."""
        _require_role(staff, Role.TEAM_LEAD)
        _refuse_sensitive_text(comment)
        return await self._review(staff, reference, Transition.REJECT, review_comment=comment)

    async def _review(
        self, staff: StaffMember, reference: str, transition: Transition, **changes: Any
    ) -> WorkItem:
        """Approve or reject, never by the request's maker. A refused review of a request is
        recorded once its transaction has rolled back, as every refusal is."""
        item: WorkItem | None = None
        try:
            async with transaction():
                item = await self._locked(staff, reference)
                self._refuse_maker(staff, item)
                return await self._move(
                    staff, item, transition, reviewed_by_id=staff.id, reviewed_at=NOW, **changes
                )
        except BillingError as refusal:
            if item is not None:
                after = {"code": refusal.code.value}
                await self._audit(
                    staff, item, Action.named("change_request", transition, "refused"), {}, after
                )
            raise

    # -- helpers ---------------------------------------------------------------------------

    def _check_reasons(self, reasons: list[str]) -> None:
        unknown = [reason for reason in reasons if reason not in self._settings.all_contact_reasons]
        if unknown or not reasons:
            raise BillingError(
                ErrorCode.CONTACT_REASON_UNKNOWN,
                Message(
                    "Choose at least one contact-reason code from the list; not known: {unknown}.",
                    unknown=", ".join(unknown),
                )
                if unknown
                else Message("Choose at least one contact-reason code from the list."),
            )

    async def _locked(
        self, staff: StaffMember, reference: str, *, within_own_queue: bool = True
    ) -> WorkItem:
        """The request named by its id or ticket ("zendesk #1001", "1001"), locked.

        A specialist reaches only requests assigned to them; any other reference is "not
        found", so that guessing ids tells them nothing.
        """
        reference = reference.strip()
        scoped = within_own_queue and staff.role is Role.SPECIALIST
        named = parse_request_reference(reference)
        rows = await queries.lock_named(named, staff.id if scoped else None)
        if not rows:
            raise BillingError(
                ErrorCode.NOT_YOUR_REQUEST if scoped else ErrorCode.CHANGE_REQUEST_NOT_FOUND,
                Message(
                    "No request {reference} in your queue. Use the request id or the ticket as "
                    "shown in the list (for example: zendesk #1001).",
                    reference=repr(reference),
                )
                if scoped
                else Message(
                    "No request {reference}. Use the request id or the ticket as shown in the "
                    "list (for example: zendesk #1001).",
                    reference=repr(reference),
                ),
            )
        if len(rows) > 1:
            raise BillingError(
                ErrorCode.VALIDATION_FAILED,
                f"Several requests match {reference!r}; use the request id from the list.",
            )
        row = rows[0]
        return WorkItem(
            row["id"],
            display_ticket(row["ticket"]),
            Kind(row["kind"]),
            Status(row["status"]),
            row["processed_by_id"],
            references_of(row),
        )

    @staticmethod
    def _refuse_maker(staff: StaffMember, item: WorkItem) -> None:
        if item.processed_by_id == staff.id:
            raise BillingError(
                ErrorCode.MAKER_CANNOT_REVIEW,
                Message("You applied this request, so another team lead must review it."),
            )

    async def _move(
        self, staff: StaffMember, item: WorkItem, transition: Transition, **changes: Any
    ) -> WorkItem:
        target = next_status(item.status, transition)
        changes = {"status": target.value, **changes}
        await queries.move(item.id, changes)
        after = {key: value for key, value in changes.items() if value is not NOW}
        await self._audit(
            staff,
            item,
            Action.named("change_request", transition, "succeeded"),
            {"status": item.status},
            after,
        )
        await record_transition(item.id, transition)
        processed_by = changes.get("processed_by_id", item.processed_by_id)
        return WorkItem(item.id, item.ticket, item.kind, target, processed_by, item.customer)

    async def _audit(
        self,
        staff: StaffMember,
        item: WorkItem,
        action: Action,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        await append(
            AuditEntry(
                action=action,
                actor=staff.actor,
                about={"id": item.id, **item.customer},
                before=before,
                after=after,
            )
        )
