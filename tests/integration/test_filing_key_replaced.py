"""Filing writes its audit entry, row, answer and event in one statement, the entry only under
its subject's live data key: when another process forgot the subject meanwhile, nothing is
written, and the filing seals its entry again (as `audit.append` does) and succeeds."""

from __future__ import annotations

import uuid

import httpx
import pytest

from audit import queries as audit_queries
from audit.actions import Action
from audit.entry import SYSTEM, AuditEntry
from audit.store import prepare, subject_keys
from gateway.change_requests import queries
from gateway.change_requests.tables import ChangeRequest
from gateway.core.db.connection import fetch
from tests.database import auth
from tests.payloads import iban_change

URL = "/v1/change-requests"
ACTION = "change_request.create.succeeded"


async def _count(sql: str) -> int:
    return int((await fetch(sql))[0]["n"])


async def _entries() -> list[dict[str, object]]:
    return await fetch(
        "SELECT subject, payload FROM audit_records WHERE action = $1 ORDER BY id", ACTION
    )


async def test_a_subject_forgotten_elsewhere_refiles_with_an_erased_entry(
    http: httpx.AsyncClient, api_key: str
) -> None:
    first = await http.post(URL, json=iban_change(), headers=auth(api_key, "kr-1"))
    assert first.status_code == 201, first.text
    [entry] = await _entries()
    subject = str(entry["subject"])
    assert subject_keys()._cache.get(subject) is not None  # this process holds the key
    await fetch(audit_queries.FORGET, subject)  # as another process would: our cache is stale

    second = await http.post(URL, json=iban_change(), headers=auth(api_key, "kr-2"))
    assert second.status_code == 201, second.text
    entries = await _entries()
    assert [e["payload"] for e in entries][-1] == "erased"
    assert await _count("SELECT count(*) AS n FROM change_requests") == 2
    [stored] = await fetch("SELECT response_body FROM idempotency_keys WHERE key = 'kr-2'")
    assert stored["response_body"] == second.content
    events = await _count(
        "SELECT count(*) AS n FROM notification_events WHERE type = 'change_request.filed'"
    )
    assert events == 2


async def test_nothing_is_written_under_a_stale_key(http: httpx.AsyncClient, api_key: str) -> None:
    first = await http.post(URL, json=iban_change(), headers=auth(api_key, "kr-3"))
    assert first.status_code == 201, first.text
    [api_key_row] = await fetch("SELECT id FROM api_keys")
    row = ChangeRequest(
        kind="plan_change",
        status="new",
        ticket="zendesk:kr-4",
        requester={"name": "Ana"},
        contact_reasons=[],
        details={},
        api_key=api_key_row["id"],
        client="test-tool",
        idempotency_key="kr-4",
        zuora_account_id="A00000101",
    )
    prepared = await prepare(
        AuditEntry(Action.CHANGE_REQUEST_CREATE_SUCCEEDED, SYSTEM, about=row.to_dict())
    )
    assert prepared.key_id is not None
    await fetch(audit_queries.FORGET, prepared.subject)
    with pytest.raises(queries.KeyReplaced):
        await queries.file(row, None, audit=prepared)
    assert await _count("SELECT count(*) AS n FROM change_requests") == 1
    assert len(await _entries()) == 1
    assert not await fetch("SELECT 1 FROM change_requests WHERE id = $1", uuid.UUID(str(row.id)))
