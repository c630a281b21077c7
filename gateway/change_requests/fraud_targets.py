"""What a change request gives fraud-stop to block and to screen (`FraudTargets`: at filing,
at processing, and for a FRAUD-STOP), read by the request's id or its ticket."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.change_requests import queries
from gateway.change_requests.references import parse_request_reference
from gateway.core.customers import CUSTOMER_REFERENCES
from gateway.core.errors import BillingError, ErrorCode
from gateway.tickets import display_ticket


@dataclass(frozen=True)
class FraudTargets:
    ticket: str  # as the list shows it: "zendesk #1001"
    requester_email: str | None
    requester_ip: str | None
    holder_email: str | None
    iban_hash: str | None  # the keyed hash the request keeps; the IBAN itself never leaves
    iban_masked: str | None
    customer_references: tuple[str, ...]

    def screen_queries(self) -> list[tuple[str, str]]:
        """What fraud-stop screens the request by, as the API screened it when it was filed."""
        queries = [("customer", reference) for reference in self.customer_references]
        queries += [
            ("email", email) for email in {self.requester_email, self.holder_email} if email
        ]
        if self.iban_hash:
            queries.append(("iban_hash", self.iban_hash))
        if self.requester_ip:
            queries.append(("ip", self.requester_ip))
        return queries


async def read_fraud_targets(reference: str) -> FraudTargets:
    """The request named by its id or its ticket ("zendesk #1001", or just "1001")."""
    rows = await queries.fraud_targets(parse_request_reference(reference))
    if len(rows) != 1:
        raise BillingError(
            ErrorCode.CHANGE_REQUEST_NOT_FOUND if not rows else ErrorCode.VALIDATION_FAILED,
            f"{'No request' if not rows else 'Several requests match'} {reference!r}. "
            "Use the request id, or the ticket as shown in the list (for example: zendesk #1001).",
        )
    row = rows[0]
    return FraudTargets(
        ticket=display_ticket(row["ticket"]),
        requester_email=row["requester_email"],
        requester_ip=row["requester_ip"],
        holder_email=row["holder_email"],
        iban_hash=row["iban_hash"],
        iban_masked=row["iban_masked"],
        customer_references=tuple(row[name] for name in CUSTOMER_REFERENCES if row[name]),
    )
