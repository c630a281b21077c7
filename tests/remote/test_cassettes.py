"""Every recorded transcript (the cassettes under tests/remote/cassettes/, replayed offline)
holds none of the secrets any registered provider's scrubbing names: no request header it
scrubs with a value left, no response header it drops, no secret in a body; and no IBAN."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.provider import SCRUBBED
from adapters.registry import PROVIDERS
from tests.remote.cassettes import CASSETTES
from tests.remote.flows import NEW_IBAN

_KNOWN = ("emulator-password", "emulator-secret", "api@example.com", "sk_test_emulator", NEW_IBAN)


def _text(body: Any) -> str:
    raw = body.get("string", "") if isinstance(body, dict) else body
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")


def leaks(cassette: Path) -> list[str]:
    """What a provider's scrubbing would have removed, found in `cassette`."""
    found = []
    for interaction in yaml.safe_load(cassette.read_text())["interactions"]:
        request, response = interaction["request"], interaction["response"]
        headers = {name.lower(): values for name, values in request["headers"].items()}
        sent = {name.lower() for name in response.get("headers", {})}
        for provider in PROVIDERS.values():
            scrubbing = provider.transcripts
            for name in scrubbing.request_headers:
                found += [v for v in headers.get(name.lower(), []) if v != SCRUBBED]
            found += [name for name in scrubbing.response_headers if name.lower() in sent]
            for body in (request["body"], response["body"]):
                found += scrubbing.leaks(_text(body))
    return found


@pytest.mark.parametrize("path", sorted(CASSETTES.glob("*.yaml")), ids=lambda path: path.name)
def test_a_recorded_transcript_holds_no_secret_and_no_iban(path: Path) -> None:
    assert leaks(path) == []
    text = path.read_text()
    assert not [secret for secret in _KNOWN if secret in text]
    assert not re.search(r"Bearer [A-Za-z0-9_\-]{8,}", text)
    assert "FR76 3000" not in text


def test_a_secret_left_in_a_transcript_is_found(tmp_path: Path) -> None:
    """The check itself: a cassette with a key, a password and a token is refused."""
    cassette = tmp_path / "leaky.yaml"
    interaction = {
        "request": {
            "body": "<ns0:password>hunter2</ns0:password>",
            "headers": {"Authorization": ["Bearer live-token-123456"]},
        },
        "response": {
            "body": {
                "string": '{"access_token": "eyJ.secret", "client_secret": "seti_1_secret_2"}'
            },
            "headers": {"Set-Cookie": ["ZSession=abc"]},
        },
    }
    cassette.write_text(yaml.safe_dump({"interactions": [interaction]}))
    found = leaks(cassette)
    for secret in ("hunter2", "Bearer live-token-123456", "eyJ.secret", "seti_1_secret_2"):
        assert secret in found
    assert "Set-Cookie" in found
