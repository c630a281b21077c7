"""One ticket format: `system:id` ("zendesk:1001"), stored and matched everywhere.

`change_requests.ticket` replaces `ticket_system` + `ticket_id` (the ticket's URL stays in
`ticket_url`); `corrections.ticket` and `blocklist_entries.source_ticket` keep their column and
hold the same form. Existing rows are rewritten by `gateway.tickets.canonical_ticket`, the
function every writer calls, so that an old row and a new one spell a ticket alike:

- a change request's system and id become `system:id` (the id folded and trimmed: "#1001",
  " 1001", full-width digits all become 1001);
- a correction's or blocklist entry's ticket, free text until now, becomes `system:id` when it
  names one ("zendesk #77", "Zendesk:77"), and `other:<text>` when it does not ("77", "call
  with the customer"): kept, shown as written after "other #", and matched as stored. Blank
  text becomes NULL.

Two open requests of one client and kind whose tickets were the same ticket spelt two ways
("1001" and "#1001") would break the one-open-request-per-ticket index: the migration stops
and names them, for a lead to cancel one first.

The back office's views keep their columns: `ticket` is the display form ("zendesk #1001"),
`ticket_id` the stored ticket ("zendesk:1001"), which their filters match.
"""

from __future__ import annotations

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.errors import BillingError
from gateway.core.sensitive import normalised
from gateway.tickets import MAX_ID_LENGTH, canonical_ticket

ID = "2026-12-07T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one ticket format (system:id) for change requests, corrections, blocklist"

# Keep in step with OPEN_STATUSES.
_OPEN = (
    "('new', 'assigned', 'in_progress', 'waiting_customer', 'rejected',"
    " 'awaiting_approval', 'applying', 'apply_failed')"
)
_ID_OF = "substr({t}, strpos({t}, ':') + 1)"
_DISPLAY = "split_part({t}, ':', 1) || ' #' || " + _ID_OF
# The back office's "Ticket Id" filter matches the ticket's number, whatever system: a lead types
# "1001" (the index change_requests_ticket_id serves it).
_NUMBER = _ID_OF.format(t="r.ticket")
_TICKET = _DISPLAY.format(t="r.ticket")
_STALE_HOURS = "COALESCE(NULLIF(current_setting('bg.stale_hours', true), ''), '24')::integer"
_EXPIRE_DAYS = "COALESCE(NULLIF(current_setting('bg.expire_days', true), ''), '3')::integer"
_STALE = (
    "(r.status IN ('assigned', 'in_progress', 'rejected', 'apply_failed')"
    f" AND r.progress_at < now() - make_interval(hours => {_STALE_HOURS}))"
)
_EXPIRED = (
    f"(r.created_at < now() - make_interval(days => {_EXPIRE_DAYS})"
    " OR (r.status = 'waiting_customer'"
    f" AND r.progress_at < now() - make_interval(days => {_EXPIRE_DAYS})))"
)
_IN_FLIGHT = "'collection_in_flight'"
_METHODS = "'other_bank_methods', 'iban_already_on_account'"
_UNREAD = (
    "'provider_unreadable', 'collections_not_checked', 'account_not_found',"
    " 'provider_not_configured'"
)


def _sentences(codes: str) -> str:
    return (
        "(SELECT string_agg(f->>'sentence', ' ' ORDER BY n) FROM jsonb_array_elements("
        f"r.checks->'findings') WITH ORDINALITY AS x(f, n) WHERE f->>'code' IN ({codes})"
        " AND f->>'severity' <> 'ok')"
    )


def _check(codes: str, none: str) -> str:
    return (
        "CASE WHEN jsonb_typeof(r.checks) IS DISTINCT FROM 'object' THEN 'not checked yet'"
        " WHEN r.kind <> 'iban_change' THEN 'not applicable to a plan change'"
        f" ELSE COALESCE({_sentences(codes)}, {_sentences(_UNREAD)}, '{none}')"
        " || ' (checked ' || to_char((r.checks->>'computed_at')::timestamptz AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD HH24:MI') || ' UTC)' END"
    )


BEFORE_BACKFILL = [
    "ALTER TABLE change_requests ADD COLUMN ticket text",
    "DROP VIEW my_queue",
    "DROP VIEW all_requests",
    "DROP VIEW triage",
    "DROP VIEW review_queue",
]

AFTER_BACKFILL = [
    "ALTER TABLE change_requests ALTER COLUMN ticket SET NOT NULL",
    "DROP INDEX IF EXISTS change_requests_one_open_per_ticket",
    "ALTER TABLE change_requests DROP COLUMN ticket_system",
    "ALTER TABLE change_requests DROP COLUMN ticket_id",
    "CREATE UNIQUE INDEX change_requests_one_open_per_ticket"
    f" ON change_requests (client, kind, ticket) WHERE status IN {_OPEN}",
    "CREATE INDEX change_requests_ticket ON change_requests (ticket)",
    # "1001" with no system (the API's ?ticket=1001, a staff member's "1001") reads this one.
    f"CREATE INDEX change_requests_ticket_id ON change_requests (({_ID_OF.format(t='ticket')}))",
    "CREATE INDEX corrections_ticket ON corrections (ticket) WHERE ticket IS NOT NULL",
    "CREATE INDEX blocklist_entries_source_ticket ON blocklist_entries (source_ticket)"
    " WHERE source_ticket IS NOT NULL",
    f"""
    CREATE VIEW my_queue AS
    SELECT r.id, {_TICKET} AS ticket, {_NUMBER} AS ticket_id, r.kind, r.status, r.company_name,
           r.zuora_account_id, r.stripe_customer_id, r.stripe_connect_account_id,
           r.details->>'iban_masked' AS iban, r.details->>'bank_name' AS bank_name,
           r.details->>'bic' AS bic, r.details->>'account_holder' AS account_holder,
           (SELECT string_agg(target, ', ') FROM jsonb_array_elements_text(r.details->'targets')
             AS target) AS targets,
           {_check(_IN_FLIGHT, "No direct debit is being collected.")} AS collection_in_flight,
           {_check(_METHODS, "No other active bank method.")} AS other_active_bank_methods,
           r.details->>'subscription_ref' AS subscription_ref,
           r.details->>'current_tier' AS current_tier,
           r.details->'target_tier'->>'name' AS target_tier,
           (r.details->>'contract_signed_on')::date AS contract_signed_on,
           ((r.details->>'needs_new_contract')::boolean
             AND jsonb_typeof(r.contract_return) IS DISTINCT FROM 'object')
             AS needs_new_contract,
           array_to_string(r.contact_reasons, '; ') AS contact_reasons,
           r.resolution_note, array_to_string(r.resolution_reasons, '; ') AS resolution_reasons,
           r.review_comment, r.assigned_at, r.progress_at, r.created_at,
           (SELECT string_agg({_DISPLAY.format(t="o.ticket")} || ': '
                   || concat_ws(', ', o.company_name, o.backoffice_id, o.zuora_account_id,
                                o.stripe_customer_id, o.stripe_connect_account_id,
                                o.requester->>'email')
                   || ' (' || o.status || ', client ' || o.client || ')',
                   '; ' ORDER BY o.created_at)
              FROM change_requests o
             WHERE o.iban_hash = r.iban_hash AND o.id <> r.id AND o.status <> 'cancelled')
             AS same_iban_elsewhere
      FROM change_requests r
     WHERE r.assignee_id = NULLIF(current_setting('bg.staff_user_id', true), '')::integer
    """,
    f"""
    CREATE VIEW all_requests AS
    SELECT r.id, {_TICKET} AS ticket, {_NUMBER} AS ticket_id, r.kind, r.status,
           r.assignee_id AS assignee,
           r.company_name, r.details->>'iban_masked' AS iban,
           r.details->'target_tier'->>'name' AS target_tier,
           array_to_string(r.contact_reasons, '; ') AS contact_reasons,
           r.processed_by_id AS processed_by, r.processed_at, r.resolution_note,
           r.reviewed_by_id AS reviewed_by, r.reviewed_at, r.review_comment, r.created_at,
           r.progress_at
      FROM change_requests r
    """,
    f"""
    CREATE VIEW triage AS
    SELECT r.id, {_TICKET} AS ticket, {_NUMBER} AS ticket_id, r.kind, r.status,
           r.assignee_id AS assignee,
           r.assignee_id IS NULL AS unassigned, {_STALE} AS stale, {_EXPIRED} AS expired,
           NOT r.contact_reasons_fit_kind AS reasons_mismatch,
           array_to_string(r.contact_reasons, '; ') AS contact_reasons,
           r.company_name, r.created_at, r.progress_at
      FROM change_requests r
     WHERE r.status IN {_OPEN}
       AND (r.assignee_id IS NULL OR {_STALE} OR {_EXPIRED} OR NOT r.contact_reasons_fit_kind)
    """,
    f"""
    CREATE VIEW review_queue AS
    SELECT r.id, {_TICKET} AS ticket, {_NUMBER} AS ticket_id, r.kind,
           r.processed_by_id AS processed_by, r.processed_at,
           r.resolution_note, array_to_string(r.resolution_reasons, '; ') AS resolution_reasons,
           r.company_name, r.details->>'iban_masked' AS iban,
           r.details->'target_tier'->>'name' AS target_tier, r.created_at
      FROM change_requests r
     WHERE r.status IN ('applied', 'processed') AND r.review_required
    """,
]


def request_ticket(system: str, ticket_id: str) -> str:
    """A change request's old system and id as one ticket."""
    try:
        return canonical_ticket(ticket_id, system)
    except BillingError:  # the API checked both when they were filed: not expected
        return f"{system.strip().lower()}:{ticket_id.strip()}"


def free_text_ticket(text: str | None, limit: int | None = None) -> str | None:
    """A correction's or blocklist entry's ticket, free text until now, as one ticket:
    `system:id` when it names one, else `other:<text>` (folded, one line); blank: None."""
    if text is None or not text.strip():
        return None
    try:
        ticket = canonical_ticket(text)
    except BillingError:
        folded = " ".join(normalised(text).split())
        if not folded:
            return None
        ticket = f"other:{folded[: MAX_ID_LENGTH * 3]}"
    return ticket[:limit] if limit else ticket


async def _rewrite(connection: Any, table: str, column: str, limit: int | None) -> None:
    rows = await connection.fetch(
        f"SELECT DISTINCT {column} AS old FROM {table} WHERE {column} IS NOT NULL"
    )
    pairs = [(row["old"], free_text_ticket(row["old"], limit)) for row in rows]
    changed = [(old, new) for old, new in pairs if old != new]
    if changed:
        await connection.execute(
            f"UPDATE {table} t SET {column} = c.new"
            " FROM unnest($1::text[], $2::text[]) AS c(old, new) WHERE t." + column + " = c.old",
            [old for old, _ in changed],
            [new for _, new in changed],
        )


async def backfill(connection: Any) -> None:
    """Every stored ticket in the one form (an asyncpg connection, inside the migration's
    transaction): change requests from their system and id, corrections and blocklist
    sources from their text."""
    pairs = await connection.fetch(
        "SELECT DISTINCT ticket_system, ticket_id FROM change_requests WHERE ticket IS NULL"
    )
    if pairs:
        await connection.execute(
            "UPDATE change_requests r SET ticket = c.ticket"
            " FROM unnest($1::text[], $2::text[], $3::text[]) AS c(system, id, ticket)"
            " WHERE r.ticket_system = c.system AND r.ticket_id = c.id",
            [pair["ticket_system"] for pair in pairs],
            [pair["ticket_id"] for pair in pairs],
            [request_ticket(pair["ticket_system"], pair["ticket_id"]) for pair in pairs],
        )
    clashes = await connection.fetch(
        "SELECT string_agg(id::text, ', ' ORDER BY created_at) AS ids, min(ticket) AS ticket"
        f" FROM change_requests WHERE status IN {_OPEN}"
        " GROUP BY client, kind, ticket HAVING count(*) > 1"
    )
    if clashes:
        named = "; ".join(f"{clash['ticket']}: {clash['ids']}" for clash in clashes)
        raise RuntimeError(
            "Open change requests of the same client and kind name one ticket in two "
            f"spellings; cancel all but one of each, then migrate again ({named})."
        )
    await _rewrite(connection, "corrections", "ticket", None)
    await _rewrite(connection, "blocklist_entries", "source_ticket", 130)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="gateway", description=DESCRIPTION)

    async def run() -> None:
        from gateway.core.db.connection import engine

        database = engine()
        for statement in BEFORE_BACKFILL:
            await database.run_ddl(statement)
        current = database.current_transaction.get()  # the migration's own
        if current is not None:
            await backfill(current.connection)
        else:
            async with database.transaction() as transaction:
                await backfill(transaction.connection)
        for statement in AFTER_BACKFILL:
            await database.run_ddl(statement)

    manager.add_raw(run)
    return manager
