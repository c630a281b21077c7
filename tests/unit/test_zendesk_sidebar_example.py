"""examples/zendesk-sidebar: a manifest Zendesk accepts, whose API key is a secure setting that
only ever travels in a header filled in by Zendesk's proxy, never in a URL or the browser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

APP = Path(__file__).parents[2] / "examples" / "zendesk-sidebar"
# The code without its comments (which talk about the placeholder and what is never done).
MAIN_JS = re.sub(
    r"/\*.*?\*/|(?<=\s)//[^\n]*", "", (APP / "assets" / "main.js").read_text(), flags=re.S
)
_PLACEHOLDER = "{{setting.api_key}}"


def _manifest() -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((APP / "manifest.json").read_text())
    return manifest


def test_the_manifest_is_a_ticket_sidebar_app_with_a_secure_api_key() -> None:
    manifest = _manifest()
    assert manifest["frameworkVersion"] == "2.0"
    sidebar = manifest["location"]["support"]["ticket_sidebar"]
    assert (APP / sidebar["url"]).is_file()
    settings = {parameter["name"]: parameter for parameter in manifest["parameters"]}
    assert settings["api_key"]["secure"] is True and settings["api_key"]["required"] is True
    assert not settings["gateway_url"].get("secure")
    # Zendesk sends secure settings only to listed hosts: the default gateway is one of them
    default_host = urlsplit(settings["gateway_url"]["default"]).hostname
    assert default_host in manifest["domainWhitelist"]
    for asset in ("logo.png", "logo-small.png"):
        assert (APP / "assets" / asset).read_bytes().startswith(b"\x89PNG")
    labels = json.loads((APP / "translations" / "en.json").read_text())["app"]["parameters"]
    assert set(labels) == set(settings)


def test_the_key_travels_only_as_a_header_of_a_secure_proxied_request() -> None:
    assert MAIN_JS.count(_PLACEHOLDER) == 1
    assert 'Authorization: "Bearer {{setting.api_key}}"' in MAIN_JS
    request = MAIN_JS[MAIN_JS.index("client.request(") :]
    request = request[: request.index("});")]
    assert "secure: true" in request and "cors: false" in request
    assert (
        _PLACEHOLDER
        not in request[request.index("url:") : request.index("\n", request.index("url:"))]
    )
    # nothing reads the setting in the browser, nor builds a URL or query from it
    assert "api_key" not in MAIN_JS.replace(_PLACEHOLDER, "")
    assert not re.search(r"[?&](api_?key|token|key)=", MAIN_JS, re.IGNORECASE)


def test_the_sidebar_asks_for_the_tickets_requests_in_the_canonical_form() -> None:
    assert '"zendesk:" + answers[1]["ticket.id"]' in MAIN_JS
    assert '"/v1/change-requests?ticket=" + encodeURIComponent(ticket)' in MAIN_JS
    assert "innerHTML" not in MAIN_JS  # the gateway's text is shown as text


def test_the_page_loads_the_zaf_sdk_and_the_app() -> None:
    page = (APP / "assets" / "iframe.html").read_text()
    assert "zaf_sdk.min.js" in page and 'src="main.js"' in page
