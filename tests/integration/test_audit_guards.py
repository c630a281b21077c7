"""The audit trail's guards. The gateway's own database role cannot lift them; what someone
with the database's keys to the kingdom does anyway (forge or edit an entry, switch a trigger
off, destroy a data key quietly) is named by `audit verify`; and the minute job will not sign a
chain that does not verify."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from audit.actions import Action
from audit.chain import entry_hash, seal_pending, verify
from audit.entry import Actor, AuditEntry
from audit.guards import GUARDS
from audit.store import append
from gateway.core.db.connection import fetch, transaction
from gateway.core.db.roles import APPEND_ONLY
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
    async with superuser() as connection, connection.transaction():
        await connection.execute("SET LOCAL session_replication_role = replica")
        await connection.execute(sql, *args)


async def refused_to_the_application(sql: str) -> str:
    """The error the application's role gets (nothing is kept either way)."""

    class UndoError(Exception):
        pass

    try:
        async with transaction():
            await fetch(sql)
            raise UndoError
    except UndoError:
        return "allowed"
    except asyncpg.PostgresError as error:
        return str(error)


async def guard_report() -> list[str]:
    from audit.guards import guard_problems

    return await guard_problems()


@pytest.fixture
async def chain() -> None:
    await write(10)
    assert await seal_pending() == 10


# -- the application's role -----------------------------------------------------------------------


async def test_the_application_role_cannot_change_or_unguard_the_audit_tables(
    chain: None,
) -> None:
    await fetch("INSERT INTO audit_checkpoints VALUES (1, repeat('0', 64), now(), 'k', 's')")
    await fetch("INSERT INTO audit_checkpoint_deliveries (sink, seq) VALUES ('stdout', 1)")
    assert not (await fetch("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))[0][
        "rolsuper"
    ]
    for table in APPEND_ONLY:
        guard = f"{table}_no_update_or_delete"
        for statement in (
            f"UPDATE {table} SET seq = seq"
            if table != "audit_records"
            else "UPDATE audit_records SET action = 'x'",
            f"DELETE FROM {table}",
            f"TRUNCATE {table}",
            f"ALTER TABLE {table} DISABLE TRIGGER USER",
            *(
                (f"ALTER TABLE {table} DISABLE TRIGGER {guard}", f"DROP TRIGGER {guard} ON {table}")
                if (table, guard) in GUARDS  # the deliveries' guard is their grants alone
                else ()
            ),
        ):
            error = await refused_to_the_application(statement)
            assert "permission denied" in error or "must be owner" in error, (statement, error)
    for statement in (
        "SET session_replication_role = replica",
        "DELETE FROM audit_subject_keys",
        "TRUNCATE audit_subject_keys",
        "UPDATE audit_subject_keys SET subject = 'someone else'",
        "CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger"
        " LANGUAGE plpgsql AS 'BEGIN RETURN OLD; END'",
        # an old action's spelling pointed at another name would re-label old entries
        "UPDATE audit_action_names SET action = action",
        "INSERT INTO audit_action_names SELECT 'x.y', 'x.y.z'",
    ):
        error = await refused_to_the_application(statement)
        assert "permission denied" in error or "must be owner" in error, (statement, error)
    # what forgetting and re-wrapping need, it may do
    allowed = "UPDATE audit_subject_keys SET forgotten_at = forgotten_at"
    assert await refused_to_the_application(allowed) == "allowed"
    assert await verify() == await verify()  # nothing above changed anything


# -- entries forged or edited with database rights alone ------------------------------------------


async def test_an_entry_forged_with_insert_is_named(chain: None) -> None:
    await as_superuser(
        "INSERT INTO audit_records (occurred_at, actor_type, actor_id, action, target_type,"
        " target_id, subject, payload, mac)"
        " SELECT occurred_at, actor_type, actor_id, 'change_request.approve.succeeded',"
        "  target_type, target_id, subject, payload, 'v1:' || md5('nonce') || ':' ||"
        "  repeat('ab', 32) FROM audit_records ORDER BY id LIMIT 1"
    )
    await seal_pending()
    verdict = await verify()
    assert (verdict.first_bad_seq, verdict.problem) == (
        11,
        "MAC does not match: forged or changed without the gateway's key",
    )


_COPY_FIRST = (
    "INSERT INTO audit_records (occurred_at, actor_type, actor_id, action, target_type,"
    " target_id, request_id, subject, payload, mac)"
    " SELECT occurred_at, actor_type, actor_id, action, target_type, target_id, request_id,"
    "  subject, payload, mac FROM audit_records ORDER BY id LIMIT 1"
)


async def test_a_copied_entry_is_refused_and_with_its_guard_dropped_named(chain: None) -> None:
    with pytest.raises(asyncpg.UniqueViolationError):
        await as_superuser(_COPY_FIRST)
    await as_superuser("DROP INDEX audit_records_mac")
    try:
        await as_superuser(_COPY_FIRST)
        await seal_pending()
        verdict = await verify()
        assert (verdict.first_bad_seq, verdict.problem) == (11, "a copy of entry 1")
        assert await guard_report() == ["guard index audit_records_mac on audit_records is missing"]
    finally:
        await as_superuser(
            "DELETE FROM audit_records WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 11)"
        )
        await as_superuser("CREATE UNIQUE INDEX audit_records_mac ON audit_records (mac)")


async def test_an_entry_without_a_mac_is_named(chain: None) -> None:
    await as_superuser(
        "INSERT INTO audit_records (occurred_at, actor_type, actor_id, action, target_type,"
        " target_id, subject, payload) VALUES (now(), 'system', 'gateway', 'x.y.succeeded',"
        " 'job', 'purge', 'system', 'erased')"
    )
    await seal_pending()
    verdict = await verify()
    assert (verdict.first_bad_seq, verdict.problem) == (11, "no MAC: not written by the gateway")


async def test_an_entry_edited_before_sealing_is_named(chain: None) -> None:
    await write(3, subject="cus_2")
    await as_superuser(
        "UPDATE audit_records SET target_id = 'cr-elsewhere'"
        " WHERE id = (SELECT max(id) - 1 FROM audit_records)"
    )
    from audit.guards import unsealed_problems

    assert await unsealed_problems() == [
        f"unsealed entry (id {await _max_id() - 1}): MAC does not match:"
        " forged or changed without the gateway's key"
    ]
    await seal_pending()  # sealed as it now is: the chain alone would vouch for it
    verdict = await verify()
    assert verdict.first_bad_seq == 12
    assert verdict.problem == "MAC does not match: forged or changed without the gateway's key"


async def _max_id() -> int:
    return int((await fetch("SELECT max(id) AS id FROM audit_records"))[0]["id"])


async def test_an_entry_edited_after_sealing_and_the_chain_recomputed_is_named(
    chain: None,
) -> None:
    await as_superuser(
        "UPDATE audit_records SET actor_id = '8'"
        " WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 4)"
    )
    await _recompute_chain_from(4)
    verdict = await verify()
    assert (verdict.first_bad_seq, verdict.problem) == (
        4,
        "MAC does not match: forged or changed without the gateway's key",
    )


async def _recompute_chain_from(seq: int) -> None:
    """What an attacker does to make an edit consistent: every hash after it again."""
    rows = await fetch(
        "SELECT c.seq, r.* FROM audit_chain c JOIN audit_records r ON r.id = c.entry_id"
        " WHERE c.seq >= $1 ORDER BY c.seq",
        seq,
    )
    prev = (await fetch("SELECT hash FROM audit_chain WHERE seq = $1", seq - 1))[0]["hash"]
    for row in rows:
        digest = entry_hash(prev, row["seq"], {**row, "data": None})
        await as_superuser(
            "UPDATE audit_chain SET prev_hash = $2, hash = $3 WHERE seq = $1",
            row["seq"],
            prev,
            digest,
        )
        prev = digest


# -- the guards themselves ------------------------------------------------------------------------


async def test_every_guard_is_in_place_after_migrating() -> None:
    assert await guard_report() == []


async def test_a_disabled_or_dropped_trigger_is_reported() -> None:
    async with superuser() as connection:
        await connection.execute(
            "ALTER TABLE audit_records DISABLE TRIGGER audit_records_no_update_or_delete"
        )
        await connection.execute("DROP TRIGGER audit_checkpoints_no_truncate ON audit_checkpoints")
        await connection.execute(
            "ALTER TABLE audit_chain ENABLE REPLICA TRIGGER audit_chain_no_truncate"
        )
        try:
            assert await guard_report() == [
                "guard audit_chain_no_truncate on audit_chain fires only for replication:"
                " off in ordinary sessions",
                "guard audit_checkpoints_no_truncate on audit_checkpoints is missing",
                "guard audit_records_no_update_or_delete on audit_records is disabled",
            ]
        finally:
            await connection.execute(
                "ALTER TABLE audit_records ENABLE TRIGGER audit_records_no_update_or_delete"
            )
            await connection.execute(
                "CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON"
                " audit_checkpoints FOR EACH STATEMENT EXECUTE FUNCTION"
                " audit_records_append_only()"
            )
            await connection.execute(
                "ALTER TABLE audit_chain ENABLE TRIGGER audit_chain_no_truncate"
            )
    assert await guard_report() == []


async def test_a_guard_whose_function_no_longer_refuses_is_reported() -> None:
    async with superuser() as connection:
        original = await connection.fetchval(
            "SELECT pg_get_functiondef('audit_records_append_only'::regproc)"
        )
        await connection.execute(
            "CREATE OR REPLACE FUNCTION audit_records_append_only() RETURNS trigger"
            " LANGUAGE plpgsql AS 'BEGIN RETURN OLD; END'"
        )
        try:
            report = await guard_report()
        finally:
            await connection.execute(original)
    assert report == ["guard function audit_records_append_only() no longer refuses changes"]
    assert await guard_report() == []


async def test_a_data_key_gone_without_an_erasure_entry_is_reported(chain: None) -> None:
    from audit.erasure import forget_subject
    from audit.store import subject_keys

    await write(2, subject="cus_2")
    await write(2, subject="cus_3")
    await forget_subject("cus_2", "GDPR erasure, ticket 4711")  # on record: fine
    await as_superuser("UPDATE audit_subject_keys SET wrapped_key = NULL WHERE subject = 'cus_1'")
    await as_superuser("DELETE FROM audit_subject_keys WHERE subject = 'cus_3'")
    subject_keys().forget_cached("cus_1")
    assert await guard_report() == [
        "the data key of subject cus_1 is gone without an erasure entry",
        "the data key of subject cus_3 is gone without an erasure entry",
    ]


async def test_time_running_backwards_is_reported(
    chain: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import audit.store as store

    real_now = store.now
    monkeypatch.setattr(store, "now", lambda: real_now() - timedelta(hours=2))
    await write(1)  # a writer whose clock is two hours behind
    monkeypatch.setattr(store, "now", real_now)
    await write(1)
    await seal_pending()
    verdict = await verify()
    assert verdict.ok  # a clock is not a forgery...
    assert [slip.seq for slip in verdict.backwards] == [11]  # ...but it is reported
    from audit.guards import describe_backwards

    assert describe_backwards(verdict) == [
        "entry 11 is dated before entry 10 although sealed after it (by 2:00:00)"
    ]


# -- the minute job -------------------------------------------------------------------------------


async def test_the_minute_job_refuses_to_sign_a_chain_that_does_not_verify(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    from audit.jobs import seal_and_checkpoint

    await write(3)
    await seal_and_checkpoint(0)
    assert [row["seq"] for row in await fetch("SELECT seq FROM audit_checkpoints")] == [3]
    await write(3)
    await seal_pending()
    await as_superuser(
        "UPDATE audit_records SET action = 'test.entry.rewritten'"
        " WHERE id = (SELECT entry_id FROM audit_chain WHERE seq = 5)"
    )
    await _recompute_chain_from(5)

    await seal_and_checkpoint(0)
    assert [row["seq"] for row in await fetch("SELECT seq FROM audit_checkpoints")] == [3]
    [refused] = await fetch("SELECT * FROM audit_records WHERE action = 'audit.checkpoint.refused'")
    from audit.store import read_payload

    payload: Any = await read_payload(refused)
    assert payload["after"]["first_bad_seq"] == 5
    logged = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    assert "audit chain does not verify" in logged and "critical" in logged.lower()


async def test_a_checkpoint_planted_ahead_of_the_chain_does_not_silence_the_minute_job() -> None:
    from audit.jobs import seal_and_checkpoint

    await write(3)
    # with the gateway's own credentials: a checkpoint far ahead, so that "nothing new to sign"
    await fetch("INSERT INTO audit_checkpoints VALUES (1000, repeat('0', 64), now(), 'k', 's')")
    await seal_and_checkpoint(0)
    [refused] = await fetch("SELECT * FROM audit_records WHERE action = 'audit.checkpoint.refused'")
    from audit.store import read_payload

    payload: Any = await read_payload(refused)
    assert payload["reason"] == "checkpoint 1000 is not signed by this gateway's key"
    assert [row["seq"] for row in await fetch("SELECT seq FROM audit_checkpoints")] == [1000]


# -- `audit verify` as an operator runs it ---------------------------------------------------------


async def test_the_verify_command_reports_the_guards(chain: None, tmp_path: Path) -> None:
    await as_superuser("UPDATE audit_subject_keys SET wrapped_key = NULL WHERE subject = 'cus_1'")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "audit",
        "verify",
        env={**os.environ, "BG_LOG_FORMAT": "console"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    text = output.decode()
    assert process.returncode == 1, text
    assert "10 entries" in text
    assert "the data key of subject cus_1 is gone without an erasure entry" in text


# -- data keys: only forgotten or re-wrapped, and every live one unwraps --------------------------


async def _readable(subject: str) -> bool:
    from audit.store import read_payload

    rows = await fetch("SELECT * FROM audit_records WHERE subject = $1 ORDER BY id", subject)
    return all([await read_payload(row) is not None for row in rows]) and bool(rows)


def _rotated_ring() -> Any:
    import secrets

    from settings import get_settings

    old = get_settings().keys
    return type(old)({"next": secrets.token_bytes(32), **old.encryption_keys}, "next", old.hash_key)


async def test_the_application_role_cannot_damage_or_bring_back_a_data_key(chain: None) -> None:
    from audit.erasure import forget_subject
    from audit.store import subject_keys

    await write(2, subject="cus_2")
    for statement in (
        "UPDATE audit_subject_keys SET wrapped_key = 'x' WHERE subject = 'cus_1'",
        "UPDATE audit_subject_keys SET wrapped_key = 'x', kek_id = kek_id WHERE subject = 'cus_1'",
        "UPDATE audit_subject_keys SET kek_id = 'other' WHERE subject = 'cus_1'",
        "UPDATE audit_subject_keys SET wrapped_key = NULL WHERE subject = 'cus_1'",
        "UPDATE audit_subject_keys SET forgotten_at = now() WHERE subject = 'cus_1'",
        "UPDATE audit_subject_keys SET wrapped_key = 'x', forgotten_at = now()"
        " WHERE subject = 'cus_1'",
        "UPDATE audit_subject_keys SET wrapped_key = NULL, forgotten_at = now(),"
        " kek_id = 'other' WHERE subject = 'cus_1'",
    ):
        error = await refused_to_the_application(statement)
        assert "only forgetting a subject or re-wrapping its key" in error, (statement, error)
    subject_keys().forget_cached("cus_1")
    assert await _readable("cus_1")  # nothing above got through

    [before] = await fetch("SELECT * FROM audit_subject_keys WHERE subject = 'cus_2'")
    assert await forget_subject("cus_2", "GDPR erasure, ticket 4711")
    for statement in (  # a forgotten key never comes back, and is forgotten once
        f"UPDATE audit_subject_keys SET wrapped_key = '{before['wrapped_key']}',"
        " forgotten_at = NULL WHERE subject = 'cus_2'",
        f"UPDATE audit_subject_keys SET wrapped_key = '{before['wrapped_key']}'"
        " WHERE subject = 'cus_2'",
        "UPDATE audit_subject_keys SET forgotten_at = NULL WHERE subject = 'cus_2'",
        "UPDATE audit_subject_keys SET forgotten_at = now() + interval '1 day'"
        " WHERE subject = 'cus_2'",
        "UPDATE audit_subject_keys SET kek_id = 'other' WHERE subject = 'cus_2'",
    ):
        error = await refused_to_the_application(statement)
        assert "only forgetting a subject or re-wrapping its key" in error, (statement, error)
    subject_keys().forget_cached("cus_2")
    assert not await _readable("cus_2")
    assert await guard_report() == []


async def test_forgetting_and_rotating_still_work_under_the_guard(chain: None) -> None:
    from audit.erasure import forget_subject
    from audit.guards import guard_problems
    from audit.keys import SubjectKeys
    from audit.store import subject_keys

    await write(2, subject="cus_2")
    await write(2, subject="cus_3")
    assert await forget_subject("cus_2", "GDPR erasure, ticket 4711")
    assert not await forget_subject("cus_2", "asked twice")  # nothing left to forget
    subject_keys().forget_cached("cus_2")
    assert not await _readable("cus_2") and await _readable("cus_3")

    rotated = _rotated_ring()
    assert await SubjectKeys(rotated).rewrap_all() == 3  # cus_1, cus_3 and system
    assert await SubjectKeys(rotated).rewrap_all() == 0
    kek_ids = await fetch(
        "SELECT DISTINCT kek_id FROM audit_subject_keys WHERE wrapped_key IS NOT NULL"
    )
    assert kek_ids == [{"kek_id": "next"}]
    assert await guard_problems(rotated) == []
    # and a rotation back to the old key-encryption key is a rotation too
    from settings import get_settings

    old = get_settings().keys
    back = type(old)({**rotated.encryption_keys}, old.active_key_id, old.hash_key)
    assert await SubjectKeys(back).rewrap_all() == 3
    subject_keys().forget_cached("cus_3")
    assert await _readable("cus_3")
    assert await guard_report() == []


async def test_a_data_key_that_does_not_unwrap_is_reported(chain: None) -> None:
    import secrets

    from audit.keys import _wrap

    await write(1, subject="cus_2")
    await write(1, subject="cus_3")
    garbage = "Z2FyYmFnZSBrZXkgbWF0ZXJpYWwgZ2FyYmFnZSBrZXk="
    await as_superuser(
        "UPDATE audit_subject_keys SET wrapped_key = $1 WHERE subject = 'cus_1'", garbage
    )
    foreign = _wrap(secrets.token_bytes(32), secrets.token_bytes(32), "cus_2")
    await as_superuser(
        "UPDATE audit_subject_keys SET wrapped_key = $1 WHERE subject = 'cus_2'", foreign
    )
    # the shape of a rotation passes the trigger, with the gateway's own role: verify names it
    await fetch(
        "UPDATE audit_subject_keys SET kek_id = 'gone', wrapped_key = 'x' WHERE subject = 'cus_3'"
    )
    report = await guard_report()
    assert report == [
        "the data key of subject cus_1 does not unwrap with BG_ENCRYPTION_KEYS:"
        " its payloads cannot be read",
        "the data key of subject cus_2 does not unwrap with BG_ENCRYPTION_KEYS:"
        " its payloads cannot be read",
        "the data key of subject cus_3 is wrapped by key gone, which BG_ENCRYPTION_KEYS"
        " does not hold: its payloads cannot be read",
    ]
    assert garbage not in " ".join(report) and foreign not in " ".join(report)


async def test_unwrapping_six_thousand_data_keys_is_quick() -> None:
    import secrets
    import time

    from audit.keys import _wrap
    from settings import get_settings

    keys = get_settings().keys
    kek = keys.encryption_keys[keys.active_key_id]
    subjects = [f"cus_{n}" for n in range(6000)]
    await fetch(
        "INSERT INTO audit_subject_keys (subject, key_id, wrapped_key, kek_id)"
        " SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::text[], $4::varchar[])",
        subjects,
        [f"dk-{n}" for n in range(6000)],
        [_wrap(kek, secrets.token_bytes(32), subject) for subject in subjects],
        [keys.active_key_id] * 6000,
    )
    await as_superuser("UPDATE audit_subject_keys SET wrapped_key = 'x' WHERE subject = 'cus_4321'")
    started = time.monotonic()
    report = await guard_report()
    elapsed = time.monotonic() - started
    assert report == [
        "the data key of subject cus_4321 does not unwrap with BG_ENCRYPTION_KEYS:"
        " its payloads cannot be read"
    ]
    assert elapsed < 2, elapsed


async def test_the_data_key_guard_switched_off_is_reported() -> None:
    async with superuser() as connection:
        await connection.execute(
            "ALTER TABLE audit_subject_keys DISABLE TRIGGER"
            " audit_subject_keys_forget_or_rotate_only"
        )
        try:
            assert await guard_report() == [
                "guard audit_subject_keys_forget_or_rotate_only on audit_subject_keys is disabled"
            ]
        finally:
            await connection.execute(
                "ALTER TABLE audit_subject_keys ENABLE TRIGGER"
                " audit_subject_keys_forget_or_rotate_only"
            )
        await connection.execute(
            "DROP TRIGGER audit_subject_keys_forget_or_rotate_only ON audit_subject_keys"
        )
        try:
            assert await guard_report() == [
                "guard audit_subject_keys_forget_or_rotate_only on audit_subject_keys is missing"
            ]
        finally:
            await connection.execute(
                "CREATE TRIGGER audit_subject_keys_forget_or_rotate_only BEFORE UPDATE ON"
                " audit_subject_keys FOR EACH ROW EXECUTE FUNCTION audit_subject_keys_guard()"
            )
    assert await guard_report() == []


async def test_the_verify_command_names_a_data_key_that_does_not_unwrap(chain: None) -> None:
    garbage = "Z2FyYmFnZSBrZXkgbWF0ZXJpYWwgZ2FyYmFnZSBrZXk="
    await as_superuser(
        "UPDATE audit_subject_keys SET wrapped_key = $1 WHERE subject = 'cus_1'", garbage
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "audit",
        "verify",
        env={**os.environ, "BG_LOG_FORMAT": "console"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    text = output.decode()
    assert process.returncode == 1, text
    assert "the data key of subject cus_1 does not unwrap with BG_ENCRYPTION_KEYS" in text
    assert garbage not in text
