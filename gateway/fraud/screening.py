"""One sentence per match, for the support agent: what was screened and what it matched.
Never repeats an IBAN given in clear: it names the entry's masked form instead.

The sentences are `Message`s: English for the API, said again in the reader's language in the
back office."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from gateway.core.errors import BillingError, ErrorCode
from gateway.fraud.schemas import ScreenMatch
from gateway.i18n import N_, Message, gettext

NOUN = {
    "card_fingerprint": N_("card fingerprint"),
    "card_bin": N_("card BIN"),
    "ip": N_("IP address"),
    "ip_range": N_("IP range"),
    "email": N_("email address"),
    "iban": N_("IBAN"),
    "customer": N_("customer"),
}


class KindName(Message):
    """A kind as the API spells it ("card_fingerprint"), which the API's English sentences
    keep; said in the back office it is the kind's noun ("card fingerprint", "empreinte de
    carte"), never the code."""

    def __new__(cls, kind: str) -> KindName:
        return cast(KindName, super().__new__(cls, kind))

    def localized(self) -> str:
        noun = NOUN.get(self.template)
        return gettext(noun) if noun else self.template

    def __reduce__(self) -> tuple[Any, ...]:
        return (KindName, (self.template,))


def _kinds(nouns: list[str]) -> Message:
    """ "card BIN and the IP address", each noun translated where it is said."""
    joined = Message(nouns[-1])
    for noun in reversed(nouns[:-1]):
        joined = Message("{kind} and the {kinds}", kind=Message(noun), kinds=joined)
    return joined


def blocked_refusal(matches: Sequence[ScreenMatch]) -> BillingError:
    """The refusal of a change that uses blocked values: which kinds and which entries, never
    the values themselves (the detail of a problem holds no personal data)."""
    kinds = _kinds(sorted({NOUN[match.kind] for match in matches}))
    ids = [match.entry_id for match in matches]
    listed = ", ".join(map(str, ids))
    if len(ids) == 1:
        detail = Message(
            "Refused by fraud-stop: the {kinds} given is blocked (entry {entries}). A team "
            "lead can review the block in the back office.",
            kinds=kinds,
            entries=listed,
        )
    else:
        detail = Message(
            "Refused by fraud-stop: the {kinds} given are blocked (entries {entries}). A team "
            "lead can review the block in the back office.",
            kinds=kinds,
            entries=listed,
        )
    return BillingError(ErrorCode.BLOCKED_BY_FRAUD_STOP, detail, extra={"blocklist_entry_ids": ids})


def explain(screened_kind: str, screened_value: str, entry_kind: str, display: str) -> Message:
    """Why a screened value matched. `ScreenMatch.why` holds its English text (msgspec encodes
    no `Message`); a page can say it again with `translate(explain(...))`."""
    if screened_kind == "iban":
        return Message("The IBAN given is blocked (on the list as {display}).", display=display)
    if entry_kind == "ip_range":
        return Message(
            "The IP address {address} is inside the blocked range {display}.",
            address=screened_value,
            display=display,
        )
    if entry_kind == "card_bin" and display != screened_value.replace(" ", ""):
        return Message(
            "The card BIN {bin} starts with the blocked BIN {display}.",
            bin=screened_value,
            display=display,
        )
    if entry_kind == "email" and display != screened_value:
        return Message(
            "The email address {address} is blocked as {display} (case and +tags ignored).",
            address=screened_value,
            display=display,
        )
    return Message(
        "The {kind} {display} is blocked.", kind=Message(NOUN[entry_kind]), display=display
    )
