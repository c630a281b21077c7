"""One sentence per match, for the support agent: what was screened and what it matched.
Never repeats an IBAN given in clear: it names the entry's masked form instead."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.errors import BillingError, ErrorCode
from gateway.fraud.schemas import ScreenMatch

NOUN = {
    "card_fingerprint": "card fingerprint",
    "card_bin": "card BIN",
    "ip": "IP address",
    "ip_range": "IP range",
    "email": "email address",
    "iban": "IBAN",
    "customer": "customer",
}


def blocked_refusal(matches: Sequence[ScreenMatch]) -> BillingError:
    """The refusal of a change that uses blocked values: which kinds and which entries, never
    the values themselves (the detail of a problem holds no personal data)."""
    kinds = sorted({NOUN[match.kind] for match in matches})
    ids = [match.entry_id for match in matches]
    return BillingError(
        ErrorCode.BLOCKED_BY_FRAUD_STOP,
        f"Refused by fraud-stop: the {' and the '.join(kinds)} given "
        f"{'is' if len(ids) == 1 else 'are'} blocked "
        f"({'entry' if len(ids) == 1 else 'entries'} {', '.join(map(str, ids))}). "
        "A team lead can review the block in the back office.",
        extra={"blocklist_entry_ids": ids},
    )


def explain(screened_kind: str, screened_value: str, entry_kind: str, display: str) -> str:
    if screened_kind == "iban":
        return f"The IBAN given is blocked (on the list as {display})."
    if entry_kind == "ip_range":
        return f"The IP address {screened_value} is inside the blocked range {display}."
    if entry_kind == "card_bin" and display != screened_value.replace(" ", ""):
        return f"The card BIN {screened_value} starts with the blocked BIN {display}."
    if entry_kind == "email" and display != screened_value:
        return (
            f"The email address {screened_value} is blocked as {display} (case and +tags ignored)."
        )
    return f"The {NOUN[entry_kind]} {display} is blocked."
