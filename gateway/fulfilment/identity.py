"""Who is asking: the identity facts a support agent verified, compared with what the providers
hold (Zuora's account and bill-to contact, the Stripe customer, the Connect account).

Each fact is matched, different, not checked (nothing to compare it with, or the agent did not
record it) or, for documents the providers do not hold (a partner's ID document and proof of
address), recorded. A difference on a bank-detail change needs the specialist's confirmation
with a reason before Apply runs (`identity_mismatch`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adapters.ports import Contact
from gateway.fulfilment_schemas import Finding, IdentityFact
from gateway.i18n import N_, Message

# Facts a Connect partner's payout change also needs: documents, which no provider holds.
PARTNER_DOCUMENTS = ("id_document", "proof_of_address")
_FACT_WORDS = {
    "name": N_("name"),
    "email": N_("email address"),
    "postal_address": N_("postal address"),
    "id_document": N_("ID document"),
    "proof_of_address": N_("proof of address"),
}


def comparable(text: str | None) -> str:
    """Case, accents, punctuation and spacing aside ("Brasserie du Port S.A.S." is
    "BRASSERIE DU PORT SAS"), as the Stripe adapter compares holders."""
    folded = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return "".join(character for character in folded.lower() if character.isalnum())


@dataclass(frozen=True)
class ProviderRecord:
    """What one provider holds about the customer, as far as the gateway can read it."""

    source: str  # "Zuora account A00000101", "Stripe Connect account acct_…"
    names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    contact: Contact | None = None
    extra_names: tuple[str, ...] = field(default=())  # e.g. a shop's trading name


def record_of(source: str, names: Iterable[str | None], contact: Contact | None) -> ProviderRecord:
    """Names that look like email addresses (a Stripe customer without a name shows its email)
    count as emails."""
    given = [name for name in names if name]
    emails = [name for name in given if "@" in name]
    if contact and contact.email:
        emails.append(contact.email)
    names_only = [name for name in given if "@" not in name]
    if contact and contact.name:
        names_only.append(contact.name)
    return ProviderRecord(source, tuple(names_only), tuple(emails), contact)


def _address_text(address: Mapping[str, Any] | None) -> str | None:
    if not address:
        return None
    postal = f"{address.get('postal_code') or ''} {address.get('city') or ''}".strip()
    return ", ".join(part for part in (postal, address.get("country")) if part) or None


def _same_address(filed: Mapping[str, Any], contact: Contact) -> bool | None:
    """Postal code and country must match, and the first line where both have one. None: the
    provider holds no address to compare with."""
    held = contact.address
    if held is None or not (held.postal_code or held.line1):
        return None
    same = comparable(filed.get("postal_code")) == comparable(held.postal_code) and (
        (filed.get("country") or "").upper() == (held.country or "").upper()
    )
    if held.line1 and filed.get("line1"):
        same = same and comparable(filed.get("line1")) == comparable(held.line1)
    return same


def _name_fact(filed: str | None, records: Sequence[ProviderRecord]) -> IdentityFact:
    held = [(record, name) for record in records for name in (*record.names, *record.extra_names)]
    if filed is None or not held:
        return IdentityFact(fact="name", state="not_checked", filed=filed)
    match = next(((r, n) for r, n in held if comparable(n) == comparable(filed)), None)
    record, name = match or held[0]
    return IdentityFact(
        fact="name",
        state="matched" if match else "different",
        filed=filed,
        provider_value=name,
        source=record.source,
    )


def _email_fact(filed: str | None, records: Sequence[ProviderRecord]) -> IdentityFact:
    held = [(record, email) for record in records for email in record.emails]
    if filed is None or not held:
        return IdentityFact(fact="email", state="not_checked", filed=filed)
    match = next(((r, e) for r, e in held if e.strip().casefold() == filed.casefold()), None)
    record, email = match or held[0]
    return IdentityFact(
        fact="email",
        state="matched" if match else "different",
        filed=filed,
        provider_value=email,
        source=record.source,
    )


def _address_fact(
    filed: Mapping[str, Any] | None, records: Sequence[ProviderRecord]
) -> IdentityFact:
    shown = _address_text(filed)
    if filed is None:
        return IdentityFact(fact="postal_address", state="not_checked")
    for record in records:
        if record.contact is None:
            continue
        same = _same_address(filed, record.contact)
        if same is None:
            continue
        held = record.contact.address
        return IdentityFact(
            fact="postal_address",
            state="matched" if same else "different",
            filed=shown,
            provider_value=_address_text(
                {
                    "postal_code": held.postal_code,
                    "city": held.city,
                    "country": held.country,
                }
                if held
                else None
            ),
            source=record.source,
        )
    return IdentityFact(fact="postal_address", state="not_checked", filed=shown)


def compare_identity(
    filed: Mapping[str, Any] | None, records: Sequence[ProviderRecord], *, partner: bool
) -> list[IdentityFact]:
    """Each fact as the agent recorded it against what the providers hold."""
    filed = filed or {}
    facts = [
        _name_fact(filed.get("name"), records),
        _email_fact(filed.get("email"), records),
        _address_fact(filed.get("postal_address"), records),
    ]
    if partner:
        document = filed.get("id_document")
        facts.append(
            IdentityFact(
                fact="id_document",
                state="recorded" if document else "not_checked",
                filed=document,
                source="the agent" if document else None,
            )
        )
        proof = filed.get("proof_of_address_dated")
        facts.append(
            IdentityFact(
                fact="proof_of_address",
                state="recorded" if proof else "not_checked",
                filed=str(proof) if proof else None,
                source="the agent" if proof else None,
            )
        )
    return facts


def _fact_word(fact: str) -> str:
    word = _FACT_WORDS.get(fact)
    return Message(word) if word else fact


def _fact_sentence(fact: IdentityFact) -> str:
    word = _fact_word(fact.fact)
    if fact.state == "matched":
        return Message(
            "The {word} the agent checked matches the {source}.", word=word, source=fact.source
        )
    if fact.state == "recorded":
        return Message(
            "The agent recorded checking the partner's {word} ({filed}).",
            word=word,
            filed=fact.filed,
        )
    if fact.state == "different":
        return Message(
            "The {word} the agent checked ({filed}) differs from the {source} ({held}).",
            word=word,
            filed=fact.filed,
            source=fact.source,
            held=fact.provider_value,
        )
    if fact.filed is None:
        return Message("The agent did not record checking the customer's {word}.", word=word)
    return Message(
        "The {word} the agent checked cannot be compared: no provider record holds one.",
        word=word,
    )


def identity_findings(facts: Sequence[IdentityFact], *, bank_change: bool) -> list[Finding]:
    """One finding per fact, and for a bank-detail change with a difference a blocking
    `identity_mismatch` that the specialist lifts by confirming with a reason."""
    findings = []
    for fact in facts:
        partner_document_missing = fact.fact in PARTNER_DOCUMENTS and fact.state == "not_checked"
        severity = {"matched": "ok", "recorded": "ok", "different": "warning"}.get(
            fact.state, "warning" if partner_document_missing else "info"
        )
        sentence = _fact_sentence(fact)
        if partner_document_missing:
            sentence = Message(
                "{sentence} A partner's payout account changes only after its ID document and a "
                "proof of address under 3 months old were checked: check them, or acknowledge "
                "why not.",
                sentence=sentence,
            )
        findings.append(
            Finding(
                code=f"identity_{fact.fact}",
                target=None,
                severity=severity,  # type: ignore[arg-type]
                sentence=sentence,
                needs_acknowledgement=partner_document_missing,
                detail={"state": fact.state},
            )
        )
    different = [fact for fact in facts if fact.state == "different"]
    if bank_change and different:
        words = ", ".join(_fact_word(fact.fact) for fact in different)
        findings.append(
            Finding(
                code="identity_mismatch",
                target=None,
                severity="blocking",
                sentence=Message(
                    "Who is asking does not match the provider's records ({words}). Verify the "
                    "customer again; to apply anyway, confirm with the reason you are sure.",
                    words=words,
                ),
                detail={"facts": [fact.fact for fact in different]},
            )
        )
    return findings


def holder_finding(holder: str, legal_name: str | None, trading_name: str | None) -> Finding | None:
    """A partner's payout account must be in the company's legal name as Stripe has it: a
    shop's trading name, or a person's, is how a takeover redirects payouts."""
    if legal_name is None:
        return Finding(
            code="holder_not_legal_name",
            target="stripe_connect_payout",
            severity="blocking",
            sentence=Message(
                "Stripe holds no legal company name for this partner, so the holder cannot be "
                "checked. Ask the partner to complete its company details in Stripe first."
            ),
        )
    if comparable(holder) == comparable(legal_name):
        return None
    trading = comparable(holder) == comparable(trading_name)
    return Finding(
        code="holder_not_legal_name",
        target="stripe_connect_payout",
        severity="blocking",
        sentence=(
            Message(
                "The account holder must be the partner's legal company name ({legal_name}), not "
                "the shop's trading name. Ask the partner for a bank account in the company's "
                "name.",
                legal_name=legal_name,
            )
            if trading
            else Message(
                "The account holder must be the partner's legal company name ({legal_name}). "
                "Ask the partner for a bank account in the company's name.",
                legal_name=legal_name,
            )
        ),
        detail={"legal_name": legal_name},
    )
