"""Entries as the trail has stored them since MACs came in, pinned byte for byte (written by the
code of commit 08df39d under the fixed keys, time and randomness below): they must still verify,
chain and decrypt, and a new entry under the same inputs must be written exactly as they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import pytest
import structlog
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit import mac, store
from audit.actions import Action
from audit.chain import GENESIS, entry_hash
from audit.entry import SYSTEM, Actor, AuditEntry
from audit.keys import DataKey, SubjectKeys
from settings import get_settings

WHEN = datetime(2026, 12, 5, 21, 0, 0, 123456, tzinfo=UTC)
RANDOM = bytes(range(1, 13)) + bytes(range(101, 110))  # the payload's nonce, then the MAC's
DATA_KEYS = {"cus_1": ("dk-0123456789ab", b"d" * 32), "system": ("dk-5y5t3m000000", b"s" * 32)}
ENTRIES = [
    AuditEntry(
        action=Action.CHANGE_REQUEST_PROCESS_SUCCEEDED,
        actor=Actor(kind="staff", id="7", role="specialist"),
        about={"id": "cr-1", "backoffice_id": "cus_1"},
        reason="customer asked by phone",
        before={"status": "in_progress"},
        after={"status": "processed", "reasons": ["Billing"]},
        provider_request_ids={"zuora": "req-9"},
        request_id="req-abc",
    ),
    AuditEntry(
        action=Action.API_KEY_CREATE_SUCCEEDED,
        actor=Actor(kind="api_key", id="k-1"),
        about={"id": "key-12345678901234"},
        reason="card 4539 5787 6362 1486 on the phone",
    ),
]
ROWS: list[dict[str, Any]] = [
    {
        "id": 41,
        "actor_type": "staff",
        "actor_id": "7",
        "action": "change_request.process.succeeded",
        "target_type": "change_request",
        "target_id": "cr-1",
        "request_id": "req-abc",
        "subject": "cus_1",
        "payload": "v1:aes256gcm:dk-0123456789ab:AQIDBAUGBwgJCgsMp1qQVMMteCxsFyFMQEZ1I37/cuKEewX/"
        "znGhL9lS0Cjq6PXYW4BJ0L+XbmhEqKSNuVCZjvv/Z0eq7mwpDC5aMwO6dKa4f0bYad+Vu52qSbRS2niW/uRF3i5Ff"
        "WMRZRYDWDiCoS54u92D5anZ+UlojxGUmdm4f+l5uYlf4BAH+icrFlrkjnJ0A6WFwWWVKr6rvR965AfjXyBbS/d46"
        "6c0sVRREzLgJ8PN7utEg849FvqclJERRk5dlB6KukOXkYyV2aGa+BYsuHOcd/uPrno=",
        "occurred_at": WHEN,
        "mac": "v1:0661e9469b564065666768696a6b6c6d:"
        "7e4e92adbffbe91b550465ea9a36232e6b67dc962952a1553c8f180064ac5ddc",
    },
    {
        "id": 42,
        "actor_type": "api_key",
        "actor_id": "k-1",
        "action": "api_key.create.succeeded",
        "target_type": "api_key",
        "target_id": "key-12345678901234",
        "request_id": None,
        "subject": "system",
        "payload": "v1:aes256gcm:dk-5y5t3m000000:AQIDBAUGBwgJCgsMgOCFJmbEaGh1btVPxsuQPR44MOrgdDa6"
        "g1cxZTs6bDexm/BMycwDSsIu7E21BLQ/G21OnXlJ1a2SUTy+FANQnL+XYNa32FHf8PnqwiMUnC7yHqNwMwjmpZlyR"
        "Ng0DNi5MzYEiOeOY3QMy9YPMFvR6nSNH80tc0kIlOTbnmTVIG6+PJNKNQ==",
        "occurred_at": WHEN,
        "mac": "v1:0661e9469b564065666768696a6b6c6d:"
        "478b4cfea084003a180c63e364d55f5f46d8252636c165e7dbf02f08679f7cd7",
    },
]
HASHES = [
    "0c477177913ee2883f574819d017e5da80d7ab0435727fd2a7c31205a87e6159",
    "aed291d03a35a3fd5f3f473f5d7f0065908c7ea53094e973887c6912e0b8b148",
]
PLAINTEXTS = [
    b'{"actor_role":"specialist","reason":"customer asked by phone","before":{"status":'
    b'"in_progress"},"after":{"status":"processed","reasons":["Billing"]},'
    b'"provider_request_ids":{"zuora":"req-9"}}',
    b'{"actor_role":null,"reason":"card [card ****1486] on the phone","before":null,'
    b'"after":null,"provider_request_ids":{}}',
]


@pytest.fixture
def fixed_keys(monkeypatch: pytest.MonkeyPatch) -> SubjectKeys:
    """The MAC key derived from a fixed hash key, and each subject's data key held in memory."""
    monkeypatch.setattr(mac, "_keyed", lambda: mac.keyed(mac.derive_key(b"h" * 32)))
    keys = SubjectKeys(get_settings().keys)
    for subject, (key_id, key) in DATA_KEYS.items():
        keys._cache[subject] = DataKey(key_id, AESGCM(key))
    monkeypatch.setattr(store, "subject_keys", lambda: keys)
    return keys


async def test_stored_entries_still_verify_chain_and_decrypt(fixed_keys: SubjectKeys) -> None:
    prev = GENESIS
    for seq, (row, digest, plaintext) in enumerate(zip(ROWS, HASHES, PLAINTEXTS, strict=True), 1):
        assert mac.mac_matches(row)
        assert entry_hash(prev, seq, row) == digest
        associated = store.associated_data(row)
        assert await fixed_keys.decrypt(row["subject"], row["payload"], associated) == plaintext
        prev = digest


async def test_a_new_entry_is_written_exactly_as_before(
    fixed_keys: SubjectKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "now", lambda: WHEN)
    for entry, row in zip(ENTRIES, ROWS, strict=True):
        stream = iter(RANDOM)  # however many reads take them, the same bytes in the same order
        monkeypatch.setattr("os.urandom", lambda size, bytes_=stream: bytes(islice(bytes_, size)))
        prepared = await store.prepare(entry)
        written = dict(zip([*mac.FIELDS, "occurred_at", "mac"], prepared.values, strict=True))
        stored = {name: value for name, value in row.items() if name != "id"}
        assert written == {**stored, "occurred_at": mac.micros_of(WHEN)}
        assert prepared.key_id == DATA_KEYS[row["subject"]][0]


async def test_an_entry_carries_the_request_id_bound_to_the_log_context(
    fixed_keys: SubjectKeys,
) -> None:
    unnamed = AuditEntry(action=Action.API_KEY_CREATE_SUCCEEDED, actor=SYSTEM, about={"id": "k"})
    with structlog.contextvars.bound_contextvars(request_id="req-outer"):
        with structlog.contextvars.bound_contextvars(request_id="req-inner"):
            assert (await store.prepare(unnamed)).values[5] == "req-inner"
        assert (await store.prepare(unnamed)).values[5] == "req-outer"
        named = replace(unnamed, request_id="req-given")
        assert (await store.prepare(named)).values[5] == "req-given"
        structlog.contextvars.clear_contextvars()
        assert (await store.prepare(unnamed)).values[5] is None
    assert (await store.prepare(unnamed)).values[5] is None
