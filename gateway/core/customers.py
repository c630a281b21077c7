"""Which references name a customer, and which of them stands for the customer: what the audit
trail files an entry under (and `audit forget` erases), what fraud-stop and notifications match."""

from __future__ import annotations

from collections.abc import Mapping

# In this order: the first one given is the audit subject.
CUSTOMER_REFERENCES = (
    "backoffice_id",
    "zuora_account_id",
    "stripe_customer_id",
    "stripe_connect_account_id",
)

# The providers' references: every one but the back office's own id.
PROVIDER_REFERENCES = CUSTOMER_REFERENCES[1:]
# The reference a provider's account id is, as change requests give it.
REFERENCE_OF_PROVIDER = {"zuora": "zuora_account_id", "stripe": "stripe_customer_id"}


def subject_of(references: Mapping[str, object]) -> str | None:
    """The customer reference an entry about this customer is filed under."""
    chosen = next((references[name] for name in CUSTOMER_REFERENCES if references.get(name)), None)
    return str(chosen) if chosen is not None else None


def references_of(row: Mapping[str, object]) -> dict[str, object]:
    """The row's customer references, by name."""
    return {name: row.get(name) for name in CUSTOMER_REFERENCES}
