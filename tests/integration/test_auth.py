"""API keys at the edge: 401 and 403 as problems, expiry, revocation, rate limit, last use."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from audit.entry import SYSTEM
from gateway.api_keys.service import revoke_key
from gateway.core.db.connection import fetch
from tests.database import auth, issue_test_key

URL = "/v1/change-requests"


@pytest.mark.parametrize(
    "header",
    [
        {},
        {"Authorization": "Bearer nonsense"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer bgk_00000000_notarealsecretnotarealsecretnotarealsecret"},
    ],
)
async def test_missing_or_unknown_keys_get_401(
    http: httpx.AsyncClient, header: dict[str, str]
) -> None:
    response = await http.get(URL, headers=header)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "unauthenticated"


async def test_a_tampered_secret_with_a_real_prefix_gets_401(
    http: httpx.AsyncClient, api_key: str
) -> None:
    tampered = api_key[:-1] + ("A" if api_key[-1] != "A" else "B")
    assert (await http.get(URL, headers=auth(tampered))).status_code == 401


async def test_a_revoked_key_stops_working_at_once(http: httpx.AsyncClient, api_key: str) -> None:
    assert (await http.get(URL, headers=auth(api_key))).status_code == 200
    await revoke_key(api_key.split("_")[1], actor=SYSTEM, reason="leaked in a ticket")
    assert (await http.get(URL, headers=auth(api_key))).status_code == 401
    actions = [r["action"] for r in await fetch("SELECT action FROM audit_records")]
    assert "api_key.revoke.succeeded" in actions


async def test_an_expired_key_gets_401(http: httpx.AsyncClient) -> None:
    key = await issue_test_key(expires_in=timedelta(days=1))
    await fetch("UPDATE api_keys SET expires_at = now() - interval '1 second'")
    assert (await http.get(URL, headers=auth(key))).status_code == 401


async def test_a_key_without_the_scope_gets_403_naming_it(http: httpx.AsyncClient) -> None:
    reader = await issue_test_key(["change-requests:read"])
    assert (await http.get(URL, headers=auth(reader))).status_code == 200
    response = await http.post(URL, json={}, headers=auth(reader, "k"))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert response.json()["required_scope"] == "change-requests:write"
    screener = await issue_test_key(["fraud:screen"])
    assert (await http.get(URL, headers=auth(screener))).status_code == 403


async def test_over_the_rate_limit_gets_429_with_retry_after(http: httpx.AsyncClient) -> None:
    key = await issue_test_key(rate_limit_per_minute=3)
    statuses = [(await http.get(URL, headers=auth(key))).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = await http.get(URL, headers=auth(key))
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    other = await issue_test_key(rate_limit_per_minute=3)
    assert (await http.get(URL, headers=auth(other))).status_code == 200


async def test_last_use_is_recorded(http: httpx.AsyncClient, api_key: str) -> None:
    assert (await fetch("SELECT last_used_at FROM api_keys"))[0]["last_used_at"] is None
    await http.get(URL, headers=auth(api_key))
    assert (await fetch("SELECT last_used_at FROM api_keys"))[0]["last_used_at"] is not None


async def test_keys_are_stored_only_as_digests(api_key: str) -> None:
    [row] = await fetch("SELECT * FROM api_keys")
    assert api_key not in str(row)
    assert api_key.split("_", 2)[2] not in str(row)
    assert len(api_key.split("_", 2)[2]) >= 43  # 256 random bits, base64url


async def test_an_address_that_keeps_failing_is_slowed_down(app: object) -> None:
    import httpx as client_library

    from gateway.edge.rate_limit import FAILED_AUTHENTICATIONS_PER_MINUTE

    transport = client_library.ASGITransport(app=app, client=("192.0.2.7", 4000))  # type: ignore[arg-type]
    async with client_library.AsyncClient(transport=transport, base_url="http://x") as guesser:
        for _ in range(FAILED_AUTHENTICATIONS_PER_MINUTE):
            assert (
                await guesser.get(URL, headers={"Authorization": "Bearer bgk_x_y"})
            ).status_code == 401
        blocked = await guesser.get(URL, headers={"Authorization": "Bearer bgk_x_y"})
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"]
