"""What a filer learns when its IBAN is already on file: its own client's requests with that
IBAN (it may read them anyway), and whether another customer's request has it, with no word
about who. Staff see the whole picture in the back office (the `my_queue` view).

Filing reads them only when its statement finds the IBAN on file (change_requests/service.py):
a filing whose IBAN someone has, another client included, takes one round trip more. A client
could time that, by filing for real (refused or audited, like any filing); the answer itself
says nothing of other clients."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from gateway.change_requests import queries
from gateway.core.customers import CUSTOMER_REFERENCES
from gateway.core.db.connection import fetch


@dataclass(frozen=True)
class SameIban:
    own_requests: list[UUID]
    another_customer: bool


def nothing_on_file() -> SameIban:
    return SameIban(own_requests=[], another_customer=False)


def _same_customer(row: Mapping[str, object], customer: Mapping[str, object]) -> bool:
    """Two requests are for one customer when they share a provider or back-office reference.
    A company name alone proves nothing (anyone may type it), so it is not compared."""
    return any(customer.get(name) and row[name] == customer[name] for name in CUSTOMER_REFERENCES)


async def same_iban(iban_hash: str, client: str, customer: Mapping[str, object]) -> SameIban:
    rows = await fetch(queries.SAME_IBAN, iban_hash)
    return SameIban(
        own_requests=[row["id"] for row in rows if row["client"] == client],
        another_customer=any(not _same_customer(row, customer) for row in rows),
    )
