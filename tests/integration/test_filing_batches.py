"""Filings that arrive together are committed together (`gateway/core/db/batches.py`): one round
trip and one commit for a burst, while every caller still gets its own answer: a refused filing
does not take the others down with it, and a filing sees the ones committed in its batch before
it, as if they had committed alone just before."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest
from asyncpg import DivisionByZeroError
from schwifty import IBAN

from gateway.core.db import batches
from gateway.core.db.connection import fetch
from tests.database import auth
from tests.payloads import iban_change

URL = "/v1/change-requests"


def _new_iban() -> str:
    """An IBAN nobody filed, valid down to its bank's own check digits."""
    while True:
        account = str(random.randrange(10**9))
        generated = IBAN.generate("DE", bank_code="12030000", account_code=account)
        try:
            return str(IBAN(generated.compact, validate_bban=True))
        except ValueError:
            continue


async def _file_together(
    http: httpx.AsyncClient, key: str, bodies: list[dict[str, Any]]
) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(http.post(URL, json=body, headers=auth(key, uuid.uuid4().hex)) for body in bodies)
        )
    )


async def _transactions_of(ids: list[str]) -> int:
    """In how many transactions the requests were committed."""
    [row] = await fetch(
        "SELECT count(DISTINCT xmin::text) AS n FROM change_requests WHERE id = ANY($1::uuid[])",
        [uuid.UUID(request_id) for request_id in ids],
    )
    return int(row["n"])


async def test_filings_that_arrive_together_are_committed_together(
    http: httpx.AsyncClient, api_key: str
) -> None:
    bodies = [iban_change(ticket=f"B-{n}", iban=_new_iban()) for n in range(24)]
    responses = await _file_together(http, api_key, bodies)
    assert [response.status_code for response in responses] == [201] * 24
    filed = [response.json() for response in responses]
    ids = [answer["id"] for answer in filed]
    assert len(set(ids)) == 24
    for body, answer in zip(bodies, filed, strict=True):  # each its own answer
        assert answer["ticket"] == f"zendesk:{body['ticket']['id']}"
    # each with its row, its audit entry and its event, committed in fewer transactions
    assert await _transactions_of(ids) < 24
    [counts] = await fetch(
        "SELECT (SELECT count(*) FROM change_requests) AS requests,"
        " (SELECT count(*) FROM audit_records"
        "   WHERE action = 'change_request.create.succeeded') AS entries,"
        " (SELECT count(*) FROM notification_events"
        "   WHERE type = 'change_request.filed') AS events"
    )
    assert dict(counts) == {"requests": 24, "entries": 24, "events": 24}
    for answer in filed:  # what was answered is what was stored
        read = await http.get(f"{URL}/{answer['id']}", headers=auth(api_key))
        assert read.json() == answer


async def test_a_refused_filing_does_not_take_its_batch_with_it(
    http: httpx.AsyncClient, api_key: str
) -> None:
    first = await http.post(
        URL, json=iban_change(ticket="B-OPEN", iban=_new_iban()), headers=auth(api_key, "b-0")
    )
    assert first.status_code == 201, first.text
    bodies = [iban_change(ticket=f"B-{n}", iban=_new_iban()) for n in range(10)]
    bodies[4] = iban_change(ticket="B-OPEN", iban=_new_iban())  # that ticket has an open one
    responses = await _file_together(http, api_key, bodies)
    assert [response.status_code for response in responses] == [201] * 4 + [409] + [201] * 5
    assert responses[4].json()["code"] == "duplicate_open_request"
    assert first.json()["id"] in responses[4].json()["detail"]
    [row] = await fetch("SELECT count(*) AS n FROM change_requests")
    assert row["n"] == 10


async def test_two_filings_of_one_new_iban_together_name_each_other_once(
    http: httpx.AsyncClient, api_key: str
) -> None:
    """One of them is filed first, in the batch or before it; the other names it, as it would
    had they come one after the other."""
    iban = _new_iban()
    elsewhere = iban_change(ticket="B-OTHER", iban=iban)
    elsewhere["customer"] = {"zuora_account_id": "A00000999", "backoffice_id": "shop-999"}
    mine = iban_change(ticket="B-MINE", iban=iban)
    first, second = (r.json() for r in await _file_together(http, api_key, [elsewhere, mine]))
    named = [
        first["payload"]["other_requests_with_same_iban"],
        second["payload"]["other_requests_with_same_iban"],
    ]
    assert sorted(named, key=len) == [[], [first["id"] if named[1] else second["id"]]]
    flagged = [answer["payload"]["iban_on_file_for_another_customer"] for answer in (first, second)]
    assert sorted(flagged) == [False, True]


@pytest.fixture
async def probe() -> Any:
    """A table of the test's own, made by the owner role (the gateway's role makes none)."""
    [me] = await fetch("SELECT current_user AS name")
    owner = await asyncpg.connect(os.environ["BG_MIGRATION_DATABASE_URL"])
    try:
        await owner.execute("CREATE TABLE batch_probe (n integer PRIMARY KEY)")
        await owner.execute(f'GRANT SELECT, INSERT ON batch_probe TO "{me["name"]}"')
        yield
        await owner.execute("DROP TABLE batch_probe")
    finally:
        await owner.close()


# Waits $2 seconds, then writes $1; answers the transaction that wrote it.
_PROBE = """
INSERT INTO batch_probe (n) SELECT $1::integer FROM pg_sleep($2::float8)
RETURNING n, 10 / n AS tenth, txid_current() AS tx
"""


async def test_the_statements_that_wait_go_together_and_each_gets_its_own_answer(
    probe: None,
) -> None:
    alone = asyncio.create_task(batches.fetch_one(_PROBE, 1, 0.3))  # nothing waits: at once
    await asyncio.sleep(0.1)
    together = [asyncio.create_task(batches.fetch_one(_PROBE, n, 0)) for n in (2, 3, 4)]
    rows = [await alone, *[await task for task in together]]
    assert [row["n"] for row in rows] == [1, 2, 3, 4]
    assert [row["tenth"] for row in rows] == [10, 5, 3, 2]
    assert rows[0]["tx"] != rows[1]["tx"] == rows[2]["tx"] == rows[3]["tx"]


async def test_one_failing_statement_leaves_the_others_of_its_batch_their_answers(
    probe: None,
) -> None:
    await batches.fetch_one(_PROBE, 1, 0)
    first = asyncio.create_task(batches.fetch_one(_PROBE, 10, 0.3))
    await asyncio.sleep(0.1)
    # 0 divides by zero; 1 breaks the primary key
    waiting = [asyncio.create_task(batches.fetch_one(_PROBE, n, 0)) for n in (2, 0, 3, 1, 4)]
    await first
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert [row["n"] for row in outcomes if isinstance(row, dict)] == [2, 3, 4]
    assert isinstance(outcomes[1], DivisionByZeroError)
    assert type(outcomes[3]).__name__ == "UniqueViolationError"
    rows = await fetch("SELECT n FROM batch_probe ORDER BY n")
    assert [row["n"] for row in rows] == [1, 2, 3, 4, 10]


async def test_a_statement_whose_caller_gave_up_while_it_waited_is_not_run(
    probe: None,
) -> None:
    first = asyncio.create_task(batches.fetch_one(_PROBE, 1, 0.3))
    await asyncio.sleep(0.1)
    kept = asyncio.create_task(batches.fetch_one(_PROBE, 2, 0))
    given_up = asyncio.create_task(batches.fetch_one(_PROBE, 3, 0))
    await asyncio.sleep(0)
    given_up.cancel()
    await first
    assert (await kept)["n"] == 2
    rows = await fetch("SELECT n FROM batch_probe ORDER BY n")
    assert [row["n"] for row in rows] == [1, 2]


@contextlib.asynccontextmanager
async def _five_held() -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Another transaction has written 5 and not committed: a statement writing 5 waits for
    it. Yields what lets it go (a rollback)."""
    holder = await asyncpg.connect(os.environ["BG_MIGRATION_DATABASE_URL"])
    try:
        transaction = holder.transaction()
        await transaction.start()
        await holder.execute("INSERT INTO batch_probe (n) VALUES (5)")
        yield transaction.rollback
    finally:
        await holder.close()


async def test_a_batch_held_up_by_a_lock_lets_the_others_through(
    probe: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement that waits on a row another transaction holds waits alone: the batch it
    was in is cancelled after its patience, and the others are answered."""
    monkeypatch.setattr(batches, "PATIENCE_SECONDS", 0.3)
    async with _five_held() as let_go:
        first = asyncio.create_task(batches.fetch_one(_PROBE, 1, 0.3))
        await asyncio.sleep(0.1)
        held, free = (
            asyncio.create_task(batches.fetch_one(_PROBE, 5, 0)),
            [asyncio.create_task(batches.fetch_one(_PROBE, n, 0)) for n in (6, 7)],
        )
        await first
        done = await asyncio.wait_for(asyncio.gather(*free), timeout=5)
        assert [row["n"] for row in done] == [6, 7]
        assert not held.done()
        await let_go()
        assert (await asyncio.wait_for(held, timeout=5))["n"] == 5


async def test_a_statement_alone_held_up_by_a_lock_lets_the_next_ones_through(
    probe: None,
) -> None:
    """No load, so the held one went alone: the statements that gather behind it go on after
    HOLD_UP_SECONDS, not once the lock is let go."""
    async with _five_held() as let_go:
        held = asyncio.create_task(batches.fetch_one(_PROBE, 5, 0))
        await asyncio.sleep(0.1)
        behind = [asyncio.create_task(batches.fetch_one(_PROBE, n, 0)) for n in (6, 7)]
        done = await asyncio.wait_for(asyncio.gather(*behind), timeout=1.5)
        assert [row["n"] for row in done] == [6, 7]
        assert not held.done()
        await let_go()
        assert (await asyncio.wait_for(held, timeout=5))["n"] == 5
