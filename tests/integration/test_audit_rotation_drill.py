"""The key-rotation drill: `billing-gateway audit rotate-keys` runs as its own process, is killed
with SIGKILL half-way, and is started again. Every data key ends up wrapped by the new
key-encryption key, unchanged (every payload still reads), none re-wrapped twice."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import signal
import subprocess
import sys
import time

import pytest

from audit.actions import Action
from audit.entry import Actor, AuditEntry
from audit.keys import SubjectKeys, _unwrap, _wrap
from audit.store import append, associated_data
from gateway.core.db.connection import fetch
from settings import get_settings

SUBJECTS = 6000  # enough that the first run is still re-wrapping when it is killed


def _rotate_keys(environment: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "audit", "rotate-keys"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def _rewrapped() -> int:
    rows = await fetch(
        "SELECT count(*) AS n FROM audit_subject_keys WHERE kek_id = 'next' AND subject <> 'system'"
    )
    return int(rows[0]["n"])


@pytest.mark.usefixtures("clean")
async def test_rotation_killed_half_way_finishes_on_restart() -> None:
    old = get_settings().keys
    old_kek = old.encryption_keys[old.active_key_id]
    data_keys = {f"cus_{n}": secrets.token_bytes(32) for n in range(SUBJECTS)}
    await fetch(
        "INSERT INTO audit_subject_keys (subject, key_id, wrapped_key, kek_id)"
        " SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::text[], $4::varchar[])",
        list(data_keys),
        [f"dk-{n}" for n in range(SUBJECTS)],
        [_wrap(old_kek, key, subject) for subject, key in data_keys.items()],
        [old.active_key_id] * SUBJECTS,
    )
    for subject in ("cus_1", "cus_5999"):  # payloads written before the rotation
        await append(
            AuditEntry(
                action=Action.CHANGE_REQUEST_CONTACT_REASONS_RECORDED,
                actor=Actor(kind="system", id="drill"),
                target_id=subject,
                about={"backoffice_id": subject},
                after={"before": "rotation"},
            )
        )

    new_kek = secrets.token_bytes(32)
    ring = ",".join(
        [f"next:{base64.b64encode(new_kek).decode()}"]
        + [
            f"{key_id}:{base64.b64encode(key).decode()}"
            for key_id, key in old.encryption_keys.items()
        ]
    )
    environment = {
        **os.environ,
        "BG_ENCRYPTION_KEYS": ring,
        "BG_HASH_KEY": base64.b64encode(old.hash_key).decode(),
    }

    first = _rotate_keys(environment)
    deadline = time.monotonic() + 60
    while (done := await _rewrapped()) == 0 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # polling another process's progress in the database
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = await _rewrapped()
    assert 0 < done <= killed_at < SUBJECTS, "the first run was not killed half-way"
    left = await fetch("SELECT count(*) AS n FROM audit_subject_keys WHERE kek_id <> 'next'")

    second = _rotate_keys(environment)
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output
    assert f"re-wrapped {left[0]['n']} data keys" in output  # none of them twice

    rows = await fetch("SELECT subject, wrapped_key, kek_id FROM audit_subject_keys")
    assert {row["kek_id"] for row in rows} == {"next"}
    ours = [row for row in rows if row["subject"] in data_keys]
    assert len(ours) == SUBJECTS
    for row in ours:  # the same data key, now under the new key-encryption key
        assert _unwrap(new_kek, row["wrapped_key"], row["subject"]) == data_keys[row["subject"]]
    [recorded] = await fetch(
        "SELECT * FROM audit_records WHERE action = 'audit.rotate_keys.succeeded'"
    )  # only the finished run records the rotation
    rotated = type(old)({"next": new_kek}, "next", old.hash_key)
    readable = SubjectKeys(rotated)
    for row in await fetch(
        "SELECT * FROM audit_records WHERE action = 'change_request.contact_reasons.recorded'"
    ):
        plain = await readable.decrypt(row["subject"], row["payload"], associated_data(row))
        assert b"rotation" in plain
    assert recorded["subject"] == "system"
