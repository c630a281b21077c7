"""vcrpy for the provider adapters: record what an adapter says and hears, scrubbed of
everything secret or personal (passwords, sessions, API keys, OAuth secrets and tokens, IBANs),
and replay it offline.

Cassettes match on method, path and query, not host: those recorded from an emulator (on a
random port) are rewritten to `http://zuora.invalid`, which is where a replaying adapter points.
Requests that match the same way are answered in the order they were recorded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import vcr
from vcr.request import Request

from gateway.core.sensitive import redact_text

CASSETTES = Path(__file__).parent / "cassettes"
REPLAY_BASE = "http://zuora.invalid"
SCRUBBED = "SCRUBBED"
_SOAP_SECRETS = re.compile(
    rb"(<(?:[\w-]+:)?(?:password|username|session|Session)>)[^<]*(</(?:[\w-]+:)?(?:password|username|session|Session)>)"
)
_FORM_SECRETS = re.compile(rb"(client_secret|client_id)=[^&]*")
_TOKEN_FIELDS = ("access_token", "jti")


def _scrub_body(body: bytes | str | None) -> bytes | str | None:
    if body is None:
        return None
    raw = body.encode() if isinstance(body, str) else body
    raw = _SOAP_SECRETS.sub(rb"\1" + SCRUBBED.encode() + rb"\2", raw)
    raw = _FORM_SECRETS.sub(rb"\1=" + SCRUBBED.encode(), raw)
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return raw  # a PDF: no IBAN inside a binary body we wrote ourselves
    text = redact_text(text)
    try:
        document = json.loads(text)
    except ValueError:
        return text.encode()
    if isinstance(document, dict):
        for name in _TOKEN_FIELDS:
            if name in document:
                document[name] = SCRUBBED
    return json.dumps(document).encode()


def _scrub_request(request: Request, rewrite_host: bool) -> Request:
    for header in ("Authorization", "authorization", "X-Stripe-Client-User-Agent"):
        if header in request.headers:
            request.headers[header] = SCRUBBED
    request.body = _scrub_body(request.body)
    if rewrite_host:
        parts = urlsplit(request.uri)
        request.uri = urlunsplit(("http", "zuora.invalid", parts.path, parts.query, ""))
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["body"]["string"] = _scrub_body(response["body"]["string"])
    response["headers"].pop("set-cookie", None)
    return response


def zuora_vcr(*, record_mode: str, rewrite_host: bool = False) -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=record_mode,
        match_on=["method", "path", "query"],
        before_record_request=lambda request: _scrub_request(request, rewrite_host),
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
