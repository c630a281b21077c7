"""Hostile input: every attack answers a 4xx problem with a stable code, never a 500, and costs
the log one short line, never a traceback.

Deep nesting (1 KB of brackets raised RecursionError in the body guard and wrote a ~194 KB
traceback per request, unauthenticated on the webhook), NUL and other control characters in
query strings and paths, lone surrogates, huge numbers, broken UTF-8, wrong content types and
cursors the API never gave out. The API's log is read from the live server's own log file, as
an operator would read it; the back office's from the in-process app's log handler.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar

from adapters.stripe.emulator.signing import sign
from gateway.core.db.connection import fetch
from gateway.staff.roles import Role
from tests.app_log import captured_app_log
from tests.database import LiveServer, auth
from tests.integration.staff import browser, csrf_field, enrol
from tests.payloads import iban_change, plan_change

# One access line and one warning at most: a traceback is kilobytes.
LOG_BUDGET_BYTES = 2_000
BODY_LIMIT = 65_536  # BG_MAX_BODY_BYTES' default: a bigger body is refused for its size first
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Attack:
    name: str
    method: str
    path: str
    body: bytes | None = None
    codes: tuple[str, ...] = ("validation_failed",)
    headers: dict[str, str] = field(default_factory=dict)
    public: bool = False  # sent without an API key

    def __str__(self) -> str:
        return self.name.replace(" ", "-")


def nested_arrays(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def nested_objects(levels: int) -> bytes:
    return b'{"a":' * levels + b"1" + b"}" * levels


def nested_mixed(levels: int) -> bytes:
    return b'[{"a":' * (levels // 2) + b"null" + b"}]" * (levels // 2)


def deep_field(levels: int) -> bytes:
    """A body of the right shape whose one field nests deep."""
    return b'{"reason": ' + nested_arrays(levels) + b"}"


def _too_deep(body: bytes) -> tuple[str, ...]:
    return ("body_too_deep", "body_too_large") if len(body) > BODY_LIMIT else ("body_too_deep",)


SOME_ID = "6f1c1f0e-0000-4000-8000-000000000001"
BODY_ROUTES = {
    "create": ("POST", "/v1/change-requests"),
    "cancel": ("POST", f"/v1/change-requests/{SOME_ID}/cancel"),
    "block": ("POST", "/v1/blocklist/entries"),
    "import": ("POST", "/v1/blocklist/imports"),
    "screen": ("POST", "/v1/fraud/screen"),
    "unblock": ("DELETE", "/v1/blocklist/entries/1"),
}
SHAPES = (nested_arrays, nested_objects, nested_mixed, deep_field)

DEPTH_ATTACKS = [
    Attack(f"{route} {shape.__name__} x{levels}", method, path, body, _too_deep(body))
    for route, (method, path) in BODY_ROUTES.items()
    for shape in SHAPES
    for levels in (40, 450, 1_000, 30_000)
    for body in (shape(levels),)
] + [
    Attack(
        f"webhook without key or signature {shape.__name__} x{levels}",
        "POST",
        "/v1/webhooks/stripe",
        body,
        _too_deep(body),
        public=True,
    )
    for shape in SHAPES
    for levels in (40, 450, 5_000, 100_000)
    for body in (shape(levels),)
]

QUERY_ATTACKS = [
    Attack(f"change-request list {name}={value}", "GET", f"/v1/change-requests?{name}={value}")
    for name in ("ticket", "customer", "status", "cursor")
    for value in ("%00", "a%00b", "zendesk:%00", "%1b%5b2J", "%7f", "%ff%fe", "%ed%a0%80")
] + [
    Attack(f"blocklist list {query}", "GET", f"/v1/blocklist/entries?{query}")
    for query in (
        "kind=email&value=a%00@example.com",
        "source_ticket=T%00",
        "kind=customer&value=%ff",
        "%00=1",
        "limit=%00",
    )
]

PATH_ATTACKS = [
    Attack("NUL in a provider", "GET", "/v1/customers/stripe%00/cus_1"),
    Attack("NUL in a customer reference", "GET", "/v1/customers/stripe/cus%00_1"),
    Attack("ESC in a customer reference", "GET", "/v1/customers/stripe/%1b%5b2J"),
    Attack("not UTF-8 in a path", "GET", "/v1/customers/stripe/%ff"),
    Attack(
        "huge blocklist entry id",
        "GET",
        "/v1/blocklist/entries/99999999999999999999999",
        codes=("validation_failed", "blocklist_entry_not_found"),
    ),
]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


WHEN = b'"2024-01-01T00:00:00+00:00"'
BAD_CURSORS = {
    "garbage": "!!!notbase64",
    "base64 garbage": _b64(b"\xff\xfe\x00garbage"),
    "huge id": _b64(b"[" + WHEN + b", 99999999999999999999999999]"),
    "negative huge id": _b64(b"[" + WHEN + b", -99999999999999999999]"),
    "float id": _b64(b"[" + WHEN + b", 1e400]"),
    "no time zone": _b64(b'["2024-01-01T00:00:00", 5]'),
    "year 1 east of UTC": _b64(b'["0001-01-01T00:00:00+14:00", 5]'),
    "NUL in time": _b64(b'["2024-01-01\\u0000", 5]'),
    "deep": _b64(nested_arrays(200)),
    "another list's id": _b64(b"[" + WHEN + b', "x"]'),
    "object": _b64(b'{"a": 1}'),
    "three items": _b64(b"[" + WHEN + b", 5, 6]"),
}
CURSOR_CODES = ("invalid_cursor", "validation_failed")  # the second: not a cursor's alphabet
CURSOR_ATTACKS = [
    Attack(f"{listing} cursor {name}", "GET", f"{path}?cursor={cursor}", codes=CURSOR_CODES)
    for name, cursor in BAD_CURSORS.items()
    for listing, path in (
        ("requests", "/v1/change-requests"),
        ("blocklist", "/v1/blocklist/entries"),
    )
]

MALFORMED = ("malformed_body", "validation_failed")
BODY_ATTACKS = [
    Attack(f"{route} {label}", method, path, body, MALFORMED, headers)
    for route, (method, path) in BODY_ROUTES.items()
    for label, body, headers in (
        ("empty body", b"", JSON),
        ("top-level string", b'"hello"', JSON),
        ("top-level array", b"[1, 2]", JSON),
        ("top-level null", b"null", JSON),
        ("huge float", b'{"reason": 1e400}', JSON),
        ("huge integer", b'{"reason": ' + b"9" * 1000 + b"}", JSON),
        ("not UTF-8", b'{"reason": "\xff\xfe"}', JSON),
        ("lone surrogate", b'{"reason": "a\\ud800b"}', JSON),
        ("NUL escape", b'{"reason": "a\\u0000b"}', JSON),
        ("raw NUL", b'{"reason": "a\x00b"}', JSON),
        ("ESC escape", b'{"reason": "a\\u001b[2Jb"}', JSON),
        ("duplicate keys", b'{"reason": "a", "reason": 5}', JSON),
        ("form", b"reason=x", {"content-type": "application/x-www-form-urlencoded"}),
        ("XML", b"<reason>x</reason>", {"content-type": "application/xml"}),
    )
]

# The nesting cap trusts no content type: FastAPI (the back office) parses a body without one.
BODY_ATTACKS += [
    Attack(f"{route} deep without content type", method, path, deep_field(100), ("body_too_deep",))
    for route, (method, path) in BODY_ROUTES.items()
]

ALL = DEPTH_ATTACKS + QUERY_ATTACKS + PATH_ATTACKS + CURSOR_ATTACKS + BODY_ATTACKS


async def _send(server: LiveServer, key: str, attack: Attack) -> tuple[httpx.Response, bytes]:
    """The answer and the bytes the server logged for it."""
    request_id = f"hostile-{uuid.uuid4().hex}"
    headers = {"X-Request-ID": request_id, **attack.headers}
    if not attack.public:
        headers.update(auth(key, uuid.uuid4().hex))
    before = server.log_path.stat().st_size
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.request(
            attack.method,
            httpx.URL(server.base_url + attack.path),  # percent-escapes sent as written
            content=attack.body,
            headers=headers,
        )
    written = b""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the access line is the last one of a request
        with server.log_path.open("rb") as log:
            log.seek(before)
            written = log.read()
        if any(
            request_id.encode() in line and b"gateway.access" in line
            for line in written.splitlines()
        ):
            break
        await asyncio.sleep(0.02)
    return response, written


def _assert_refused(response: httpx.Response, logged: bytes, codes: tuple[str, ...]) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] in codes, response.text
    assert b"Traceback" not in logged, logged[:3000]
    assert len(logged) < LOG_BUDGET_BYTES, logged[:3000]


@pytest.mark.parametrize("attack", ALL, ids=str)
async def test_hostile_input_is_a_4xx_problem_and_one_log_line(
    live_server: LiveServer, api_key: str, attack: Attack
) -> None:
    response, logged = await _send(live_server, api_key, attack)
    _assert_refused(response, logged, attack.codes)


def test_the_nesting_limit_is_named_in_the_answer_and_real_bodies_pass(
    live_server: LiveServer, api_key: str
) -> None:
    """A support agent reads what to change; a body at the limit is still served."""
    headers = {**auth(api_key), **JSON}
    with httpx.Client(base_url=live_server.base_url, timeout=30) as client:
        deep = client.post("/v1/fraud/screen", content=deep_field(32), headers=headers)
        assert deep.json()["code"] == "body_too_deep"
        assert "32 levels" in deep.json()["detail"]
        screen = {"email": "x@example.com", "customer": "cus_" + "[" * 100 + "{"}  # in strings
        assert client.post("/v1/fraud/screen", json=screen, headers=headers).status_code == 200


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path


def _with_raw(body: dict[str, Any], path: tuple[Any, ...], raw: str) -> bytes:
    changed = copy.deepcopy(body)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = "@@HOSTILE@@"
    return json.dumps(changed, ensure_ascii=False).replace('"@@HOSTILE@@"', raw).encode()


FIELD_BODIES = {
    "/v1/change-requests": [iban_change(), plan_change()],
    "/v1/blocklist/entries": [
        {"kind": "email", "value": "x@example.com", "reason": "fraud", "source_ticket": "T-1"}
    ],
    "/v1/fraud/screen": [{"email": "x@example.com", "ip": "192.0.2.1", "customer": "cus_1"}],
    "/v1/blocklist/imports": [
        {"entries": [{"kind": "email", "value": "x@example.com", "reason": "fraud"}]},
        {"csv": "kind,value,reason\nemail,x@example.com,fraud\n"},
    ],
    f"/v1/change-requests/{SOME_ID}/cancel": [{"reason": "changed mind"}],
}
HOSTILE_VALUES = ('"a\\u0000b"', '"a\\ud800b"', '"a\\u001bb"', "1e400", "9" * 400)


@pytest.mark.parametrize("path", FIELD_BODIES)
async def test_every_field_refuses_nul_surrogates_and_huge_numbers(
    live_server: LiveServer, api_key: str, path: str
) -> None:
    for body in FIELD_BODIES[path]:
        for leaf in _leaves(body):
            for raw in HOSTILE_VALUES:
                attack = Attack(f"{leaf} {raw}", "POST", path, _with_raw(body, leaf, raw))
                response, logged = await _send(live_server, api_key, attack)
                codes = ("validation_failed", "malformed_body", "blocklist_import_invalid")
                _assert_refused(response, logged, codes)


UNREADABLE_CSV = {
    "a bare carriage return in a header": "A\u00cd\rs>]\u009a",
    "a field over the reader's limit": "kind,value,reason\nemail,x@example.com," + "a" * 200_000,
}


@pytest.mark.parametrize("name", UNREADABLE_CSV)
async def test_a_csv_the_reader_cannot_parse_is_refused_as_an_invalid_import(
    live_server: LiveServer, api_key: str, name: str
) -> None:
    body = json.dumps({"csv": UNREADABLE_CSV[name]}).encode()
    attack = Attack(name, "POST", "/v1/blocklist/imports", body)
    response, logged = await _send(live_server, api_key, attack)
    _assert_refused(response, logged, ("blocklist_import_invalid", "validation_failed"))


SIGNED_EVENTS = {
    "nested 40 deep": b'{"id": "evt_deep", "object": "event", "data": ' + nested_objects(40) + b"}",
    "nested 900 deep": b'{"id": "evt_deep", "object": "event", "data": '
    + nested_arrays(900)
    + b"}",
}


@pytest.mark.parametrize("name", SIGNED_EVENTS)
async def test_a_signed_deep_webhook_is_refused_too(live_server: LiveServer, name: str) -> None:
    body = SIGNED_EVENTS[name]
    headers = {**JSON, "Stripe-Signature": sign(body, "whsec_emulator")}
    attack = Attack(name, "POST", "/v1/webhooks/stripe", body, headers=headers, public=True)
    response, logged = await _send(live_server, "", attack)
    _assert_refused(response, logged, ("body_too_deep",))


@pytest.fixture
def app_log() -> Iterator[io.StringIO]:
    """What the in-process app logs, rendered as in production."""
    with captured_app_log() as stream:
        yield stream


async def test_the_back_office_refuses_hostile_input_without_a_traceback(
    app: Litestar, app_log: io.StringIO
) -> None:
    """piccolo-admin parses its forms with json.loads: 5,000 brackets raised RecursionError
    there; a NUL or an out-of-range number in a table filter reached PostgreSQL."""
    lead = await enrol(app, f"lead-{uuid.uuid4().hex[:6]}", Role.TEAM_LEAD)
    await lead.client.get("/lead/api/user/")
    csrf = {"X-CSRFToken": lead.client.cookies["csrftoken"], **JSON}
    forms = [form["slug"] for form in (await lead.get("/lead/api/forms/")).json()]
    tables = (await lead.get("/lead/api/tables/")).json()
    assert forms and tables
    attempts: list[tuple[str, httpx.Response, tuple[str, ...]]] = []
    for slug in forms:
        for body in (nested_arrays(5_000), nested_objects(900), deep_field(40)):
            answer = await lead.client.post(f"/lead/api/forms/{slug}/", content=body, headers=csrf)
            attempts.append((f"form {slug}", answer, ("body_too_deep",)))
    for table in tables:
        for query in ("ticket_id=%00", "__order=%1b", "__page=99999999999999999999", "id=%ff"):
            answer = await lead.client.get(
                httpx.URL(f"http://127.0.0.1/lead/api/tables/{table}/?{query}")
            )
            attempts.append((f"table {table} {query}", answer, ("validation_failed",)))
    for name, answer, codes in attempts:
        assert 400 <= answer.status_code < 500, (name, answer.status_code, answer.text[:200])
        if answer.headers["content-type"].startswith("application/problem+json"):
            assert answer.json()["code"] in codes, (name, answer.text)
    logged = app_log.getvalue()
    assert "Traceback" not in logged, logged[:3000]
    assert len(logged.encode()) < LOG_BUDGET_BYTES * len(attempts)


async def test_nul_in_back_office_forms_and_sign_in_is_a_4xx_without_a_traceback(
    app: Litestar, app_log: io.StringIO
) -> None:
    """PostgreSQL refuses NUL in text; a form field that reaches a query with one is the
    sender's mistake (400 with one warning line), not a 500 with a traceback."""
    lead = await enrol(app, f"lead-{uuid.uuid4().hex[:6]}", Role.TEAM_LEAD)
    answers = [
        await lead.form("reject-request", {"request": "T\x00", "comment": "no\x00"}),
        await lead.form("assign-request", {"request": "T\x00", "specialist": "x\x00"}),
        await lead.form(
            "fraud-stop", {"customer": "cus\x00", "reason": "bad\x00", "ip": "192.0.2.1"}
        ),
    ]
    visitor = browser(app)
    page = await visitor.get("/staff/login")
    form = {"_csrf_token": csrf_field(page), "username": "a\x00b", "password": "x\x00"}
    answers.append(await visitor.post("/staff/login", data=form))
    for answer in answers:
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    logged = app_log.getvalue()
    assert "Traceback" not in logged, logged[:3000]
    assert len(logged.encode()) < LOG_BUDGET_BYTES * len(answers)


async def test_our_own_bug_still_logs_a_traceback_but_a_bounded_one(
    http: httpx.AsyncClient, api_key: str, app_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.change_requests.service import ChangeRequestService

    # two functions in turn, as a walk over nested dicts and lists recurses: Python folds a
    # repeated frame into one line, but not these
    def into_dict(levels: int) -> int:
        return into_list(levels + 1) + 1

    def into_list(levels: int) -> int:
        return into_dict(levels + 1) + 1

    async def runaway(*_args: Any, **_kwargs: Any) -> Any:
        return into_dict(0)

    monkeypatch.setattr(ChangeRequestService, "list", runaway)
    answer = await http.get("/v1/change-requests", headers=auth(api_key))
    assert answer.status_code == 500 and answer.json()["code"] == "internal_error"
    logged = app_log.getvalue()
    assert "RecursionError" in logged and "Traceback" in logged
    assert len(logged.encode()) < 12_000


HIDDEN_CARDS = {
    "a card number sent as a JSON number": b'{"reason": 4539578763621486}',
    "a card number hidden behind a repeated key": b'{"reason": "card 4539 5787 6362 1486", '
    b'"reason": "changed mind"}',
}


@pytest.mark.parametrize("name", HIDDEN_CARDS)
async def test_a_card_number_cannot_hide_in_a_number_or_behind_a_repeated_key(
    live_server: LiveServer, api_key: str, name: str
) -> None:
    attack = Attack(
        name, "POST", f"/v1/change-requests/{SOME_ID}/cancel", HIDDEN_CARDS[name], headers=JSON
    )
    response, logged = await _send(live_server, api_key, attack)
    _assert_refused(response, logged, ("card_number_not_accepted", "malformed_body"))
    assert "4539" not in response.text and b"4539578763621486" not in logged


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/change-requests"),
        ("POST", "/v1/blocklist/entries"),
        ("POST", "/v1/fraud/screen"),
    ],
)
async def test_an_empty_body_is_answered_with_a_sentence_that_says_so(
    http: httpx.AsyncClient, api_key: str, method: str, path: str
) -> None:
    answer = await http.request(
        method,
        path,
        content=b"",
        headers={**auth(api_key, uuid.uuid4().hex), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["code"] == "validation_failed"
    assert problem["detail"] == (
        "The request body is empty: send the JSON object this operation takes (see /schema)."
    )


@pytest.mark.parametrize("number", ["1e999", "-1e999"])
async def test_a_number_out_of_range_is_answered_with_a_sentence_that_says_so(
    http: httpx.AsyncClient, api_key: str, number: str
) -> None:
    """msgspec says "Number out of range - at `$[...][...]`" for a number inside a free-form
    object: nothing a support agent can act on."""
    body = json.dumps(iban_change()).replace('"targets"', f'"extra": {number}, "targets"')
    answer = await http.post(
        "/v1/change-requests",
        content=body.encode(),
        headers={**auth(api_key, uuid.uuid4().hex), "Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    problem = answer.json()
    assert problem["code"] == "validation_failed"
    assert problem["detail"].startswith("A number in the request body is out of range")
    [filed] = await fetch("SELECT count(*) AS n FROM change_requests")
    assert filed["n"] == 0
