"""Live pre-checks stored on the request, and the contract gate's record.

`checks` holds the gateway's last reading of the providers (findings, provider state, the plan
preview), written by `ChecksService.refresh` when a request is claimed, on demand and right
before Apply. `contract_return` records who saw the new contract come back, when and how.

My Queue's pre-check columns, which read `details->'checks'` that nothing ever wrote (so they
always said "not checked yet"), now show the findings' sentences: the debit being collected
(or that none is, or that the provider could not be read), and the other active bank methods.
`needs_new_contract` is lifted once the new contract is recorded.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-05T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "change requests: live pre-checks and the contract's return"

_TICKET = "r.ticket_system || ' #' || r.ticket_id"
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
    """A pre-check column: its findings' sentences, else what the provider could not say, else
    `none`; with when it was read."""
    return (
        # (a row filed through Piccolo holds JSON null rather than SQL NULL)
        "CASE WHEN jsonb_typeof(r.checks) IS DISTINCT FROM 'object' THEN 'not checked yet'"
        " WHEN r.kind <> 'iban_change' THEN 'not applicable to a plan change'"
        f" ELSE COALESCE({_sentences(codes)}, {_sentences(_UNREAD)}, '{none}')"
        " || ' (checked ' || to_char((r.checks->>'computed_at')::timestamptz AT TIME ZONE 'UTC',"
        " 'YYYY-MM-DD HH24:MI') || ' UTC)' END"
    )


FORWARDS = [
    "ALTER TABLE change_requests ADD COLUMN checks jsonb",
    "ALTER TABLE change_requests ADD COLUMN contract_return jsonb",
    f"""
    CREATE OR REPLACE VIEW my_queue AS
    SELECT r.id, {_TICKET} AS ticket, r.ticket_id, r.kind, r.status, r.company_name,
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
           (SELECT string_agg(o.ticket_system || ' #' || o.ticket_id || ': '
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
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
