"""Every state change writes its audit entry in the same transaction: what an auditor sees for
sign-in, sign-out, key rotation, back-office steps, API key revocation and checkpoints, and that
a failure after the change leaves neither the change nor its entry."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar

import audit.sinks as sinks_module
import gateway.api_keys.service as api_keys_module
import gateway.staff.login as login_module
from audit.actions import Action
from audit.chain import seal_pending
from audit.checkpoints import (
    against_checkpoints,
    public_key_of,
    read_checkpoints,
    write_checkpoint,
)
from audit.entry import SYSTEM, AuditEntry
from audit.keys import _unwrap, _wrap
from audit.sinks import DirectorySink
from audit.store import append, read_payload, subject_keys
from gateway.api_keys.service import revoke_key
from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch
from gateway.staff.login import CodeNeeded, EnrolmentNeeded, Refused, StaffLogin
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from settings import get_settings
from tests.database import issue_test_key
from tests.integration.staff import PASSWORD, Staff, enrol
from tests.integration.test_back_office import claim, file
from tests.payloads import iban_change


class SimulatedCrashError(Exception):
    """A failure after the change, before its transaction commits."""


def crash_on(action: str, real: Callable[[AuditEntry], Any]) -> Callable[[AuditEntry], Any]:
    async def append_or_crash(entry: AuditEntry) -> None:
        if entry.action == action:
            raise SimulatedCrashError(action)
        await real(entry)

    return append_or_crash


def staff_login() -> StaffLogin:
    settings = get_settings()
    return StaffLogin(settings, Cipher(settings.keys))


async def entries(action: str) -> list[dict[str, Any]]:
    return await fetch("SELECT * FROM audit_records WHERE action = $1 ORDER BY id", action)


async def account(username: str) -> dict[str, Any]:
    [row] = await fetch(
        "SELECT failed_logins, locked_until FROM staff_users WHERE username = $1", username
    )
    return row


# -- 1. a wrong password: the count, the lock and their entries commit together ----------------


async def test_the_failure_that_locks_an_account_is_recorded_with_the_lock() -> None:
    await create_staff("sam", "sam@example.com", Role.SPECIALIST, SYSTEM, password=PASSWORD)
    login = staff_login()
    for _ in range(9):
        assert isinstance(await login.check_password("sam", "wrong password!"), Refused)
    assert (await account("sam"))["failed_logins"] == 9
    assert len(await entries("staff.login.failed")) == 9
    refused = await login.check_password("sam", "wrong password!")
    assert isinstance(refused, Refused) and "locked" in refused.message
    [failed] = (await entries("staff.login.failed"))[-1:]
    assert (await read_payload(failed) or {})["after"]["failures"] == 10
    [started] = await entries("staff.lock_out.started")
    assert started["target_id"] == "sam"
    assert (await account("sam"))["locked_until"] is not None


async def test_a_crash_before_the_lockout_entry_leaves_the_account_unlocked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await create_staff("sam", "sam@example.com", Role.SPECIALIST, SYSTEM, password=PASSWORD)
    await fetch("UPDATE staff_users SET failed_logins = 9")
    monkeypatch.setattr(
        login_module, "append", crash_on("staff.lock_out.started", login_module.append)
    )
    with pytest.raises(SimulatedCrashError):
        await staff_login().check_password("sam", "wrong password!")
    state = await account("sam")
    # Neither the lock nor its entries; the attempt itself was counted before the hash.
    assert state["locked_until"] is None and state["failed_logins"] == 10
    assert await entries("staff.login.failed") == []
    assert await entries("staff.lock_out.started") == []


# -- 2. the right password: the challenge and its entry commit together -----------------------


async def test_the_right_password_is_recorded_without_any_secret(app: Litestar) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    outcome = await staff_login().check_password("sam", PASSWORD)
    assert isinstance(outcome, CodeNeeded)
    accepted = await entries("staff.check_password.succeeded")
    assert [row["target_id"] for row in accepted] == ["sam", "sam"]  # enrolment, then now
    payloads = [await read_payload(row) for row in accepted]
    assert [(payload or {})["after"] for payload in payloads] == [
        {"next_step": "enrolment"},
        {"next_step": "code"},
    ]
    text = json.dumps(payloads) + json.dumps([dict(row, occurred_at=None) for row in accepted])
    for secret in (outcome.challenge, sam.secret, PASSWORD):
        assert secret not in text
    assert (await account("sam"))["failed_logins"] == 0


async def test_a_crash_before_the_password_entry_opens_no_challenge(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await create_staff("sam", "sam@example.com", Role.SPECIALIST, SYSTEM, password=PASSWORD)
    monkeypatch.setattr(
        login_module, "append", crash_on("staff.check_password.succeeded", login_module.append)
    )
    with pytest.raises(SimulatedCrashError):
        await staff_login().check_password("sam", PASSWORD)
    assert await fetch("SELECT id FROM staff_login_challenges") == []
    assert await entries("staff.check_password.succeeded") == []
    assert (await account("sam"))["failed_logins"] == 1  # the attempt stays counted: safe side
    monkeypatch.undo()
    assert isinstance(await staff_login().check_password("sam", PASSWORD), EnrolmentNeeded)


# -- 3. sign-out: the session ends with its entry --------------------------------------------


async def test_sign_out_ends_the_session_and_records_it_together(
    app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    token = sam.client.cookies["id"]
    login = staff_login()
    monkeypatch.setattr(
        login_module, "append", crash_on("staff.logout.succeeded", login_module.append)
    )
    with pytest.raises(SimulatedCrashError):
        await login.end_session(token)
    assert await login.resolve_session(token) is not None  # still signed in
    assert await entries("staff.logout.succeeded") == []
    monkeypatch.undo()
    ended = await login.end_session(token)
    assert ended is not None and ended.username == "sam"
    assert await login.resolve_session(token) is None
    [logout] = await entries("staff.logout.succeeded")
    assert logout["target_id"] == "sam"


# -- 4. key rotation: recorded before the first key is re-wrapped ----------------------------

_DIES_AFTER_FIRST_REWRAP = """
import os, sys
import audit.keys as keys
real = keys.fetch
async def fetch(sql, *args):
    rows = await real(sql, *args)
    if sql.startswith("UPDATE audit_subject_keys"):
        os._exit(9)  # killed right after the first re-wrap
    return rows
keys.fetch = fetch
sys.argv = ["gateway", "audit", "rotate-keys"]
from gateway.cli import main
main()
"""


async def _run(environment: dict[str, str], *arguments: str) -> tuple[int | None, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *arguments,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode, output.decode()


async def test_a_rotation_killed_after_one_key_has_left_its_start_on_record() -> None:
    old = get_settings().keys
    old_kek = old.encryption_keys[old.active_key_id]
    data_keys = {f"cus_{n}": secrets.token_bytes(32) for n in range(3)}
    for subject, key in data_keys.items():
        await fetch(
            "INSERT INTO audit_subject_keys (subject, key_id, wrapped_key, kek_id)"
            " VALUES ($1, $2, $3, $4)",
            subject,
            f"dk-{subject}",
            _wrap(old_kek, key, subject),
            old.active_key_id,
        )
    new_kek = secrets.token_bytes(32)
    ring = ",".join(
        [f"next:{base64.b64encode(new_kek).decode()}"]
        + [f"{kid}:{base64.b64encode(key).decode()}" for kid, key in old.encryption_keys.items()]
    )
    environment = {
        **os.environ,
        "BG_ENCRYPTION_KEYS": ring,
        "BG_HASH_KEY": base64.b64encode(old.hash_key).decode(),
    }

    code, output = await _run(environment, "-c", _DIES_AFTER_FIRST_REWRAP)
    assert code == 9, output
    moved = await fetch(
        "SELECT subject FROM audit_subject_keys WHERE kek_id = 'next' AND subject LIKE 'cus_%'"
    )
    assert len(moved) == 1  # one key re-wrapped...
    [started] = await entries("audit.rotate_keys.started")  # ...and on record
    assert started["subject"] == "system"
    rotation = read_payload_under(new_kek, old)
    assert (await rotation(started))["after"] == {"kek_id": "next", "to_rewrap": 3}
    assert await entries("audit.rotate_keys.succeeded") == []

    code, output = await _run(environment, "-m", "gateway", "audit", "rotate-keys")
    assert code == 0, output
    assert "re-wrapped 2 data keys" in output
    first, second = await entries("audit.rotate_keys.started")
    assert first["id"] == started["id"]
    assert (await rotation(second))["after"] == {"kek_id": "next", "to_rewrap": 2}
    [rotated] = await entries("audit.rotate_keys.succeeded")
    assert rotated["id"] > second["id"]
    assert (await rotation(rotated))["after"] == {"rewrapped": 2}
    for row in await fetch("SELECT * FROM audit_subject_keys WHERE subject LIKE 'cus_%'"):
        assert row["kek_id"] == "next"
        assert _unwrap(new_kek, row["wrapped_key"], row["subject"]) == data_keys[row["subject"]]


def read_payload_under(new_kek: bytes, old: Any) -> Callable[[dict[str, Any]], Any]:
    from audit.keys import SubjectKeys
    from audit.store import associated_data

    keys = SubjectKeys(type(old)({"next": new_kek, **old.encryption_keys}, "next", old.hash_key))

    async def read(row: dict[str, Any]) -> dict[str, Any]:
        plain = await keys.decrypt(row["subject"], row["payload"], associated_data(row))
        return dict(json.loads(plain))

    return read


# -- 5. back-office steps: keyed by the request's customer, so forgetting them erases them ----


async def test_back_office_entries_are_keyed_by_the_customer_and_forgotten_with_them(
    http: httpx.AsyncClient, api_key: str, app: Litestar
) -> None:
    sam = await enrol(app, "sam", Role.SPECIALIST)
    # No back-office id: the Zuora account is the subject, as for the request's creation.
    body = iban_change(ticket="5001")
    body["customer"] = {"zuora_account_id": "A00000501", "stripe_customer_id": "cus_Five"}
    filed = await file(http, api_key, body)
    await claim(sam)  # Apply's entries are keyed the same way (tests/integration/test_apply.py)
    rows = await fetch("SELECT * FROM audit_records WHERE target_id = $1 ORDER BY id", filed["id"])
    assert [(row["action"], row["subject"]) for row in rows] == [
        ("change_request.create.succeeded", "A00000501"),
        ("change_request.assign.succeeded", "A00000501"),
        ("change_request.start.succeeded", "A00000501"),
    ]
    assert None not in [await read_payload(row) for row in rows]
    assert await subject_keys().forget("A00000501")
    assert [await read_payload(row) for row in rows] == [None] * 3


async def test_the_back_office_id_comes_first(
    http: httpx.AsyncClient, api_key: str, app: Litestar
) -> None:
    sam: Staff = await enrol(app, "sam", Role.SPECIALIST)
    filed = await file(http, api_key, iban_change(ticket="5002"))  # shop-101 and A00000101
    await claim(sam)
    subjects = await fetch(
        "SELECT DISTINCT subject FROM audit_records WHERE target_id = $1", filed["id"]
    )
    assert subjects == [{"subject": "shop-101"}]


# -- 6. two revokes at once: one entry ---------------------------------------------------------


async def test_two_revokes_at_once_write_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    key = await issue_test_key()
    prefix = key.split("_")[1]
    real = api_keys_module.append

    async def slow_append(entry: AuditEntry) -> None:
        await asyncio.sleep(0.3)  # the first revoke still holds its transaction open
        await real(entry)

    monkeypatch.setattr(api_keys_module, "append", slow_append)
    first, second = await asyncio.gather(
        revoke_key(prefix, actor=SYSTEM, reason="leaked"),
        revoke_key(prefix, actor=SYSTEM, reason="leaked, again"),
    )
    assert len(await entries("api_key.revoke.succeeded")) == 1
    # The second caller waited for the first, then got the key back as revoked by it.
    assert first.revoked_at is not None and second.revoked_at is not None
    assert first.revoked_at == second.revoked_at
    assert (await revoke_key(prefix, actor=SYSTEM, reason="once more")).revoked_at
    assert len(await entries("api_key.revoke.succeeded")) == 1


# -- 7. checkpoints: a line lost to a crash is written by the next run -------------------------


async def _write_entries(count: int) -> None:
    for number in range(count):
        await append(
            AuditEntry(
                action=Action.CHANGE_REQUEST_CONTACT_REASONS_RECORDED,
                actor=SYSTEM,
                about={},
                target_id=str(number),
            )
        )
    await seal_pending()


async def test_a_checkpoint_line_lost_to_a_crash_is_written_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = get_settings().audit_signing_seed
    path = tmp_path / "checkpoints.jsonl"
    await _write_entries(3)

    def crash(*_args: object) -> int:
        raise SimulatedCrashError("between the row and the line")

    monkeypatch.setattr(sinks_module, "_append_lines", crash)
    with pytest.raises(SimulatedCrashError):
        await write_checkpoint(seed, DirectorySink(tmp_path))
    assert [row["seq"] for row in await fetch("SELECT seq FROM audit_checkpoints")] == [3]
    assert not path.exists()
    monkeypatch.undo()

    retried = await write_checkpoint(
        seed, DirectorySink(tmp_path)
    )  # the same head: the row is there already
    assert retried is not None and retried.seq == 3
    assert [kept.seq for kept in read_checkpoints(path)] == [3]
    await _write_entries(2)
    await write_checkpoint(seed, DirectorySink(tmp_path))
    await write_checkpoint(seed, DirectorySink(tmp_path))  # nothing new: no line twice
    kept = read_checkpoints(path)
    assert [checkpoint.seq for checkpoint in kept] == [3, 5]
    assert await against_checkpoints(kept, public_key_of(seed)) is None
    stored = await fetch("SELECT seq, signed_at FROM audit_checkpoints ORDER BY seq")
    assert [checkpoint.signed_at for checkpoint in kept] == [
        row["signed_at"].isoformat() for row in stored
    ]


async def test_a_line_cut_short_by_a_crash_is_written_again_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = get_settings().audit_signing_seed
    path = tmp_path / "checkpoints.jsonl"
    await _write_entries(2)
    await write_checkpoint(seed, DirectorySink(tmp_path))
    whole = path.read_text()

    def cut_short(target: Path, lines: list[str]) -> int:
        with target.open("a") as file:
            file.write(lines[0][:40])
        raise SimulatedCrashError("half-way through the line")

    await _write_entries(1)
    monkeypatch.setattr(sinks_module, "_append_lines", cut_short)
    with pytest.raises(SimulatedCrashError):
        await write_checkpoint(seed, DirectorySink(tmp_path))
    monkeypatch.undo()
    await write_checkpoint(seed, DirectorySink(tmp_path))
    kept = read_checkpoints(path)
    assert [checkpoint.seq for checkpoint in kept] == [2, 3]
    assert path.read_text().startswith(whole)
    assert await against_checkpoints(kept, public_key_of(seed)) is None
