"""Cheques and batches as the service reads, locks and shows them (ChequeRead, BatchRead), and
their audit entries (a cheque's keyed by the provider's customer)."""

from __future__ import annotations

import uuid
from typing import Any

from audit import AuditEntry, append
from audit.entry import Actor
from gateway.cheques.schemas import BatchRead, ChequeRead, ScanRead
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.records import loaded
from gateway.corrections.schemas import MoneyRead
from gateway.i18n import Message

# A cheque's row, with its depositor's username from its batch.
CHEQUE_COLUMNS = (
    "c.id, c.number, c.payment_number, c.reference, c.provider, c.account_id, c.account_name,"
    " c.account_number, c.invoice_id, c.invoice_number, c.amount_minor, c.currency,"
    " c.business_date, c.batch_id,"
    " c.depositor_staff_id, c.status, c.provider_payment_id, c.invoice_status, c.note,"
    " c.failure, c.entered_by, c.client, c.api_key_id, c.idempotency_key, c.entered_at,"
    " c.recorded_at, c.bounce_reason, c.bounced_by, c.bounced_at, c.updated_at,"
    " b.depositor_username"
)
CHEQUE_FROM = "cheques c JOIN cheque_batches b ON b.id = c.batch_id"
# In a batch's count and running total: not bounced, not failed.
COUNTED = ("recording", "recorded", "bouncing")
# A batch's row with its count, total, bounced count and last scan.
BATCH_SELECT = """
SELECT b.id, b.business_date, b.currency, b.depositor_staff_id, b.depositor_username,
       b.depositor_initials, b.sequence, b.status, b.closed_at, b.closed_by_staff_id,
       b.closed_by_username, b.scanner_total_minor, b.created_at,
       t.cheque_count, t.total_minor, t.bounced_count,
       s.scanner_total_minor AS scan_scanner_minor, s.batch_total_minor AS scan_batch_minor,
       s.matched AS scan_matched, s.by_username AS scan_by, s.at AS scan_at,
       s.scanned_at AS scan_scanned_at
  FROM cheque_batches b
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE d.counted) AS cheque_count,
           COALESCE(sum(c.amount_minor) FILTER (WHERE d.counted), 0) AS total_minor,
           count(*) FILTER (WHERE c.status = 'bounced') AS bounced_count
      FROM cheques c
      -- A closed batch: what it deposited, fixed at the close (a later bounce is counted
      -- apart). An open one: its cheques as they stand, not bounced or failed.
      CROSS JOIN LATERAL (SELECT CASE WHEN b.status = 'closed' THEN c.deposited_at IS NOT NULL
                                 ELSE c.status IN ('recording', 'recorded', 'bouncing') END
                                 AS counted) d
     WHERE c.batch_id = b.id) t
  LEFT JOIN LATERAL (
    SELECT * FROM cheque_batch_scans x WHERE x.batch_id = b.id ORDER BY x.id DESC LIMIT 1) s
    ON true
"""


def money(amount_minor: int, currency: str) -> MoneyRead:
    return MoneyRead(amount_minor=int(amount_minor), currency=currency)


def actor_json(actor: Actor) -> dict[str, Any]:
    return {"kind": actor.kind, "id": actor.id, "role": actor.role}


def cheque_not_found(cheque_id: uuid.UUID) -> BillingError:
    return BillingError(
        ErrorCode.CHEQUE_NOT_FOUND, Message("No cheque has the id {id}.", id=str(cheque_id))
    )


def batch_not_found(batch_id: uuid.UUID) -> BillingError:
    return BillingError(
        ErrorCode.CHEQUE_BATCH_NOT_FOUND,
        Message("No cheque batch has the id {id}.", id=str(batch_id)),
    )


def entered_by(row: dict[str, Any]) -> str:
    """ "staff:olga" or "api_key:<client>"."""
    actor = loaded(row["entered_by"]) or {}
    if actor.get("kind") == "api_key":
        return f"api_key:{row['client'] or actor.get('role') or actor.get('id')}"
    return f"{actor.get('kind', 'staff')}:{actor.get('id', '')}"


def cheque_read(row: dict[str, Any]) -> ChequeRead:
    return ChequeRead(
        id=row["id"],
        number=row["number"],
        reference=row["reference"],
        status=row["status"],
        provider=row["provider"],
        account_id=row["account_id"],
        account_name=row["account_name"],
        account_number=row["account_number"],
        invoice_id=row["invoice_id"],
        invoice_number=row["invoice_number"],
        credit=row["invoice_id"] is None,
        amount=money(row["amount_minor"], row["currency"]),
        business_date=row["business_date"],
        batch_id=row["batch_id"],
        depositor=row["depositor_username"],
        payment_number=row["payment_number"],
        provider_payment_id=row["provider_payment_id"],
        invoice_status=row["invoice_status"],
        note=row["note"],
        entered_by=entered_by(row),
        entered_at=row["entered_at"],
        recorded_at=row["recorded_at"],
        bounced_at=row["bounced_at"],
        bounce_reason=row["bounce_reason"],
        failure=row["failure"],
    )


async def load_cheque(cheque_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    rows = await fetch(
        f"SELECT {CHEQUE_COLUMNS} FROM {CHEQUE_FROM} WHERE c.id = $1"  # noqa: S608 (constants)
        + (" FOR UPDATE OF c" if lock else ""),
        cheque_id,
    )
    if not rows:
        raise cheque_not_found(cheque_id)
    return rows[0]


async def read_cheque(cheque_id: uuid.UUID) -> ChequeRead:
    return cheque_read(await load_cheque(cheque_id))


def batch_name(row: dict[str, Any]) -> str:
    """ "2026-12-05 EUR OP #1"."""
    return (
        f"{row['business_date']:%Y-%m-%d} {row['currency']} {row['depositor_initials']}"
        f" #{row['sequence']}"
    )


def batch_read(row: dict[str, Any]) -> BatchRead:
    currency = row["currency"]
    scan = None
    if row["scan_at"] is not None:
        scanner, batch = int(row["scan_scanner_minor"]), int(row["scan_batch_minor"])
        scan = ScanRead(
            scanner_total=money(scanner, currency),
            batch_total=money(batch, currency),
            difference=money(batch - scanner, currency),
            matched=row["scan_matched"],
            by=row["scan_by"],
            at=row["scan_at"],
            scanned_at=row["scan_scanned_at"],
        )
    return BatchRead(
        id=row["id"],
        name=batch_name(row),
        business_date=row["business_date"],
        currency=currency,
        depositor=row["depositor_username"],
        depositor_initials=row["depositor_initials"],
        sequence=row["sequence"],
        status=row["status"],
        cheque_count=int(row["cheque_count"]),
        total=money(row["total_minor"], currency),
        bounced_count=int(row["bounced_count"]),
        last_scan=scan,
        closed_at=row["closed_at"],
        closed_by=row["closed_by_username"],
        created_at=row["created_at"],
    )


async def read_batch(batch_id: uuid.UUID) -> BatchRead:
    rows = await fetch(BATCH_SELECT + " WHERE b.id = $1", batch_id)
    if not rows:
        raise batch_not_found(batch_id)
    return batch_read(rows[0])


async def audit(
    actor: Actor,
    target_type: str,
    target_id: str,
    action: str,
    after: dict[str, Any],
    *,
    subject: str | None = None,
    before: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """`target_type` "cheque" (subject: the provider's account id) or "cheque_batch". Never
    a card number: callers pass what was stored, which the checks kept free of them."""
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            target_type=target_type,
            target_id=target_id,
            subject=subject,
            reason=reason,
            before=before or {},
            after=after,
        )
    )


def cheque_audit_after(row: dict[str, Any]) -> dict[str, Any]:
    """What a cheque's audit entries record of it."""
    return {
        "number": row["number"],
        "reference": row["reference"],
        "status": row["status"],
        "provider": row["provider"],
        "invoice_id": row["invoice_id"],
        "amount": {"amount_minor": int(row["amount_minor"]), "currency": row["currency"]},
        "batch_id": str(row["batch_id"]),
        "provider_payment_id": row["provider_payment_id"],
        "invoice_status": row["invoice_status"],
    }
