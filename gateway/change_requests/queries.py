"""Every statement on `change_requests`, for the API, the back office, Apply, the lifecycle, the
notifications and the metrics: nothing else writes SQL on the table (tests/unit hold to that).
Each list of customer references comes from CUSTOMER_REFERENCES. The constants run with
`gateway.core.db.connection.fetch`; everything runs in the caller's transaction, if any."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from asyncpg import UniqueViolationError
from piccolo.columns import JSON, JSONB
from piccolo.query import WhereRaw

from audit import store as audit_store
from gateway.change_requests.references import RequestReference
from gateway.change_requests.states import OPEN_STATUSES
from gateway.change_requests.tables import ChangeRequest
from gateway.core.customers import CUSTOMER_REFERENCES
from gateway.core.db import batches
from gateway.core.db.connection import fetch
from gateway.core.db.rows import as_json
from gateway.idempotency import queries as idempotency_queries
from gateway.notifications import queries as notification_queries
from gateway.tickets import TICKET_ID_SQL, TicketLookup

Row = dict[str, Any]


def _references(prefix: str = "") -> str:
    return ", ".join(prefix + name for name in CUSTOMER_REFERENCES)


class Now:
    """A value that sets its column to the database's now()."""


NOW: Any = Now()
# Literal, as the partial index `change_requests_open` is declared: the planner proves it.
_OPEN = ", ".join(f"'{status.value}'" for status in sorted(OPEN_STATUSES))
# The statuses of a specialist's work in hand.
_SPECIALIST_WORK = "('assigned', 'in_progress', 'waiting_customer')"

ROW = "SELECT * FROM change_requests WHERE id = $1"
LOCK_ROW = ROW + " FOR NO KEY UPDATE"

# -- the API -------------------------------------------------------------------------------------

OPEN_DUPLICATE = (
    "SELECT id FROM change_requests WHERE client = $1 AND kind = $2 AND ticket = $3"  # noqa: S608
    f" AND status IN ({_OPEN}) LIMIT 1"
)
FILED_WITH_KEY = "SELECT id FROM change_requests WHERE api_key = $1 AND idempotency_key = $2"


Answer = tuple[uuid.UUID, str, int, str, bytes]  # API key, Idempotency-Key, status, type, body


@functools.cache
def _file_sql(audit: str | None, told: bool, fresh: bool, unseen_iban: bool = False) -> str:
    """One round trip, one commit for all of filing: the key's record (locked, or inserted
    when `fresh`: not claimed yet), the audit entry (`audit`: "live" under the subject's live
    key, "erased" for a forgotten subject), the row, the answer and the FILED event. The row's
    columns are $1..$n, then the API key, the Idempotency-Key and the answer (status, content
    type, body), then for `fresh` the request's fingerprint, method and path, then for
    `unseen_iban` the IBAN's hash, then the entry's values, then the event's. Nothing is
    written when a racing attempt with the same key committed first (`earlier`: its answer,
    which the caller returns instead; for `fresh`, the statement fails on the key's unique
    index), when the entry's data key is no longer live (`filed` false: prepare it again), nor
    with `unseen_iban` when a request not cancelled has that IBAN (`iban_on_file`: the row
    was built saying none has; the caller reads them and files again). That is read by the
    database's iban_on_file() once every other filing of the IBAN under way has committed."""
    columns = ChangeRequest._meta.columns
    names = ", ".join(f'"{column._meta.db_column_name}"' for column in columns)
    values = ", ".join(
        f"${n}::jsonb" if isinstance(column, JSON | JSONB) else f"${n}"
        for n, column in enumerate(columns, start=1)
    )
    api_key, key, status, content_type, body = (f"${len(columns) + n}" for n in range(1, 6))
    answer = {
        "api_key": f"{api_key}::uuid",
        "key": f"{key}::text",
        "status": f"{status}::integer",
        "content_type": f"{content_type}::text",
        "body": f"{body}::bytea",
    }
    after = len(columns) + 6  # the number of the first parameter after the answer's
    if fresh:
        fingerprint, method, path = (f"${after + n}" for n in range(3))
        after += 3
    conditions = [] if fresh else ["NOT EXISTS (SELECT 1 FROM earlier)"]
    on_file, seen = "", "FALSE"
    if unseen_iban:
        # Checked by the statement itself: the common case, an IBAN nobody filed, costs no
        # read of its own. iban_on_file() waits for other filings of the IBAN to commit first.
        on_file = f"on_file AS (SELECT iban_on_file(${after}::text) AS seen),\n"
        after += 1
        seen = "(SELECT seen FROM on_file)"
        conditions.append(f"NOT {seen}")
    gate = f"(SELECT 1{' WHERE ' if conditions else ''}{' AND '.join(conditions)}) AS fresh"
    # The row goes in only with its audit entry: the entry's INSERT is the row's gate.
    audited = ""
    if audit is not None:
        entry = audit_store.entry_cte(gate, live_key=audit == "live")
        audited = f"audited AS ({audit_store.numbered_from(entry, after)}),\n"
        gate, after = "audited", after + (AUDIT_VALUES if audit == "live" else AUDIT_VALUES - 1)
    event = ""
    if told:
        ctes = notification_queries.EVENT_CTES.format(gate="filed")
        event = f",{audit_store.numbered_from(ctes, after)}"
    if fresh:
        claimed = idempotency_queries.CLAIM_WITH_ANSWER.format(
            **answer,
            fingerprint=f"{fingerprint}::text",
            method=f"{method}::text",
            path=f"{path}::text",
            changed=gate,
        )
        return f"""
WITH {on_file}{audited}claimed AS ({claimed}),
filed AS (
    INSERT INTO change_requests ({names}) SELECT {values} FROM claimed RETURNING 1
){event}
SELECT NULL::bytea AS earlier, EXISTS (SELECT 1 FROM filed) AS filed, {seen} AS iban_on_file
"""  # noqa: S608 (identifiers from the table class, never from input)
    held = idempotency_queries.HELD.format(api_key=answer["api_key"], key=answer["key"])
    store = idempotency_queries.STORE_IF_CHANGED.format(**answer, changed="filed")
    return f"""
WITH {on_file}held AS ({held}),
earlier AS (
    SELECT response_body FROM held WHERE state = 'done' AND response_status BETWEEN 200 AND 299
),
{audited}filed AS (
    INSERT INTO change_requests ({names}) SELECT {values} FROM {gate} RETURNING 1
),
answered AS ({store}){event}
SELECT (SELECT response_body FROM earlier) AS earlier, EXISTS (SELECT 1 FROM filed) AS filed,
       {seen} AS iban_on_file
"""  # noqa: S608 (identifiers from the table class, never from input)


# Each column's attribute name, and whether its value is sent as JSON text.
_COLUMNS = [
    (column._meta.name, isinstance(column, JSON | JSONB)) for column in ChangeRequest._meta.columns
]


def row_dict(row: ChangeRequest) -> Row:
    """`row.to_dict()` for a row being filed (no joins), without Piccolo's generality: its
    values are read where the columns' descriptors keep them."""
    values = vars(row)
    return {name: values[name] for name, _json in _COLUMNS}


AUDIT_VALUES = 11  # a PreparedEntry's values and its key id


class KeyReplaced(Exception):  # noqa: N818 (not an error: the caller prepares the entry again)
    """Nothing was filed: the audit entry's data key is no longer its subject's live key."""


class KeyTaken(Exception):  # noqa: N818 (not an error: the body guard answers as for a claim)
    """Nothing was filed: the Idempotency-Key the statement was to claim is held already."""


class IbanOnFile(Exception):  # noqa: N818 (not an error: the caller reads them, files again)
    """Nothing was filed: a request not cancelled has the IBAN the row says nobody has."""


Fresh = tuple[str, str, str]  # an unclaimed key's request: fingerprint, method, path


async def file(
    row: ChangeRequest,
    answer: Answer | None,
    *,
    audit: audit_store.PreparedEntry | None = None,
    event: list[Any] | None = None,
    fresh: Fresh | None = None,
    unseen_iban: str | None = None,
) -> bytes | None:
    """Insert `row`, with its audit entry and its event when given, and store `answer` under
    its key, in one statement (autocommit unless the caller opened a transaction); the answer
    a racing attempt with the same key committed first, if one did (then nothing is written).
    With `fresh`, the key is not claimed yet: the statement claims it, or raises KeyTaken.
    With `unseen_iban` (an IBAN's hash), the row says no request has that IBAN: IbanOnFile
    when one not cancelled has it. Raises KeyReplaced when the entry's key was forgotten or
    replaced meanwhile."""
    given = vars(row)  # where the columns' descriptors keep the values (row_dict)
    values = [
        as_json(value) if json and not isinstance(value, str) else value
        for name, json in _COLUMNS
        for value in (given[name],)
    ]
    values.extend(answer or (None, None, None, None, None))
    if fresh is not None:
        values.extend(fresh)
    if unseen_iban is not None:
        values.append(unseen_iban)
    kind = None
    if audit is not None:
        kind = "erased" if audit.key_id is None else "live"
        values.extend(audit.values)
        if audit.key_id is not None:
            values.append(audit.key_id)
    if event is not None:
        values.extend(event)
    try:
        sql = _file_sql(kind, event is not None, fresh is not None, unseen_iban is not None)
        result = await batches.fetch_one(sql, *values)
    except UniqueViolationError as violation:
        if fresh is not None and violation.constraint_name == idempotency_queries.CLIENT_KEY:
            raise KeyTaken from None
        raise
    earlier: bytes | None = result["earlier"]
    if earlier is None and not result["filed"]:
        raise IbanOnFile if result["iban_on_file"] else KeyReplaced
    return earlier


# $2 the status, $3 the reason, $4 the time.
CANCEL = """
UPDATE change_requests SET status = $2, cancellation_reason = $3, cancelled_at = $4,
       updated_at = $4 WHERE id = $1
"""
# Others' requests for the IBAN whose hash is $1.
SAME_IBAN = f"""
SELECT id, client, {_references()} FROM change_requests
 WHERE iban_hash = $1 AND status <> 'cancelled' ORDER BY created_at, id LIMIT 200
"""  # noqa: S608 (constants)

_READ_COLUMNS = [
    column
    for column in ChangeRequest._meta.columns
    if column._meta.name
    not in {"iban_ciphertext", "iban_hash", "api_key", "client", "idempotency_key"}
]


def _visible(client: str | None) -> list[Any]:
    """`client` None: every client's requests."""
    return [] if client is None else [ChangeRequest.client == client]


async def read(request_id: uuid.UUID, client: str | None) -> Row | None:
    query = ChangeRequest.select(*_READ_COLUMNS).output(load_json=True)
    return await query.where(ChangeRequest.id == request_id, *_visible(client)).first()


async def newest_first(
    client: str | None,
    *,
    status: str | None,
    kind: str | None,
    ticket: TicketLookup | None,
    customer: str | None,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Row]:
    """Up to `limit` rows, newest first, before the (created_at, id) of `before`."""
    conditions: list[Any] = _visible(client)
    if status:
        conditions.append(ChangeRequest.status == status)
    if kind:
        conditions.append(ChangeRequest.kind == kind)
    if ticket and ticket.ticket is not None:
        conditions.append(ChangeRequest.ticket == ticket.ticket)
    elif ticket:  # "1001" alone matches that id in any system
        conditions.append(WhereRaw(f"{TICKET_ID_SQL} = {{}}", ticket.ticket_id))
    if customer:
        conditions.append(WhereRaw(f"{{}} IN ({_references()}, company_name)", customer))
    if before:
        conditions.append(WhereRaw("(created_at, id) < ({}, {})", *before))
    query = ChangeRequest.select(*_READ_COLUMNS).output(load_json=True)
    if conditions:
        query = query.where(*conditions)
    order = query.order_by(ChangeRequest.created_at, ChangeRequest.id, ascending=False)
    return await order.limit(limit)


async def lock_status(request_id: uuid.UUID, client: str | None) -> Row | None:
    references = (getattr(ChangeRequest, name) for name in CUSTOMER_REFERENCES)
    query = ChangeRequest.select(ChangeRequest.status, *references)
    query = query.where(ChangeRequest.id == request_id, *_visible(client))
    return await query.lock_rows("NO KEY UPDATE").first()


# -- fraud-stop, the back office's steps and the lifecycle ------------------------------------

# The (at most two) requests named by $1 the id, $2 the ticket or $3 the ticket's id alone.
_NAMED = (
    f"(id = $1 OR ($1 IS NULL AND ($2::text IS NULL OR ticket = $2)"
    f" AND ($2::text IS NOT NULL OR {TICKET_ID_SQL} = $3))) ORDER BY created_at DESC LIMIT 2"
)


async def fraud_targets(reference: RequestReference) -> list[Row]:
    """What fraud-stop blocks and screens of the requests named."""
    return await fetch(
        f"SELECT ticket, {_references()}, requester->>'email' AS requester_email,"  # noqa: S608
        " requester->>'ip' AS requester_ip, details->>'account_holder_email' AS holder_email,"
        f" iban_hash, details->>'iban_masked' AS iban_masked FROM change_requests WHERE {_NAMED}",
        reference.request_id,
        reference.ticket,
        reference.ticket_id,
    )


async def lock_named(reference: RequestReference, assignee_id: int | None) -> list[Row]:
    """The requests named, locked; only `assignee_id`'s when given."""
    return await fetch(
        "SELECT id, ticket, kind, status, assignee_id, processed_by_id,"  # noqa: S608
        f" {_references()} FROM change_requests WHERE ($4::integer IS NULL"
        f" OR assignee_id = $4) AND {_NAMED} FOR NO KEY UPDATE",
        reference.request_id,
        reference.ticket,
        reference.ticket_id,
        assignee_id,
    )


# $1 the kind, or NULL for any.
LOCK_NEXT_UNCLAIMED = """
SELECT id FROM change_requests WHERE status = 'new' AND ($1::text IS NULL OR kind = $1)
 ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED
"""


async def move(request_id: uuid.UUID, changes: Mapping[str, Any]) -> None:
    """Set `changes` (NOW: the database's now()) and mark the request as moved forward."""
    assignments, values = [], []
    for column, value in changes.items():
        if value is NOW:
            assignments.append(f"{column} = now()")
        else:
            values.append(value)
            assignments.append(f"{column} = ${len(values) + 1}")
    await fetch(
        f"UPDATE change_requests SET {', '.join(assignments)}, updated_at = now(),"  # noqa: S608
        f" progress_at = now(){', assigned_at = now()' if 'assignee_id' in changes else ''}"
        " WHERE id = $1",
        request_id,
        *values,
    )


# The contact reasons $2 on a request staff member $3 applied; its references, if they did.
RECORD_REASONS = f"""
UPDATE change_requests SET resolution_reasons = $2, updated_at = now()
 WHERE id = $1 AND processed_by_id = $3 RETURNING {_references()}
"""  # noqa: S608 (constants)

_LIFECYCLE = f"""
SELECT r.id, r.status, r.client, r.assignee_id, s.username AS assignee,
       GREATEST(floor(extract(epoch FROM now() - r.progress_at) / 86400), 0)::integer
           AS idle_days, {_references("r.")}
  FROM change_requests r
  LEFT JOIN staff_users s ON s.id = r.assignee_id
"""  # noqa: S608 (constants)
# Up to $3 requests in statuses $1 no one moved for $2 days, not yet marked, oldest first.
LOCK_IDLE = (
    _LIFECYCLE + " WHERE r.status = ANY($1::text[]) AND r.triage_reason IS NULL"
    " AND r.progress_at < now() - make_interval(days => $2)"
    " ORDER BY r.progress_at LIMIT $3 FOR UPDATE OF r SKIP LOCKED"
)
# Staff member $1's requests in statuses $2.
LOCK_ASSIGNED = (
    _LIFECYCLE + " WHERE r.assignee_id = $1 AND r.status = ANY($2::text[])"
    " ORDER BY r.created_at FOR UPDATE OF r"
)
# $2 the status, $3 whether to unassign, $4 the reason, $5 its kind.
MARK_FOR_TRIAGE = """
UPDATE change_requests SET status = $2, assignee_id = CASE WHEN $3 THEN NULL ELSE assignee_id END,
       assigned_at = CASE WHEN $3 THEN NULL ELSE assigned_at END, triage_reason = $4,
       triage_kind = $5, triage_reason_at = now(), updated_at = now() WHERE id = $1
"""

# -- Apply and its pre-checks ------------------------------------------------------------------

# $2 the status, $3 the maker's staff id, $4 who applied (JSON), $5 or $6: a review follows.
MARK_APPLYING = """
UPDATE change_requests SET status = $2, processed_by_id = $3, applied_by = $4::jsonb,
       processed_at = now(), review_required = $5 OR $6, reviewed_by_id = NULL,
       reviewed_at = NULL, updated_at = now(), progress_at = now() WHERE id = $1
"""
# $2 the lead's comment, $3 the lead.
REFUSE_PLAN = (
    "UPDATE change_requests SET review_comment = $2, reviewed_by_id = $3, reviewed_at = now()"
    " WHERE id = $1"
)
STORE_CHECKS = "UPDATE change_requests SET checks = $2::jsonb WHERE id = $1"
STORE_CONTRACT_RETURN = (
    "UPDATE change_requests SET contract_return = $2::jsonb, updated_at = now() WHERE id = $1"
)

# -- what providers tell, and who is told --------------------------------------------------------

# The request (its id as text) and its customer references (its audit entries' subject).
SUBJECT = f"SELECT id, {_references()} FROM change_requests WHERE id::text = $1"  # noqa: S608
LOCK_SUBJECT = SUBJECT + " FOR UPDATE"
LATEST_IBAN_CHANGE_OF_PARTNER = """
SELECT id::text AS id FROM change_requests WHERE stripe_connect_account_id = $1
   AND kind = 'iban_change' ORDER BY created_at DESC LIMIT 1
"""
# Append the JSON list $2 to the request's provider events.
ADD_PROVIDER_EVENT = """
UPDATE change_requests
   SET details = jsonb_set(details, '{provider_events}',
                           COALESCE(details->'provider_events', '[]'::jsonb) || $2::jsonb),
       updated_at = now() WHERE id = $1
"""


async def latest_references(reference: str, account: str) -> dict[str, str]:
    """The customer references of the latest request whose `reference` column is `account`."""
    if reference not in CUSTOMER_REFERENCES:
        return {}
    rows = await fetch(
        f"SELECT {_references()} FROM change_requests WHERE {reference} = $1"  # noqa: S608
        " ORDER BY created_at DESC LIMIT 1",
        account,
    )
    row = rows[0] if rows else {}
    return {name: str(row[name]) for name in CUSTOMER_REFERENCES if row.get(name)}


# The references that find who filed for a customer: every one but a Connect account id,
# which has never been matched here (kept so: matching it would notify more clients).
_FILED_UNDER = tuple(name for name in CUSTOMER_REFERENCES if name != "stripe_connect_account_id")
_CLIENTS_OF_CUSTOMER = "SELECT DISTINCT client FROM change_requests WHERE " + " OR ".join(  # noqa: S608
    f"(${n}::text IS NOT NULL AND {name} = ${n})" for n, name in enumerate(_FILED_UNDER, start=1)
)


async def clients_of_customer(customer: Mapping[str, Any]) -> set[str]:
    """The clients that filed a request for the customer (by any of its references)."""
    rows = await fetch(_CLIENTS_OF_CUSTOMER, *(customer.get(name) for name in _FILED_UNDER))
    return {row["client"] for row in rows if row["client"]}


# -- the back office's screens and the metrics ---------------------------------------------------

# The request queues, as the back office's screens define them (the views of the migrations),
# for the /metrics probe (gateway.metrics_endpoint) and so the team lead's dashboard.
QUEUES = f"""
SELECT 'triage' AS queue, count(*) AS depth, max(now() - created_at) AS oldest FROM triage
UNION ALL
SELECT 'specialists', count(*), max(now() - created_at) FROM change_requests
 WHERE assignee_id IS NOT NULL AND status IN {_SPECIALIST_WORK}
UNION ALL
SELECT 'review', count(*), max(now() - created_at) FROM review_queue
UNION ALL
SELECT 'plan_approval', count(*), max(now() - created_at) FROM change_requests
 WHERE status = 'awaiting_approval'
UNION ALL
SELECT 'apply_failed', count(*), max(now() - updated_at) FROM change_requests
 WHERE status = 'apply_failed'
"""  # noqa: S608 (constants)
SPECIALIST_QUEUES = f"""
SELECT s.id AS staff_id, s.username, count(*) AS depth, max(now() - r.created_at) AS oldest
  FROM change_requests r JOIN staff_users s ON s.id = r.assignee_id
 WHERE r.assignee_id IS NOT NULL AND r.status IN {_SPECIALIST_WORK}
 GROUP BY s.id, s.username ORDER BY s.username
"""  # noqa: S608 (constants)
# Open requests older than $1 hours, counted by status.
OPEN_PAST = f"""
SELECT status, count(*) AS count FROM change_requests
 WHERE status IN ({_OPEN}) AND created_at < now() - make_interval(hours => $1) GROUP BY status
"""  # noqa: S608 (constants)
# Up to $4 requests a form offers: in statuses $1; only staff member $2's if $2 is given; not
# applied by staff member $3 if $3 is given.
CHOICES = """
SELECT id, ticket, company_name, status FROM change_requests
 WHERE status = ANY($1::text[]) AND ($2::integer IS NULL OR assignee_id = $2)
   AND ($3::integer IS NULL OR processed_by_id IS DISTINCT FROM $3)
 ORDER BY created_at LIMIT $4
"""
# A request as its screen shows it; only staff member $2's if $2 is given.
WORK_REQUEST = f"""
SELECT r.id, r.kind, r.status, r.ticket, r.ticket_url, {_references("r.")}, r.company_name,
       r.requester, r.contact_reasons, r.details, r.checks, r.assignee_id, r.processed_by_id,
       r.processed_at, r.resolution_note, r.resolution_reasons, r.reviewed_by_id, r.reviewed_at,
       r.review_comment, r.created_at, r.updated_at, r.triage_reason, r.triage_reason_at,
       a.username AS assignee, p.username AS maker, v.username AS reviewer
  FROM change_requests r LEFT JOIN staff_users a ON a.id = r.assignee_id
  LEFT JOIN staff_users p ON p.id = r.processed_by_id
  LEFT JOIN staff_users v ON v.id = r.reviewed_by_id
 WHERE r.id = $1 AND ($2::integer IS NULL OR r.assignee_id = $2)
"""  # noqa: S608 (constants)
# A customer's open requests (at most 50), by its provider accounts $1 or back-office ids $2.
OPEN_FOR_CUSTOMER = f"""
SELECT id, kind, status, ticket, company_name, {_references()}, created_at FROM change_requests
 WHERE status IN ({_OPEN}) AND (zuora_account_id = ANY($1::text[])
       OR stripe_customer_id = ANY($1::text[]) OR backoffice_id = ANY($2::text[]))
 ORDER BY created_at LIMIT 50
"""  # noqa: S608 (constants)
# The back-office ids (at most 5) requests gave beside the provider accounts $1.
BACKOFFICE_IDS_OF = """
SELECT DISTINCT backoffice_id FROM change_requests WHERE backoffice_id IS NOT NULL
   AND (zuora_account_id = ANY($1::text[]) OR stripe_customer_id = ANY($1::text[])) LIMIT 5
"""
