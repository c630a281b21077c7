"""The back office's screens: Piccolo tables over the read-model views of the migrations.

Each view holds only what its screen may show: masked IBANs, no secrets, no password hashes.
Staff appear through `StaffNames` (id, username, role), the one related table a lead's screens
link to.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from piccolo.columns import (
    UUID,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import Column
from piccolo.columns.choices import Choice
from piccolo.columns.readable import Readable
from piccolo.table import Table
from pydantic import BeforeValidator

from admin.estimated_counts import EstimatedCounts
from gateway.change_requests.states import Kind, Status
from gateway.core.errors import BillingError
from gateway.i18n import N_
from gateway.staff.roles import Role
from gateway.tickets import canonical_ticket, ticket_lookup


class Exact(Column):
    """Text that filters by equality: piccolo-api filters Varchar and Text with ILIKE '%x%',
    which no index can serve; statuses, kinds and ticket ids are matched whole."""

    value_type = str

    def __init__(self, choices: Any = None, **kwargs: Any) -> None:
        super().__init__(choices=choices, **kwargs)

    @property
    def column_type(self) -> str:
        return "VARCHAR"


def _ticket_number(typed: Any) -> Any:
    """The ticket's number in what was typed, any spelling ("Zendesk #1001", "zendesk:1001",
    "1001" -> 1001): the views' `ticket_id` is the number, and the list shows each system."""
    if not isinstance(typed, str):
        return typed
    try:
        return ticket_lookup(typed).ticket_id
    except BillingError:  # no ticket at all (control characters...): it matches nothing
        return typed.strip()


class TicketFilter(Exact):
    """A ticket's number, filtered by equality with what was typed in any spelling. (Its value
    type also reads the rows piccolo-api answers with: the views' column holds the number.)"""

    value_type = Annotated[str, BeforeValidator(_ticket_number)]


def _as_stored_ticket(typed: Any) -> Any:
    """The whole ticket in what was typed ("Zendesk #1001" -> zendesk:1001); the stored form
    is left as it is, so that rows read back unchanged."""
    if not isinstance(typed, str):
        return typed
    try:
        return canonical_ticket(typed)
    except BillingError:
        return typed.strip()


class WholeTicketFilter(Exact):
    """A whole ticket (a blocklist entry's source), matched in any spelling with its system."""

    value_type = Annotated[str, BeforeValidator(_as_stored_ticket)]


_TICKET_HELP = N_("The ticket's number, in any spelling: 1001, zendesk #1001, zendesk:1001.")


class StaffNames(Table, tablename="staff_names"):
    id = Integer(primary_key=True)
    username = Varchar()
    role = Exact(choices=Role)
    active = Boolean()

    @classmethod
    def get_readable(cls) -> Readable:
        return Readable(template="%s", columns=[cls.username])


def staff(help_text: str | None = None) -> ForeignKey[StaffNames]:
    return ForeignKey(references=StaffNames, null=True, help_text=help_text)


class MyQueue(EstimatedCounts, Table, tablename="my_queue"):
    """A specialist's own requests: the view returns only rows assigned to the signed-in user."""

    id = UUID(primary_key=True)
    ticket = Varchar()
    ticket_id = TicketFilter(help_text=_TICKET_HELP)
    kind = Exact(choices=Kind)
    status = Exact(choices=Status)
    company_name = Varchar()
    zuora_account_id = Varchar()
    stripe_customer_id = Varchar()
    stripe_connect_account_id = Varchar()
    iban = Varchar(help_text=N_("Country and last four digits only; the full IBAN is never shown."))
    bank_name = Varchar()
    bic = Varchar()
    account_holder = Varchar()
    targets = Varchar()
    # Sentences of the pre-checks, which can be longer than a Varchar's 255 characters.
    collection_in_flight = Text(help_text=N_("Is a direct debit being collected right now?"))
    other_active_bank_methods = Text()
    subscription_ref = Varchar()
    current_tier = Varchar()
    target_tier = Varchar()
    contract_signed_on = Date(null=True)
    needs_new_contract = Boolean(null=True)
    contact_reasons = Text()
    resolution_note = Text()
    resolution_reasons = Text()
    review_comment = Text(help_text=N_("A team lead's comment when the work was sent back."))
    assigned_at = Timestamptz(null=True)
    progress_at = Timestamptz()
    created_at = Timestamptz()
    same_iban_elsewhere = Text(
        help_text=N_(
            "Other open requests with this IBAN: ticket, customer, requester, client. "
            "The filer was told only that another customer has it."
        )
    )


class AllRequests(EstimatedCounts, Table, tablename="all_requests"):
    id = UUID(primary_key=True)
    ticket = Varchar()
    ticket_id = TicketFilter(help_text=_TICKET_HELP)
    kind = Exact(choices=Kind)
    status = Exact(choices=Status)
    assignee = staff()
    company_name = Varchar()
    iban = Varchar()
    target_tier = Varchar()
    contact_reasons = Text()
    processed_by = staff("Who processed it: the maker.")
    processed_at = Timestamptz(null=True)
    resolution_note = Text()
    reviewed_by = staff("Who approved or rejected it: the checker.")
    reviewed_at = Timestamptz(null=True)
    review_comment = Text()
    created_at = Timestamptz()
    progress_at = Timestamptz()


class Triage(EstimatedCounts, Table, tablename="triage"):
    """Open requests that need a lead: unassigned, stale, returned by the ticket lifecycle
    (expired, customer silent, specialist deactivated), or misrouted; `why` says which."""

    id = UUID(primary_key=True)
    ticket = Varchar()
    ticket_id = TicketFilter(help_text=_TICKET_HELP)
    kind = Exact(choices=Kind)
    status = Exact(choices=Status)
    assignee = staff()
    why = Text(help_text=N_("Why it is here; the filters below pick each reason."))
    unassigned = Boolean()
    stale = Boolean(help_text=N_("Assigned, with no progress for longer than the stale limit."))
    expired = Boolean(
        help_text=N_("Came back unassigned: no action by its specialist for the expiry limit.")
    )
    customer_silent = Boolean(
        help_text=N_("Waiting on the customer past the limit: close it or re-post it.")
    )
    returned = Boolean(help_text=N_("Came back unassigned: its specialist was deactivated."))
    reasons_mismatch = Boolean(help_text=N_("Its contact reasons do not fit its kind."))
    triage_reason_at = Timestamptz(null=True, help_text=N_("When the lifecycle put it here."))
    contact_reasons = Text()
    company_name = Varchar()
    created_at = Timestamptz()
    progress_at = Timestamptz()


class ReviewQueue(EstimatedCounts, Table, tablename="review_queue"):
    id = UUID(primary_key=True)
    ticket = Varchar()
    ticket_id = TicketFilter(help_text=_TICKET_HELP)
    kind = Exact(choices=Kind)
    processed_by = staff("Who processed it: the maker.")
    processed_at = Timestamptz()
    resolution_note = Text()
    resolution_reasons = Text()
    company_name = Varchar()
    iban = Varchar()
    target_tier = Varchar()
    created_at = Timestamptz()


class StaffAccounts(Table, tablename="staff_accounts"):
    id = Integer(primary_key=True)
    username = Varchar()
    email = Varchar()
    role = Exact(choices=Role)
    active = Boolean()
    mfa_enrolled = Boolean()
    locked = Boolean()
    locked_until = Timestamptz(null=True)
    failed_logins = Integer()
    last_login = Timestamptz(null=True)
    sessions = BigInt()  # count(*)
    created_at = Timestamptz()


class ApiKeyList(Table, tablename="api_key_list"):
    id = UUID(primary_key=True)
    prefix = Varchar()
    name = Varchar()
    client = Varchar(help_text=N_("The organisation the key belongs to; it sees its requests."))
    scopes = Text()
    rate_limit_per_minute = Integer(null=True)
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True)
    revoked_at = Timestamptz(null=True)
    last_used_at = Timestamptz(null=True)


class AuditEntries(EstimatedCounts, Table, tablename="audit_entries"):
    """The audit trail, metadata only; `seq` is empty until the sealer has chained the entry."""

    id = BigInt(primary_key=True)
    seq = BigInt(null=True)
    occurred_at = Timestamptz()
    actor_type = Exact()
    actor_id = Exact()
    action = Exact()
    target_type = Exact()
    target_id = Exact()
    request_id = Varchar(null=True)
    subject = Exact(null=True)
    payload_state = Varchar()


class EntryKind(enum.Enum):
    """The blocklist's kinds (gateway.fraud.normalise.KINDS), named as a fraud analyst says them."""

    CARD_FINGERPRINT = Choice(value="card_fingerprint", display_name=N_("Card fingerprint"))
    CARD_BIN = Choice(value="card_bin", display_name=N_("Card BIN"))
    IP = Choice(value="ip", display_name=N_("IP address"))
    IP_RANGE = Choice(value="ip_range", display_name=N_("IP range"))
    EMAIL = Choice(value="email", display_name=N_("Email"))
    IBAN = Choice(value="iban", display_name=N_("IBAN"))
    CUSTOMER = Choice(value="customer", display_name=N_("Customer"))


class Blocklist(EstimatedCounts, Table, tablename="blocklist"):
    """Fraud-stop entries, live and past. The view holds `display` only: an IBAN as country and
    last four; what the gateway stores for it (a keyed hash) never reaches a screen."""

    id = BigInt(primary_key=True)
    entry_id = BigInt(help_text=N_("Give it to Unblock entry or Bulk unblock."))
    kind = Exact(choices=EntryKind)
    display = Varchar(help_text=N_("What is blocked; an IBAN as country and last four only."))
    reason = Text()
    source_ticket = WholeTicketFilter(
        null=True, help_text=N_("Where the block came from, with its system: zendesk #1001.")
    )
    author = Varchar()
    created_at = Timestamptz()
    expires_at = Timestamptz(null=True)
    active = Boolean(help_text=N_("Blocking now: neither unblocked nor expired."))
    removed_at = Timestamptz(null=True)
    removed_by = Varchar(null=True)
    removal_reason = Text(null=True)


class BulkUnblockStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class BulkUnblockList(Table, tablename="bulk_unblock_list"):
    """Bulk unblocks: pending until a team lead or admin other than the one who asked approves."""

    id = BigInt(primary_key=True)
    bulk_unblock_id = BigInt(
        help_text=N_("Give it to Approve bulk unblock or Reject bulk unblock.")
    )
    status = Exact(choices=BulkUnblockStatus)
    entries = Text(help_text=N_("The blocklist entries it unblocks."))
    entry_count = Integer()
    reason = Text()
    requested_by = Varchar()
    requested_at = Timestamptz()
    decided_by = Varchar(null=True)
    decided_at = Timestamptz(null=True)
    completed_at = Timestamptz(null=True, help_text=N_("When every entry was unblocked."))


def _currency_code(typed: Any) -> Any:
    """A currency as typed ("eur ") is matched as its code (EUR)."""
    return typed.strip().upper() if isinstance(typed, str) else typed


class CurrencyFilter(Exact):
    """An ISO 4217 code, filtered by equality in any case."""

    value_type = Annotated[str, BeforeValidator(_currency_code)]


class ChequeState(enum.StrEnum):
    RECORDING = "recording"  # the provider write has not answered yet; a job finishes it
    RECORDED = "recorded"
    BOUNCING = "bouncing"
    BOUNCED = "bounced"
    FAILED = "failed"


class BatchState(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ProviderName(enum.StrEnum):
    ZUORA = "zuora"
    STRIPE = "stripe"


class MailedCheques(Table, tablename="mailed_cheques"):
    """Every cheque entered, as the operations team reads it: amounts as decimal text in their
    currency, the batch by its name, empty text where there is nothing."""

    id = UUID(primary_key=True)
    number = Varchar(help_text=N_("The gateway's number: the depositor's initials, day, sequence."))
    reference = Varchar(help_text=N_("The number printed on the cheque."))
    status = Exact(choices=ChequeState)
    provider = Exact(choices=ProviderName)
    account = Varchar(help_text=N_("The customer as the provider names it, with its id."))
    account_id = Exact(help_text=N_("The provider's account or customer id, whole."))
    invoice_number = Varchar(help_text=N_("Empty: a credit for the customer's next invoice."))
    amount = Varchar()
    amount_minor = BigInt()
    currency = CurrencyFilter(help_text=N_("The ISO code: EUR, USD, GBP..."))
    business_date = Date(help_text=N_("The day it was entered, in the operations time zone."))
    batch = Varchar()
    depositor = Varchar()
    invoice_status = Varchar(help_text=N_("The invoice's status as the provider stated it."))
    note = Text()
    failure = Text(help_text=N_("Why the provider refused it."))
    bounce_reason = Text()
    entered_at = Timestamptz()
    recorded_at = Timestamptz(null=True)
    bounced_at = Timestamptz(null=True)


class DepositBatches(Table, tablename="deposit_batches"):
    """The daily batches, one per day, currency and depositor (a closed one is followed by the
    next number). Count and total: the recorded cheques while open, the deposit once closed."""

    id = UUID(primary_key=True)
    name = Varchar(
        help_text=N_("Day, currency, depositor's initials, number: 2026-12-05 EUR OP #1.")
    )
    business_date = Date()
    currency = CurrencyFilter(help_text=N_("The ISO code: EUR, USD, GBP..."))
    depositor = Varchar()
    status = Exact(choices=BatchState)
    cheque_count = Integer(help_text=N_("Recorded cheques; bounced and failed ones are not in it."))
    total = Varchar(help_text=N_("The recorded cheques' total; once closed, what it deposited."))
    scanner_total = Varchar(help_text=N_("The scanner's total given at closing."))
    closed_by = Varchar()
    closed_at = Timestamptz(null=True)
    created_at = Timestamptz()
