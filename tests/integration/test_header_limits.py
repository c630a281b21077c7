"""Oversized request heads against the real server over loopback, with raw sockets: refused with
431 (or a closed connection) before the body is read or the app runs, without growing the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from tests.database import LiveServer, serving

MEGABYTE = 1024 * 1024
HUGE_HEADER = 64 * MEGABYTE


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving(database_url, tmp_path_factory.mktemp("heads") / "server.log") as live:
        yield live


def port_of(server: LiveServer) -> int:
    port = urlsplit(server.base_url).port
    assert port
    return port


def server_process(server: LiveServer) -> psutil.Process:
    """`serving` starts `python -m gateway serve --port N` as a child of this test process."""
    port = str(port_of(server))
    for child in psutil.Process(os.getpid()).children(recursive=True):
        command = child.cmdline()
        if "serve" in command and port in command:
            return child
    raise AssertionError("the server process is not a child of this test run")


def read_answer(connection: socket.socket) -> bytes:
    answer = b""
    try:
        while chunk := connection.recv(65536):
            answer += chunk
    except (ConnectionResetError, TimeoutError):
        pass  # a reset is a refusal too; a timeout leaves what was answered
    return answer


def exchange(server: LiveServer, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=10) as connection:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
        return read_answer(connection)


def send_huge_header(server: LiveServer) -> tuple[bytes, int, float]:
    """Stream a request with one 64 MB header; stop sending once the server answers. Returns the
    answer, the header bytes sent, and the seconds until the server answered or hung up."""
    chunk = b"a" * 65536
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=10) as connection:
        started = time.monotonic()
        connection.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = 0
        try:
            while sent < HUGE_HEADER and not select.select([connection], [], [], 0)[0]:
                connection.sendall(chunk)
                sent += len(chunk)
            connection.sendall(b"\r\nConnection: close\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = read_answer(connection)
        return answer, sent, time.monotonic() - started


def head(path: str, extra_headers: list[str], *, body: bytes = b"", method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *extra_headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join([*lines, "Connection: close", "", ""])).encode() + body


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def test_three_64_mb_headers_are_cut_off_at_once_and_leave_the_server_as_it_was(
    server: LiveServer,
) -> None:
    process = server_process(server)
    before = process.memory_info().rss
    for _ in range(3):
        answer, sent, seconds = send_huge_header(server)
        assert not answer or status_of(answer) == 431
        assert sent < 8 * MEGABYTE, f"the server read {sent / MEGABYTE:.0f} MB of one header"
        assert seconds < 1.0
        # The event loop was never held up: another client is answered at once.
        started = time.monotonic()
        assert httpx.get(f"{server.base_url}/health/live", timeout=5).status_code == 200
        assert time.monotonic() - started < 1.0
    grown = process.memory_info().rss - before
    assert grown < 20 * MEGABYTE, f"the server grew by {grown / MEGABYTE:.0f} MB"


@pytest.mark.parametrize("path", ["/health/live", "/v1/change-requests", "/staff/login", "/admin/"])
def test_ten_thousand_small_headers_are_refused_with_431_everywhere(
    server: LiveServer, path: str
) -> None:
    answer = exchange(server, head(path, [f"X-Filler-{n}: {n}" for n in range(10_000)]))
    assert status_of(answer) == 431
    headers, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in headers.lower()
    assert b"content-type: application/problem+json" in headers.lower()
    problem = json.loads(body)
    assert problem["code"] == "request_headers_too_large"
    assert problem["status"] == 431
    assert "16384 bytes or 100 fields" in problem["detail"]


def test_a_20_kb_cookie_is_refused_and_ordinary_heads_are_served(server: LiveServer) -> None:
    assert status_of(exchange(server, head("/staff/login", ["Cookie: id=" + "x" * 20_000]))) == 431
    assert status_of(exchange(server, head("/staff/login", ["Cookie: id=" + "x" * 8_000]))) == 200
    many = [f"X-Filler-{n}: {n}" for n in range(90)]
    assert status_of(exchange(server, head("/health/live", many))) == 200
    # A body is not part of the head: a large one sent in the same packet is no 431.
    body = json.dumps({"filler": "x" * 60_000}).encode()
    webhook = head(
        "/v1/webhooks/stripe", ["Content-Type: application/json"], body=body, method="POST"
    )
    assert status_of(exchange(server, webhook)) not in (431, 500)


def test_each_request_on_a_kept_alive_connection_gets_the_whole_allowance(
    server: LiveServer,
) -> None:
    cookie = "Cookie: id=" + "x" * 12_000
    one = b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n" + cookie.encode() + b"\r\n\r\n"
    last = head("/health/live", [cookie])
    answer = exchange(server, one * 3 + last)  # pipelined in one write: 48 KB of heads in all
    assert answer.count(b"HTTP/1.1 200") == 4, answer[:300]
