"""vcrpy for the provider adapters: record what an adapter says and hears, scrubbed of
everything secret (each provider's `Transcripts`, adapters/<provider>/provider.py) or personal
(IBANs, card numbers), and replay it offline.

Cassettes match on method, path and query, not host: those recorded from an emulator (on a
random port) are rewritten to `http://zuora.invalid`, which is where a replaying adapter points.
Requests that match the same way are answered in the order they were recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import vcr
from vcr.request import Request

from adapters.provider import SCRUBBED
from adapters.registry import PROVIDERS
from gateway.core.sensitive import redact_text

CASSETTES = Path(__file__).parent / "cassettes"
REPLAY_BASE = "http://zuora.invalid"


def scrub_body(body: bytes | str | None) -> bytes | None:
    if body is None:
        return None
    try:
        text = body.decode() if isinstance(body, bytes) else body
    except UnicodeDecodeError:
        return body if isinstance(body, bytes) else None  # a PDF: no secret or IBAN we wrote
    for provider in PROVIDERS.values():
        text = provider.transcripts.scrub(text)
    return redact_text(text).encode()


def _scrub_request(request: Request, rewrite_host: bool) -> Request:
    for provider in PROVIDERS.values():
        for header in provider.transcripts.request_headers:
            if header in request.headers:
                request.headers[header] = SCRUBBED
    request.body = scrub_body(request.body)
    if rewrite_host:
        parts = urlsplit(request.uri)
        request.uri = urlunsplit(("http", "zuora.invalid", parts.path, parts.query, ""))
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["body"]["string"] = scrub_body(response["body"]["string"])
    dropped = {
        header.lower()
        for provider in PROVIDERS.values()
        for header in provider.transcripts.response_headers
    }
    for header in [name for name in response["headers"] if name.lower() in dropped]:
        del response["headers"][header]
    return response


def provider_vcr(*, record_mode: str, rewrite_host: bool = False) -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=record_mode,
        match_on=["method", "path", "query"],
        before_record_request=lambda request: _scrub_request(request, rewrite_host),
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
