"""The HTTP edge as an operator sees it: request ids, health, metrics, docs, problems."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.database import auth


async def test_request_id_is_accepted_and_returned(http: httpx.AsyncClient) -> None:
    response = await http.get("/health/live", headers={"X-Request-ID": "zendesk-abc.123"})
    assert response.headers["x-request-id"] == "zendesk-abc.123"


async def test_request_id_is_generated_when_missing_or_unusable(http: httpx.AsyncClient) -> None:
    plain = await http.get("/health/live")
    assert len(plain.headers["x-request-id"]) == 32
    spaced = await http.get("/health/live", headers={"X-Request-ID": "has spaces in it"})
    assert spaced.headers["x-request-id"] != "has spaces in it"
    iban = await http.get("/health/live", headers={"X-Request-ID": "DE89370400440532013000"})
    assert "DE89370400440532013000" not in iban.headers["x-request-id"]


async def test_health(http: httpx.AsyncClient) -> None:
    from gateway.fraud.wiring import blocklist_service

    await blocklist_service().mirror.ensure_started()  # as the lifespan does before serving
    assert (await http.get("/health/live")).json() == {"status": "ok"}
    assert (await http.get("/health/ready")).json()["status"] == "ready"


async def test_metrics_are_prometheus_text(http: httpx.AsyncClient, api_key: str) -> None:
    await http.get("/v1/change-requests", headers=auth(api_key))
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert "billing_gateway_requests_total" in response.text


async def test_openapi_document_is_3_1_with_every_endpoint(http: httpx.AsyncClient) -> None:
    document = (await http.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    assert {
        "/v1/change-requests",
        "/v1/change-requests/{request_id}",
        "/v1/change-requests/{request_id}/cancel",
        "/health/live",
        "/health/ready",
    } <= set(paths)
    post = paths["/v1/change-requests"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in post["parameters"])
    assert "application/problem+json" in post["responses"]["422"]["content"]
    assert "SANDBOX" in document["info"]["title"]
    assert (await http.get("/schema")).status_code == 200


async def test_unknown_path_and_method_are_problems(http: httpx.AsyncClient, api_key: str) -> None:
    missing = await http.get("/v1/nothing-here", headers=auth(api_key))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert missing.json()["request_id"] == missing.headers["x-request-id"]
    wrong = await http.delete("/v1/change-requests", headers=auth(api_key))
    assert wrong.status_code == 405 and wrong.json()["code"] == "method_not_allowed"


async def test_an_oversized_body_is_413(http: httpx.AsyncClient, api_key: str) -> None:
    response = await http.post(
        "/v1/change-requests",
        content=b"{" + b" " * 70_000 + b"}",
        headers={**auth(api_key, "big"), "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


async def test_the_access_log_gives_the_status_a_refused_request_got(
    http: httpx.AsyncClient, api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A body refused by the middleware (a card number) is answered by the exception handler;
    the access log must say 422, as the client saw, not 500."""
    caplog.set_level(logging.INFO, logger="gateway.access")
    response = await http.post(
        "/v1/fraud/screen", json={"card_fingerprint": "4242424242424242"}, headers=auth(api_key)
    )
    assert response.status_code == 422
    logged = [
        record.msg
        for record in caplog.records
        if record.name == "gateway.access" and isinstance(record.msg, dict)
    ]
    assert [line["status"] for line in logged if line["path"] == "/v1/fraud/screen"] == [422]
