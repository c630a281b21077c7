"""Idempotency-Key: one execution, byte-identical replays, per-client keys, recovery."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from gateway.core.db.connection import fetch
from tests.database import auth, issue_test_key
from tests.payloads import iban_change

URL = "/v1/change-requests"


async def count_requests() -> int:
    return int((await fetch("SELECT count(*) AS n FROM change_requests"))[0]["n"])


async def test_a_replay_returns_the_stored_answer_byte_for_byte(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = iban_change()
    first = await http.post(URL, json=body, headers=auth(api_key, "replay-1"))
    second = await http.post(URL, json=body, headers=auth(api_key, "replay-1"))
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert await count_requests() == 1


async def test_the_same_json_with_other_spacing_is_the_same_request(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = iban_change()
    await http.post(URL, json=body, headers=auth(api_key, "spacing"))
    spaced = json.dumps(body, indent=4, sort_keys=True).encode()
    again = await http.post(
        URL,
        content=spaced,
        headers={**auth(api_key, "spacing"), "content-type": "application/json"},
    )
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"


async def test_missing_key_is_400_and_nothing_runs(http: httpx.AsyncClient, api_key: str) -> None:
    response = await http.post(URL, json=iban_change(), headers=auth(api_key))
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"
    assert await count_requests() == 0


async def test_key_reused_with_another_body_is_422(http: httpx.AsyncClient, api_key: str) -> None:
    await http.post(URL, json=iban_change(), headers=auth(api_key, "reuse"))
    response = await http.post(URL, json=iban_change(), headers=auth(api_key, "reuse"))
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert await count_requests() == 1


async def test_keys_of_one_client_are_invisible_to_another(
    http: httpx.AsyncClient, api_key: str
) -> None:
    other_key = await issue_test_key()
    await http.post(URL, json=iban_change(ticket="A"), headers=auth(api_key, "shared-name"))
    response = await http.post(
        URL, json=iban_change(ticket="B"), headers=auth(other_key, "shared-name")
    )
    assert response.status_code == 201
    assert "idempotent-replayed" not in response.headers
    assert await count_requests() == 2


async def test_a_refused_body_leaves_the_key_free_for_the_corrected_one(
    http: httpx.AsyncClient, api_key: str
) -> None:
    broken = iban_change()
    broken["payload"]["targets"] = []
    assert (await http.post(URL, json=broken, headers=auth(api_key, "fixme"))).status_code == 400
    fixed = await http.post(URL, json=iban_change(), headers=auth(api_key, "fixme"))
    assert fixed.status_code == 201


async def test_a_business_refusal_is_replayed(http: httpx.AsyncClient, api_key: str) -> None:
    body = iban_change(iban="DE89370400440532013001")
    first = await http.post(URL, json=body, headers=auth(api_key, "refusal"))
    second = await http.post(URL, json=body, headers=auth(api_key, "refusal"))
    assert first.status_code == second.status_code == 422
    assert first.content == second.content


async def test_a_thousand_concurrent_identical_requests_execute_once(
    http: httpx.AsyncClient, api_key: str
) -> None:
    body = iban_change()
    headers = auth(api_key, "stampede")
    responses = await asyncio.gather(
        *(http.post(URL, json=body, headers=headers) for _ in range(1000))
    )
    statuses = {response.status_code for response in responses}
    assert statuses <= {201, 409}, statuses
    created = [r for r in responses if r.status_code == 201]
    assert len({r.content for r in created}) == 1
    conflicts = [r.json()["code"] for r in responses if r.status_code == 409]
    assert set(conflicts) <= {"idempotency_request_in_progress"}
    assert await count_requests() == 1
    creations = await fetch(
        "SELECT count(*) AS n FROM audit_records WHERE action = 'change_request.create.succeeded'"
    )
    assert creations[0]["n"] == 1


async def test_one_key_raced_with_different_bodies_files_one_of_them(
    http: httpx.AsyncClient, api_key: str
) -> None:
    """Filing claims its key in the statement that files: of concurrent attempts with one key
    and different requests, one is filed and answered; every other is told the key was used
    for another request (or is still in progress), and leaves nothing behind."""
    headers = auth(api_key, "raced")
    bodies = [iban_change(ticket=f"T-RACE-{n}") for n in range(40)]
    responses = await asyncio.gather(*(http.post(URL, json=b, headers=headers) for b in bodies))
    created = [r for r in responses if r.status_code == 201]
    assert len({r.content for r in created}) == 1, [r.status_code for r in responses]
    winner = created[0].json()["ticket"]  # "zendesk:T-RACE-<n>"
    for body, response in zip(bodies, responses, strict=True):
        if winner.endswith(f":{body['ticket']['id']}"):  # the winner's own answer, or its replay
            assert response.status_code == 201
        else:
            assert response.status_code in (409, 422), response.text
            assert response.json()["code"] in {
                "idempotency_key_reused",
                "idempotency_request_in_progress",
            }
    assert await count_requests() == 1
    records = await fetch("SELECT count(*) AS n FROM idempotency_keys WHERE key = 'raced'")
    assert records[0]["n"] == 1


async def test_a_request_that_died_after_committing_is_answered_from_its_result(
    http: httpx.AsyncClient, api_key: str
) -> None:
    """The recovery point: the change committed, the process died before storing the answer.
    After the lock times out, the retry finds the committed request instead of filing another."""
    body = iban_change()
    first = await http.post(URL, json=body, headers=auth(api_key, "crash"))
    # simulate the crash: the stored answer is lost and the key is left running, long ago
    await fetch(
        "UPDATE idempotency_keys SET state = 'running', response_body = NULL,"
        " response_status = NULL, locked_at = now() - interval '5 minutes'"
    )
    retry = await http.post(URL, json=body, headers=auth(api_key, "crash"))
    assert retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert await count_requests() == 1


async def test_a_request_still_running_gets_409(http: httpx.AsyncClient, api_key: str) -> None:
    body = iban_change()
    await http.post(URL, json=body, headers=auth(api_key, "busy"))
    await fetch("UPDATE idempotency_keys SET state = 'running', locked_at = now()")
    response = await http.post(URL, json=body, headers=auth(api_key, "busy"))
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_request_in_progress"
    assert response.headers["retry-after"]


async def test_expired_keys_are_purged_by_the_job(http: httpx.AsyncClient, api_key: str) -> None:
    from gateway.idempotency.jobs import purge_expired_keys

    await http.post(URL, json=iban_change(), headers=auth(api_key, "old"))
    await http.post(URL, json=iban_change(), headers=auth(api_key, "new"))
    await fetch(
        "UPDATE idempotency_keys SET created_at = now() - interval '73 hours' WHERE key = 'old'"
    )
    removed = await purge_expired_keys(timestamp=0)
    assert removed == 1
    assert [row["key"] for row in await fetch("SELECT key FROM idempotency_keys")] == ["new"]


async def test_keys_are_bound_to_the_path(http: httpx.AsyncClient, api_key: str) -> None:
    created = (await http.post(URL, json=iban_change(), headers=auth(api_key, "path"))).json()
    response = await http.post(
        f"{URL}/{created['id']}/cancel", json={"reason": "x"}, headers=auth(api_key, "path")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert uuid.UUID(created["id"])


async def test_a_failure_after_commit_is_finished_by_the_retry(
    http: httpx.AsyncClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 5xx keeps the key; the retry resumes from the recovery point and answers with one
    filed request, never two. (Building the answer now happens inside the filing's transaction,
    with the answer stored beside it, so this failure rolls the filing back.)"""
    from gateway.change_requests import service

    real_to_read = service.to_read

    def fail_once(row: dict[str, object]) -> object:
        monkeypatch.setattr(service, "to_read", real_to_read)
        raise RuntimeError("the process fell over after the commit")

    monkeypatch.setattr(service, "to_read", fail_once)
    body = iban_change()
    failed = await http.post(URL, json=body, headers=auth(api_key, "after-commit"))
    assert failed.status_code == 500
    assert failed.json()["code"] == "internal_error"
    retry = await http.post(URL, json=body, headers=auth(api_key, "after-commit"))
    assert retry.status_code == 201
    assert await count_requests() == 1
    again = await http.post(URL, json=body, headers=auth(api_key, "after-commit"))
    assert again.content == retry.content


async def test_an_answer_stored_with_its_change_is_not_stored_twice(
    http: httpx.AsyncClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filing claims its key and stores its answer in its own statement: the body guard then
    neither claims nor stores (two round trips fewer per filing), and the replay is still byte
    for byte. A refusal, which no statement stores, is kept under a claim as for any POST."""
    from gateway.idempotency import service

    touched: list[str] = []

    def counting(name: str) -> object:
        original = getattr(service, name)

        async def count(*args: object, **kwargs: object) -> object:
            touched.append(name)
            return await original(*args, **kwargs)

        return count

    for name in ("claim", "complete"):
        monkeypatch.setattr(service, name, counting(name))
    headers = auth(api_key, str(uuid.uuid4()))
    first = await http.post(
        "/v1/change-requests", json=iban_change(ticket="T-ONCE"), headers=headers
    )
    assert first.status_code == 201, first.text
    assert touched == []
    again = await http.post(
        "/v1/change-requests", json=iban_change(ticket="T-ONCE"), headers=headers
    )
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.content == first.content
    assert touched == ["claim"]  # the key was held: answered as a claimed key is
    touched.clear()
    # an answer no service stored (a refusal that changed nothing is released, a conflict kept)
    conflict = await http.post(
        "/v1/change-requests", json=iban_change(ticket="T-ONCE"), headers=auth(api_key, "k2")
    )
    assert conflict.status_code == 409 and touched == ["claim", "complete"]
    replayed = await http.post(
        "/v1/change-requests", json=iban_change(ticket="T-ONCE"), headers=auth(api_key, "k2")
    )
    assert replayed.headers.get("idempotent-replayed") == "true"
    assert replayed.content == conflict.content


async def _refusals_audited() -> int:
    rows = await fetch(
        "SELECT count(*) AS n FROM audit_records WHERE action = 'change_request.create.refused'"
    )
    return int(rows[0]["n"])


async def test_a_refusal_sent_again_is_replayed_and_audited_once(
    http: httpx.AsyncClient, api_key: str
) -> None:
    """Only the attempt that holds the key audits its refusal: the retries hear the same
    refusal, replayed, and the audit trail holds one entry, as for a request refused once."""
    body = iban_change(iban="DE89370400440532013001")  # a bad check digit: refused
    answers = [await http.post(URL, json=body, headers=auth(api_key, "refused")) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [422, 422, 422]
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert answers[1].content == answers[2].content == answers[0].content
    assert await _refusals_audited() == 1


async def test_a_key_reused_for_a_request_that_would_be_refused_says_so_and_audits_nothing(
    http: httpx.AsyncClient, api_key: str
) -> None:
    filed = await http.post(URL, json=iban_change(), headers=auth(api_key, "used"))
    assert filed.status_code == 201, filed.text
    refused_body = iban_change(iban="DE89370400440532013001")
    reused = await http.post(URL, json=refused_body, headers=auth(api_key, "used"))
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert await _refusals_audited() == 0
    assert await count_requests() == 1


async def test_a_retry_of_a_filed_request_is_replayed_though_this_attempt_failed(
    http: httpx.AsyncClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing claims a filing's key before the service runs: when the retry itself fails
    before its statement (the fraud screen, a provider, the database), the key still decides,
    and the client hears the answer it was given the first time."""
    from gateway.change_requests.service import ChangeRequestService

    body = iban_change()
    first = await http.post(URL, json=body, headers=auth(api_key, "filed-then-failed"))
    assert first.status_code == 201, first.text

    async def failing(*_args: object) -> None:
        raise RuntimeError("the screen broke")

    monkeypatch.setattr(ChangeRequestService, "_refuse_if_blocked", failing)
    retry = await http.post(URL, json=body, headers=auth(api_key, "filed-then-failed"))
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.content == first.content
    other = iban_change()
    fresh = await http.post(URL, json=other, headers=auth(api_key, "failed-at-once"))
    assert fresh.status_code == 500
    monkeypatch.undo()
    again = await http.post(URL, json=other, headers=auth(api_key, "failed-at-once"))
    assert again.status_code == 201, again.text  # the failed attempt left the key to its retry
    assert await count_requests() == 2
