"""Cheques and batches as the service reads, locks and shows them (ChequeRead, BatchRead), and
their audit entries (a cheque's keyed by the provider's customer)."""

from __future__ import annotations

import uuid
from typing import Any

from audit import AuditEntry, append
from audit.actions import Action
from audit.entry import Actor
from gateway.cheques import queries
from gateway.cheques.schemas import BatchRead, ChequeRead, ScanRead
from gateway.core.db.rows import loaded
from gateway.core.errors import BillingError, ErrorCode
from gateway.corrections.schemas import MoneyRead
from gateway.i18n import Message


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
    row = await queries.cheque_row(cheque_id, lock=lock)
    if row is None:
        raise cheque_not_found(cheque_id)
    return row


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
    row = await queries.batch_row(batch_id)
    if row is None:
        raise batch_not_found(batch_id)
    return batch_read(row)


async def audit(
    actor: Actor,
    about: dict[str, Any],
    target_id: str,
    action: Action,
    after: dict[str, Any],
    *,
    before: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """`about`: the cheque's account (`{"account_id": ...}`), or nothing for a batch. Never
    a card number: callers pass what was stored, which the checks kept free of them."""
    await append(
        AuditEntry(
            action=action,
            actor=actor,
            about=about,
            target_id=target_id,
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
