"""adapters/README.md's steps for adding a provider, followed with a throwaway one defined here
and registered for each test only: the gateway's provider-neutral paths pick it up with no
other change (its adapter, its settings group, its webhook route, its emulator and help in
sandbox, its dashboard links, the scrubbing of its recorded transcripts)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import yaml
from litestar import Litestar, get
from pydantic import BaseModel, Field
from vcr.request import Request

from adapters.events import ProviderEvent
from adapters.provider import SCRUBBED, Dashboard, Emulator, Provider, Transcripts, Webhook
from adapters.registry import PROVIDERS
from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.webhooks.inbox import pending_events, record_event
from gateway.webhooks.processing import PROCESSED_PROVIDERS
from settings import Settings
from tests.emulators import free_port
from tests.remote import cassettes
from tests.remote.test_cassettes import leaks


# Step 1: its folder. adapter.py, settings.py and provider.py, here in one place.
class FakeAdapter:
    def __init__(self, api_key: str) -> None:
        self.api_key = api_key

    async def close(self) -> None:
        return None


class FakeSettings(BaseModel):
    fake_api_key: str | None = Field(default=None, repr=False)
    fake_webhook_secret: str | None = Field(default=None, repr=False)
    fake_emulator_port: int = 8099


class GatewaySettings(FakeSettings, Settings):
    """Step 2, second half: the settings group among the bases of the gateway's Settings."""


def _adapter(settings: GatewaySettings) -> FakeAdapter | None:
    return FakeAdapter(settings.fake_api_key) if settings.fake_api_key else None


def _verify(settings: GatewaySettings, body: bytes, headers: Any, tolerance: int) -> None:
    if not settings.fake_webhook_secret:
        raise BillingError(ErrorCode.WEBHOOK_NOT_CONFIGURED, "No BG_FAKE_WEBHOOK_SECRET.")
    expected = hmac.new(settings.fake_webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(headers.get("fake-signature", ""), expected):
        raise BillingError(ErrorCode.WEBHOOK_SIGNATURE_INVALID, "Not signed by Fake.")


def _event(headers: Any, body: Any) -> ProviderEvent:
    if not isinstance(body, dict) or not body.get("id"):
        raise ValueError("no event id")
    created = datetime.now(UTC)
    return ProviderEvent(
        "fake", body["id"], body.get("type", "unknown"), None, None, None, created, body
    )


SECRET = "fake-secret"
CALLED_BACK: list[str] = []


@get("/")
async def _hello() -> dict[str, bool]:
    return {"fake": True}


def _emulator(settings: GatewaySettings, gateway: str) -> Emulator | None:
    if not settings.sandbox or settings.fake_api_key:
        return None
    CALLED_BACK.append(f"{gateway}/v1/webhooks/fake")
    app = Litestar([_hello], logging_config=None)  # as the real emulators: logging is the run's
    return Emulator(app, settings.fake_emulator_port, "BG_FAKE_EMULATOR_PORT")


FAKE = Provider(
    name="fake",
    settings=FakeSettings,
    adapter=_adapter,
    webhook=Webhook(
        operation_id="receiveFakeEvent",
        summary="Fake events in",
        headers={"Fake-Signature": "hex HMAC-SHA256 of the body"},
        verify=_verify,
        event=_event,
        malformed="Not a Fake event: {error}.",
        answer=lambda duplicate: {"ok": True, "again": duplicate},
    ),
    emulator=_emulator,
    sandbox_help=lambda settings, api: "  Fake       SANDBOX emulator\n",
    dashboard=Dashboard("Open in Fake", lambda settings, account: f"https://fake.test/a/{account}"),
    transcripts=Transcripts(
        request_headers=("Fake-Key",),
        response_headers=(),
        body_secrets=(re.compile(r"\bfk_live_(?P<secret>\w+)"),),
    ),
)


# Step 2, first half: one registry line (for this test only).
@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PROVIDERS, "fake", FAKE)


def _signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Fake-Signature": digest}


def test_its_settings_group_reads_bg_fake_and_builds_its_adapter(
    registered: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.providers import providers_from_settings

    monkeypatch.setenv("BG_FAKE_API_KEY", "fk_live_123")
    settings = GatewaySettings()
    assert settings.fake_api_key == "fk_live_123" and "fk_live_123" not in repr(settings)
    adapter = providers_from_settings(settings).get("fake")
    assert isinstance(adapter, FakeAdapter) and adapter.api_key == "fk_live_123"
    assert providers_from_settings(GatewaySettings(fake_api_key=None)).get("fake") is None


async def test_its_webhook_route_keeps_a_signed_event_once_and_refuses_the_rest(
    registered: None,
) -> None:
    from gateway.app import create_app

    app = create_app(GatewaySettings(fake_webhook_secret=SECRET))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        body = json.dumps({"id": "fk_evt_1", "type": "thing.happened"}).encode()
        answers = [await http.post("/v1/webhooks/fake", content=body, headers=_signed(body))]
        answers.append(await http.post("/v1/webhooks/fake", content=body, headers=_signed(body)))
        assert [answer.json() for answer in answers] == [
            {"ok": True, "again": False},
            {"ok": True, "again": True},
        ]
        forged = await http.post("/v1/webhooks/fake", content=body, headers=_signed(body, "x"))
        assert forged.status_code == 401 and forged.json()["code"] == "webhook_signature_invalid"
        empty = b'{"type": "no id"}'
        malformed = await http.post("/v1/webhooks/fake", content=empty, headers=_signed(empty))
        assert malformed.status_code == 400
        assert malformed.json()["detail"] == "Not a Fake event: no event id."
        document = (await http.get("/schema/openapi.json")).json()
    operation = document["paths"]["/v1/webhooks/fake"]["post"]
    assert operation["operationId"] == "receiveFakeEvent"
    assert [parameter["name"] for parameter in operation["parameters"]] == ["Fake-Signature"]
    rows = await fetch("SELECT provider, event_id, event_type FROM webhook_events")
    assert [dict(row) for row in rows] == [
        {"provider": "fake", "event_id": "fk_evt_1", "event_type": "thing.happened"}
    ]
    # Nothing processes its events yet: they wait in the inbox, out of the minute sweep's way
    # (the sweep takes the oldest unprocessed first: the fake's must not crowd out Stripe's).
    stripe_event = ProviderEvent("stripe", "evt_after", "x.y", None, None, None, datetime.now(UTC))
    stripe_row = await record_event(stripe_event)
    assert await pending_events(PROCESSED_PROVIDERS, limit=1) == [stripe_row]


async def test_its_webhook_route_says_when_it_is_not_configured(registered: None) -> None:
    from gateway.app import create_app

    transport = httpx.ASGITransport(app=create_app(GatewaySettings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        answer = await http.post("/v1/webhooks/fake", content=b"{}", headers=_signed(b"{}"))
    assert answer.status_code == 503 and answer.json()["code"] == "webhook_not_configured"


def test_the_customer_page_links_its_side_to_its_dashboard(registered: None) -> None:
    from gateway.provider_links import customer_links

    side = SimpleNamespace(provider="fake", account=SimpleNamespace(id=" fk_acct_1 "))
    [link] = customer_links(GatewaySettings(), [side])
    assert (link.label, link.url, link.reference) == (
        "Open in Fake",
        "https://fake.test/a/fk_acct_1",
        "fk_acct_1",
    )


def test_run_serves_its_emulator_in_sandbox_and_says_so(
    registered: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.cli import _sandbox_providers_help, _start_emulators

    for name in [name for name in PROVIDERS if name != "fake"]:
        monkeypatch.delitem(PROVIDERS, name)  # the real emulators are tested elsewhere
    settings = GatewaySettings(fake_emulator_port=free_port())
    _start_emulators(settings, api_port=8123)
    served = httpx.get(f"http://127.0.0.1:{settings.fake_emulator_port}/", timeout=5)
    assert served.json() == {"fake": True}
    assert CALLED_BACK[-1] == "http://127.0.0.1:8123/v1/webhooks/fake"
    assert "Fake       SANDBOX emulator" in _sandbox_providers_help(settings, "http://x")


def test_its_transcripts_are_scrubbed_and_checked(registered: None, tmp_path: Path) -> None:
    request = Request("POST", "http://fake.invalid/v1/charges", b'{"key": "fk_live_abc"}', {})
    request.headers["Fake-Key"] = "fk_live_abc"
    recorded = cassettes._scrub_request(request, rewrite_host=False)
    assert recorded.headers["Fake-Key"] == SCRUBBED
    assert recorded.body == f'{{"key": "fk_live_{SCRUBBED}"}}'.encode()
    leaky = tmp_path / "leaky.yaml"
    interaction = {
        "request": {"body": "key=fk_live_abc", "headers": {"Fake-Key": ["fk_live_abc"]}},
        "response": {"body": {"string": ""}, "headers": {}},
    }
    leaky.write_text(yaml.safe_dump({"interactions": [interaction]}))
    assert leaks(leaky) == ["fk_live_abc", "abc"]
