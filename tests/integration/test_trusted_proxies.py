"""Per-address limits against the real server over loopback: `X-Forwarded-For` counts only when
a configured trusted proxy sends it, and only failed attempts use up an address's allowance.

The server here trusts 127.0.0.2 as its proxy; a test speaks from 127.0.0.1 (an ordinary client)
or from 127.0.0.2 (the proxy) by binding its side of the connection to that address.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from audit.entry import SYSTEM
from gateway.edge.rate_limit import FAILED_AUTHENTICATIONS_PER_MINUTE
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from tests.database import LiveServer, auth, issue_test_key, serving
from tests.integration.staff import PASSWORD, csrf_field

URL = "/v1/change-requests"
BAD_KEY = {"Authorization": "Bearer bgk_guess_guess"}
PROXY = "127.0.0.2"
SIGN_INS_PER_MINUTE = 3


@pytest.fixture(scope="module")
def proxied_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("BG_TRUSTED_PROXIES", PROXY)
        environment.setenv("BG_STAFF_SIGN_INS_PER_MINUTE", str(SIGN_INS_PER_MINUTE))
        log_path = tmp_path_factory.mktemp("proxied") / "server.log"
        with serving(database_url, log_path) as server:
            yield server


def connect_from(server: LiveServer, address: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(transport=transport, base_url=server.base_url, timeout=10)


def forwarded_for(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def test_a_client_cannot_shake_off_the_key_guessing_limit_with_x_forwarded_for(
    proxied_server: LiveServer,
) -> None:
    key = await issue_test_key()
    async with connect_from(proxied_server, "127.0.0.1") as client:
        # Successes cost nothing: more of them than the failure allowance leave it untouched.
        for _ in range(FAILED_AUTHENTICATIONS_PER_MINUTE + 10):
            assert (await client.get(URL, headers=auth(key))).status_code == 200
        for n in range(FAILED_AUTHENTICATIONS_PER_MINUTE - 1):
            headers = {**BAD_KEY, **forwarded_for(f"203.0.113.{n % 250 + 1}")}
            assert (await client.get(URL, headers=headers)).status_code == 401
        assert (await client.get(URL, headers=auth(key))).status_code == 200
        assert (await client.get(URL, headers=BAD_KEY)).status_code == 401  # the last one allowed
        # Over the allowance: a claimed new address and a valid key are both refused.
        spoofed = await client.get(URL, headers={**BAD_KEY, **forwarded_for("198.51.100.9")})
        valid = await client.get(URL, headers={**auth(key), **forwarded_for("198.51.100.10")})
    for refused in (spoofed, valid):
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_a_client_cannot_shake_off_the_staff_sign_in_throttle_with_x_forwarded_for(
    proxied_server: LiveServer,
) -> None:
    await create_staff("sam", "sam@example.com", Role.SPECIALIST, SYSTEM, password=PASSWORD)

    async def sign_in(password: str, claimed: str) -> int:
        async with connect_from(proxied_server, "127.0.0.1") as browser:
            page = await browser.get("/staff/login")
            form = {"_csrf_token": csrf_field(page), "username": "sam", "password": password}
            answer = await browser.post("/staff/login", data=form, headers=forwarded_for(claimed))
            return answer.status_code

    # Right passwords are not failures: more of them than the allowance all get through.
    rights = [await sign_in(PASSWORD, "127.0.0.1") for _ in range(SIGN_INS_PER_MINUTE + 1)]
    assert rights == [303] * (SIGN_INS_PER_MINUTE + 1)
    wrongs = [await sign_in("guess", f"203.0.113.{n}") for n in range(SIGN_INS_PER_MINUTE)]
    assert wrongs == [401] * SIGN_INS_PER_MINUTE
    assert await sign_in("guess", "198.51.100.9") == 429
    assert await sign_in(PASSWORD, "198.51.100.10") == 429


async def test_a_trusted_proxy_names_the_client_and_only_its_own_hop_counts(
    proxied_server: LiveServer,
) -> None:
    async with connect_from(proxied_server, PROXY) as proxy:
        for _ in range(FAILED_AUTHENTICATIONS_PER_MINUTE):
            answer = await proxy.get(URL, headers={**BAD_KEY, **forwarded_for("198.51.100.1")})
            assert answer.status_code == 401
        over = await proxy.get(URL, headers={**BAD_KEY, **forwarded_for("198.51.100.1")})
        # The client wrote a made-up hop in front; the proxy appended the address it saw.
        prefixed = forwarded_for("198.51.100.2, 198.51.100.1")
        smuggled = await proxy.get(URL, headers={**BAD_KEY, **prefixed})
        another_client = await proxy.get(URL, headers={**BAD_KEY, **forwarded_for("198.51.100.2")})
    assert over.status_code == 429
    assert smuggled.status_code == 429
    assert another_client.status_code == 401
