"""The operations back office's screens: read-only views over the cheques and their batches.

`mailed_cheques` and `deposit_batches` hold what the operations team reads, as people read it:
amounts as decimal text in their currency ("120.00 EUR", "15000 JPY", "1.250 KWD", by the ISO
4217 exponent, as adapters/money.py knows it), a batch by its name ("2026-12-05 EUR OP #1"),
staff by username, and empty text rather than NULL. A batch's count and total are its
`recorded` cheques while it is open, and what it deposited once closed (a cheque that bounces
later stays in the deposit it went to the bank with).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from gateway.core.db.raw_migration import sql_migration

ID = "2026-12-08T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "cheques: the operations back office's views"

# ISO 4217 exponents other than 2, as adapters/money.py lists them (kept here as they were when
# this migration ran: a migration never changes with the code).
_ZERO = (
    "'BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG', 'RWF', 'UGX', 'UYI',"
    " 'VND', 'VUV', 'XAF', 'XOF', 'XPF', 'BYR'"
)
_THREE = "'BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND'"
_FOUR = "'CLF', 'UYW'"
# "<date> <currency> <initials> #<sequence>"
_BATCH_NAME = (
    "to_char(b.business_date, 'YYYY-MM-DD') || ' ' || b.currency || ' '"
    " || b.depositor_initials || ' #' || b.sequence"
)
# The batch's total: its recorded cheques, or once closed its deposit (scalar subqueries: a page of batches, or
# their count, reads no cheque it does not show).
_RECORDED = (
    "c.batch_id = b.id AND CASE WHEN b.status = 'closed' THEN c.deposited_at IS NOT NULL"
    " ELSE c.status = 'recorded' END"
)

FORWARDS = [
    f"""
    CREATE FUNCTION money_text(amount_minor bigint, currency text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT round(amount_minor::numeric / (10::numeric ^ e), e)::text || ' ' || upper(currency)
          FROM (SELECT CASE WHEN upper(currency) IN ({_ZERO}) THEN 0
                            WHEN upper(currency) IN ({_THREE}) THEN 3
                            WHEN upper(currency) IN ({_FOUR}) THEN 4
                            ELSE 2 END AS e) AS exponent
    $$
    """,
    f"""
    CREATE VIEW mailed_cheques AS
    SELECT c.id, c.number, c.reference, c.status, c.provider,
           CASE WHEN COALESCE(c.account_name, '') = ''
                THEN COALESCE(c.account_number, c.account_id)
                ELSE c.account_name || ' (' || COALESCE(c.account_number, c.account_id) || ')'
                END AS account,
           c.account_id,
           COALESCE(c.invoice_number, c.invoice_id, '') AS invoice_number,
           money_text(c.amount_minor, c.currency) AS amount, c.amount_minor, c.currency,
           c.business_date, {_BATCH_NAME} AS batch, b.depositor_username AS depositor,
           COALESCE(c.invoice_status, '') AS invoice_status,
           COALESCE(c.note, '') AS note, COALESCE(c.failure, '') AS failure,
           COALESCE(c.bounce_reason, '') AS bounce_reason,
           c.entered_at, c.recorded_at, c.bounced_at
      FROM cheques c
      JOIN cheque_batches b ON b.id = c.batch_id
    """,
    f"""
    CREATE VIEW deposit_batches AS
    SELECT b.id, {_BATCH_NAME} AS name, b.business_date, b.currency,
           b.depositor_username AS depositor, b.status,
           (SELECT count(*) FROM cheques c WHERE {_RECORDED})::integer AS cheque_count,
           money_text((SELECT COALESCE(sum(c.amount_minor), 0) FROM cheques c
                        WHERE {_RECORDED})::bigint, b.currency) AS total,
           CASE WHEN b.scanner_total_minor IS NULL THEN ''
                ELSE money_text(b.scanner_total_minor, b.currency) END AS scanner_total,
           COALESCE(b.closed_by_username, '') AS closed_by, b.closed_at, b.created_at
      FROM cheque_batches b
    """,
]


async def forwards() -> MigrationManager:
    return sql_migration(ID, DESCRIPTION, FORWARDS)
