"""Where a lost database connection meets a request, the client gets a 503 problem with
Retry-After: in the API-key look-up (a middleware, outside the handlers) and when the answer of a
request that did its work cannot be stored (past the handler, where Litestar would send a bare
text/plain 500). A retry with the same key then gets the original answer."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from gateway.idempotency import service as idempotency
from tests.database import auth
from tests.payloads import iban_change

URL = "/v1/change-requests"


def _lost(*_args: Any, **_kwargs: Any) -> Any:
    raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")


def _is_unavailable(answer: httpx.Response) -> bool:
    return (
        answer.status_code == 503
        and answer.headers["content-type"].startswith("application/problem+json")
        and answer.json()["code"] == "service_unavailable"
        and int(answer.headers["retry-after"]) > 0
    )


async def test_the_key_look_up_meeting_an_outage_answers_503(
    http: httpx.AsyncClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.edge.auth.authenticate", _lost)
    assert _is_unavailable(await http.get(URL, headers=auth(api_key)))


def _fail_the_first_answer_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The database is lost as the body guard stores an answer no service stored, once."""
    store = idempotency.complete
    failed_once: list[bool] = []

    async def complete_after_the_database_went(*args: Any) -> None:
        if not failed_once:
            failed_once.append(True)
            _lost()
        await store(*args)

    monkeypatch.setattr(idempotency, "complete", complete_after_the_database_went)


async def _unavailable_then_replayed(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], api_key: str
) -> httpx.Response:
    """A refusal whose storing meets the outage is a 503; the retry with the same key hears
    that refusal, replayed."""
    first = await http.post(url, json=body, headers=auth(api_key, "answer-not-stored"))
    assert _is_unavailable(first)
    retry = await http.post(url, json=body, headers=auth(api_key, "answer-not-stored"))
    assert retry.status_code == 409 and retry.headers["idempotent-replayed"] == "true"
    return retry


async def test_an_answer_that_cannot_be_stored_is_a_503_and_the_retry_gets_the_answer(
    http: httpx.AsyncClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cancellation stores its answer with its change; the body guard stores the answers no
    # service did, such as this refusal (the request is cancelled already).
    filed = await http.post(URL, json=iban_change(), headers=auth(api_key, "to-cancel"))
    assert filed.status_code == 201, filed.text
    cancel = f"{URL}/{filed.json()['id']}/cancel"
    reason = {"reason": "customer withdrew"}
    done = await http.post(cancel, json=reason, headers=auth(api_key, "cancelled"))
    assert done.status_code == 200, done.text
    _fail_the_first_answer_stored(monkeypatch)
    retry = await _unavailable_then_replayed(http, cancel, reason, api_key)
    assert retry.json()["code"] == "invalid_transition"


async def test_a_filing_refusal_that_cannot_be_stored_is_a_503_and_the_retry_gets_it(
    http: httpx.AsyncClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filing claims its key in its own statement; a refusal (this conflict: the ticket has an
    open request) is kept under a claim as any POST's is. When keeping it meets an outage, the
    client hears a 503 and the retry the refusal, replayed; it was audited once."""
    body = iban_change()
    filed = await http.post(URL, json=body, headers=auth(api_key, "answer-stored-with-it"))
    assert filed.status_code == 201, filed.text
    _fail_the_first_answer_stored(monkeypatch)
    retry = await _unavailable_then_replayed(http, URL, body, api_key)
    assert retry.json()["code"] == "duplicate_open_request"
    listed = await http.get(URL, headers=auth(api_key))
    assert [item["id"] for item in listed.json()["items"]] == [filed.json()["id"]]
    assert await _refusals_audited() == 1


async def _refusals_audited() -> int:
    from gateway.core.db.connection import fetch

    rows = await fetch(
        "SELECT count(*) AS n FROM audit_records WHERE action = 'change_request.create.refused'"
    )
    return int(rows[0]["n"])
