"""No IBAN and no card number in clear anywhere in the database after the project's flows: every
table, every column, as text (what a stolen backup would show). The values are the ones the
flows were given, in any spacing: a generic detector would also flag random hex in hashes."""

from __future__ import annotations

import httpx

from audit.chain import seal_pending
from gateway.core.db.connection import fetch
from tests.database import auth
from tests.payloads import VALID_IBAN_COMPACT, iban_change

OTHER_IBAN = "FR7630006000011234567890189"
CARD = "4242424242424242"


async def test_no_iban_or_card_number_in_any_table(http: httpx.AsyncClient, api_key: str) -> None:
    for number, iban in enumerate(
        (VALID_IBAN_COMPACT, OTHER_IBAN, "FR76 3000 6000 0112 3456 7890 189")
    ):
        body = iban_change(iban=iban, account_holder_email=f"holder{number}@example.com")
        answer = await http.post(
            "/v1/change-requests", json=body, headers=auth(api_key, f"k{number}")
        )
        assert answer.status_code == 201, answer.text
    refused = iban_change(account_holder=f"card {CARD}")
    await http.post("/v1/change-requests", json=refused, headers=auth(api_key, "card"))
    await seal_pending()
    tables = await fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    checked = 0
    for table in tables:
        name = table["table_name"]
        for row in await fetch(f'SELECT * FROM "{name}"'):
            # bytes as the text they hold (hex would hide a number, and fake others)
            text = " ".join(
                value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                for value in row.values()
            )
            compact = "".join(text.split()).upper()
            for secret in (VALID_IBAN_COMPACT, OTHER_IBAN, CARD):
                assert secret not in compact, name
            checked += 1
    assert checked > 10
