"""`verify` reads the next batch while it checks one: across batch boundaries it still counts
every entry, names the first bad one, and reports progress batch by batch. `seal_pending`
stops at a short batch and still seals everything committed before it ran."""

from __future__ import annotations

import pytest

from audit.actions import Action
from audit.chain import seal_pending, verify
from audit.entry import Actor, AuditEntry
from audit.store import append
from tests.database import superuser


@pytest.fixture
async def chain() -> None:
    for number in range(20):
        await append(
            AuditEntry(
                action=Action.CHANGE_REQUEST_CONTACT_REASONS_RECORDED,
                actor=Actor(kind="staff", id="7", role="team_lead"),
                target_id=f"cr-{number}",
                about={"backoffice_id": "cus_1"},
                after={"n": number},
            )
        )
    assert await seal_pending(batch=7) == 20  # 7 + 7 + 6: the short batch is the last


async def test_small_batches_verify_the_whole_chain(chain: None) -> None:
    heard: list[int] = []
    verdict = await verify(batch=3, progress=heard.append)
    assert verdict.ok and verdict.entries == 20 and verdict.head_seq == 20
    assert heard == [3, 3, 3, 3, 3, 3, 2]


async def test_a_bad_entry_in_a_later_batch_is_named(chain: None) -> None:
    async with superuser() as connection, connection.transaction():
        await connection.execute("SET LOCAL session_replication_role = replica")
        await connection.execute(
            "UPDATE audit_records SET action = 'test.entry.forged'"
            " WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 14)"
        )
    verdict = await verify(batch=4)
    assert (verdict.first_bad_seq, verdict.entries) == (14, 13)
    assert (await verify(batch=4)).first_bad_seq == 14  # nothing left running in between
