"""The audit chain against tampering by someone with the database's keys to the kingdom: each
tamper is made as a superuser would (triggers off), and `verify` must name the first bad entry.
Writers in parallel still make one gap-free chain."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

import audit.keys as keys_module
from audit.actions import Action
from audit.chain import entry_hash, seal_pending, verify
from audit.checkpoints import against_checkpoints, public_key_of, read_checkpoints, write_checkpoint
from audit.entry import SYSTEM, Actor, AuditEntry
from audit.sinks import DirectorySink
from audit.store import append, associated_data, read_payload
from gateway.core.db.connection import fetch
from tests.database import superuser


async def write(count: int, subject: str = "cus_1") -> None:
    for number in range(count):
        await append(
            AuditEntry(
                action=Action.CHANGE_REQUEST_CONTACT_REASONS_RECORDED,
                actor=Actor(kind="staff", id="7", role="team_lead"),
                target_id=f"cr-{number}",
                about={"backoffice_id": subject},
                after={"n": number},
            )
        )


async def as_superuser(sql: str, *args: object) -> None:
    """What only an attacker with the database's keys to the kingdom could do: triggers off."""
    async with superuser() as connection, connection.transaction():
        await connection.execute("SET LOCAL session_replication_role = replica")
        await connection.execute(sql, *args)


@pytest.fixture
async def chain() -> None:
    await write(20)
    assert await seal_pending() == 20


async def test_an_untouched_chain_verifies(chain: None) -> None:
    verdict = await verify()
    assert verdict.ok and verdict.entries == 20 and verdict.head_seq == 20


@pytest.mark.parametrize(
    "when",
    [
        datetime(2256, 1, 1, 0, 0, 0, 1, tzinfo=UTC),  # past 2^53 microseconds after 1970
        datetime(1600, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ],
)
async def test_an_entry_is_stored_at_the_very_microsecond_its_mac_covers(
    when: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time is sent as a count of microseconds: what is stored is what the MAC covers,
    far from 1970 too (a wrong clock must not make an honest entry fail verification)."""
    from audit import store

    monkeypatch.setattr(store, "now", lambda: when)
    await write(1)
    [row] = await fetch("SELECT occurred_at FROM audit_records")
    assert row["occurred_at"] == when
    assert await seal_pending() == 1
    assert (await verify()).ok


async def test_the_application_cannot_update_or_delete(chain: None) -> None:
    for statement in ("UPDATE audit_chain SET hash = hash", "DELETE FROM audit_chain"):
        with pytest.raises(Exception, match="permission denied"):
            await fetch(statement)
    with pytest.raises(Exception, match="permission denied"):
        await fetch("UPDATE audit_records SET action = 'x'")


async def test_the_owner_cannot_update_or_delete_either(chain: None) -> None:
    async with superuser() as connection:
        for statement in ("UPDATE audit_chain SET hash = hash", "DELETE FROM audit_records"):
            with pytest.raises(Exception, match="append-only"):
                await connection.execute(statement)


async def test_a_flipped_byte_is_named(chain: None) -> None:
    await as_superuser(
        # Pick a character the payload does not already hold there: one run in 64
        # drew an 'A' at that spot, and the "flip" changed nothing.
        "UPDATE audit_records SET payload = overlay(payload placing"
        " CASE WHEN substr(payload, 30, 1) = 'A' THEN 'B' ELSE 'A' END from 30 for 1)"
        " WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 7)"
    )
    verdict = await verify()
    assert (verdict.first_bad_seq, verdict.problem) == (7, "entry altered")


async def test_a_changed_action_is_named(chain: None) -> None:
    await as_superuser(
        "UPDATE audit_records SET action = 'test.entry.forged'"
        " WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 3)"
    )
    assert (await verify()).first_bad_seq == 3


async def test_a_deleted_entry_is_named(chain: None) -> None:
    await as_superuser(
        "DELETE FROM audit_records WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 11)"
    )
    verdict = await verify()
    assert (verdict.first_bad_seq, verdict.problem) == (11, "entry deleted")


async def test_a_deleted_link_is_named(chain: None) -> None:
    await as_superuser("DELETE FROM audit_chain WHERE seq = 5")
    verdict = await verify()
    assert (verdict.first_bad_seq, verdict.problem) == (5, "missing entry")


async def test_swapped_entries_are_named(chain: None) -> None:
    [eighth, ninth] = [
        row["entry_id"]
        for row in await fetch("SELECT entry_id FROM audit_chain WHERE seq IN (8, 9) ORDER BY seq")
    ]
    await as_superuser("UPDATE audit_chain SET entry_id = -1 WHERE seq = 8")
    await as_superuser("UPDATE audit_chain SET entry_id = $1 WHERE seq = 9", eighth)
    await as_superuser("UPDATE audit_chain SET entry_id = $1 WHERE seq = 8", ninth)
    assert (await verify()).first_bad_seq == 8


async def test_payloads_are_encrypted_and_bound_to_their_entry(chain: None) -> None:
    rows = await fetch("SELECT * FROM audit_records ORDER BY id LIMIT 2")
    assert '"n"' not in str(rows)
    assert (await read_payload(rows[1]))["after"] == {"n": 1}  # type: ignore[index]
    moved = {**rows[1], "target_id": rows[0]["target_id"]}
    with pytest.raises(Exception):  # noqa: B017,PT011 (the AEAD refuses: any error is right)
        await read_payload(moved)


async def test_many_writers_make_one_gap_free_chain() -> None:
    async def writer(number: int) -> None:
        await write(25, subject=f"cus_{number}")

    sealing = asyncio.create_task(_seal_while(lambda: not done.is_set()))
    done = asyncio.Event()
    await asyncio.gather(*(writer(number) for number in range(8)))
    done.set()
    await sealing
    await seal_pending()
    seqs = [row["seq"] for row in await fetch("SELECT seq FROM audit_chain ORDER BY seq")]
    assert seqs == list(range(1, 201))
    assert (await verify()).ok


async def _seal_while(going: object) -> None:
    while going():  # type: ignore[operator]
        await seal_pending(batch=17)
        await asyncio.sleep(0.001)


async def test_the_system_subject_is_used_when_none_is_given() -> None:
    await append(
        AuditEntry(
            action=Action.AUDIT_CHECKPOINT_REFUSED, actor=SYSTEM, about={}, target_id="purge"
        )
    )
    [row] = await fetch("SELECT * FROM audit_records")
    assert row["subject"] == "system" and (await read_payload(row)) is not None


# -- checkpoints, rotation, forgetting ------------------------------------------------------------


async def test_a_consistent_rewrite_is_caught_by_a_kept_checkpoint(
    chain: None, tmp_path: Path
) -> None:
    from settings import get_settings

    seed = get_settings().audit_signing_seed
    kept = await write_checkpoint(seed, DirectorySink(tmp_path))
    assert kept is not None and kept.seq == 20
    copied = read_checkpoints(tmp_path / "checkpoints.jsonl")  # what an operator keeps elsewhere
    # an attacker rewrites entry 15 and recomputes every hash after it: the chain verifies alone
    await as_superuser(
        "UPDATE audit_records SET action = 'test.entry.rewritten'"
        " WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 15)"
    )
    rows = await fetch(
        "SELECT c.seq, r.* FROM audit_chain c JOIN audit_records r ON r.id = c.entry_id"
        " WHERE c.seq >= 15 ORDER BY c.seq"
    )
    prev = (await fetch("SELECT hash FROM audit_chain WHERE seq = 14"))[0]["hash"]
    for row in rows:
        digest = entry_hash(prev, row["seq"], {**row, "data": None})
        await as_superuser(
            "UPDATE audit_chain SET prev_hash = $2, hash = $3 WHERE seq = $1",
            row["seq"],
            prev,
            digest,
        )
        prev = digest
    # the chain is consistent on its own; the entry's MAC is not, nor is the kept checkpoint
    assert (await verify()).first_bad_seq == 15
    problem = await against_checkpoints(copied, public_key_of(seed))
    assert problem == "entry 20 differs from the signed checkpoint: rewritten"


async def test_a_truncated_chain_is_caught_by_a_kept_checkpoint(
    chain: None, tmp_path: Path
) -> None:
    from settings import get_settings

    seed = get_settings().audit_signing_seed
    await write_checkpoint(seed, DirectorySink(tmp_path))
    await as_superuser("DELETE FROM audit_chain WHERE seq > 17")
    assert (await verify()).ok
    problem = await against_checkpoints(
        read_checkpoints(tmp_path / "checkpoints.jsonl"), public_key_of(seed)
    )
    assert problem == "the chain ends before entry 20, which a checkpoint signed"
    forged = read_checkpoints(tmp_path / "checkpoints.jsonl")[0]
    other = public_key_of(b"\x01" * 32)
    assert "not signed" in str(await against_checkpoints([forged], other))


async def test_forgetting_a_subject_erases_only_their_payloads(chain: None) -> None:
    from audit.store import subject_keys

    await write(3, subject="cus_other")
    await seal_pending()
    assert await subject_keys().forget("cus_1")
    rows = await fetch("SELECT * FROM audit_records ORDER BY id")
    payloads = [await read_payload(row) for row in rows]
    assert payloads[:20] == [None] * 20  # cus_1's: erased
    assert all(payload is not None for payload in payloads[20:])  # others' untouched
    assert (await verify()).ok


async def test_rotation_rewraps_every_key_and_survives_a_stop_half_way(
    chain: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64
    import secrets

    from audit.keys import SubjectKeys
    from settings import get_settings

    await write(2, subject="cus_a")
    await write(2, subject="cus_b")
    old = get_settings().keys
    new_key = secrets.token_bytes(32)
    rotated = type(old)({"next": new_key, **old.encryption_keys}, "next", old.hash_key)
    keys = SubjectKeys(rotated)
    real_fetch = keys_module.fetch
    calls = {"n": 0}

    async def dies_on_second_update(sql: str, *args: object) -> object:
        if sql.startswith("UPDATE audit_subject_keys"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt  # killed half-way
        return await real_fetch(sql, *args)

    monkeypatch.setattr(keys_module, "fetch", dies_on_second_update)
    with pytest.raises(KeyboardInterrupt):
        await keys.rewrap_all()
    monkeypatch.setattr(keys_module, "fetch", real_fetch)
    left = await SubjectKeys(rotated).rewrap_all()  # run again
    assert left == 2  # three subjects: one done before the stop, two after
    wrapped = await fetch("SELECT DISTINCT kek_id FROM audit_subject_keys")
    assert wrapped == [{"kek_id": "next"}]
    fresh = SubjectKeys(rotated)
    for row in await fetch("SELECT * FROM audit_records ORDER BY id"):
        plain = await fresh.decrypt(row["subject"], row["payload"], associated_data(row))
        assert plain  # every payload still reads under the re-wrapped keys
    assert base64.b64encode(new_key)


async def test_the_minute_job_seals_and_signs(tmp_path: Path) -> None:
    from audit.jobs import seal_and_checkpoint

    await write(3)
    assert await seal_and_checkpoint(0) == 3
    [checkpoint] = await fetch("SELECT seq FROM audit_checkpoints")
    assert checkpoint["seq"] == 3
    assert await seal_and_checkpoint(0) == 0  # nothing new: no new checkpoint
    assert len(await fetch("SELECT seq FROM audit_checkpoints")) == 1
