"""What the gateway knows of a provider, bundled in one `Provider` that its folder declares
(adapters/<provider>/provider.py) and adapters/registry.py lists. The gateway's
provider-neutral paths (its adapters, webhook routes, sandbox emulators, the test cassettes'
scrubbing) go through the registry and never name a provider. A function here takes the
gateway's Settings, which inherit the provider's settings group."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.events import ProviderEvent

SCRUBBED = "SCRUBBED"


class EmulatorError(Exception):
    """An emulator that cannot start (its state file unreadable): the message says why."""


@dataclass(frozen=True)
class Webhook:
    """The provider's events in, at `POST /v1/webhooks/<provider>`."""

    operation_id: str
    summary: str
    headers: Mapping[str, str]  # the headers it reads, documented: name -> description
    # Raise a BillingError unless the body is the provider's, signed and recent (or none is
    # configured): settings, raw body, headers (lower-case names), tolerance in seconds.
    verify: Callable[[Any, bytes, Mapping[str, str], int], None]
    # The neutral event of a verified body (parsed JSON); ValueError when it is not one.
    event: Callable[[Mapping[str, str], Any], ProviderEvent]
    malformed: str  # the refusal's detail when `event` raises; {error} says why
    answer: Callable[[bool], dict[str, Any]]  # the response body, given "a repeat delivery"
    description: str | None = None


@dataclass(frozen=True)
class Emulator:
    """A provider's emulator for the sandbox, to serve on 127.0.0.1."""

    app: Any
    port: int
    port_variable: str  # named when the port is in use


@dataclass(frozen=True)
class Dashboard:
    """The provider's own UI, where the back office's links open an account."""

    label: str  # "Open in <provider>", marked for the catalogues
    account_url: Callable[[Any, str], str]  # settings, an account's reference (stripped)


@dataclass(frozen=True)
class Transcripts:
    """What in a recorded HTTP transcript (a test cassette) is the provider's secret: request
    headers replaced whole, response headers dropped, and in bodies the `secret` group of each
    pattern replaced by SCRUBBED."""

    request_headers: tuple[str, ...]
    response_headers: tuple[str, ...]
    body_secrets: tuple[re.Pattern[str], ...]

    def scrub(self, body: str) -> str:
        for pattern in self.body_secrets:
            body = pattern.sub(_scrubbed, body)
        return body

    def leaks(self, body: str) -> list[str]:
        """The secrets left in `body` (none when it was scrubbed)."""
        found = (
            match["secret"] for pattern in self.body_secrets for match in pattern.finditer(body)
        )
        return [secret for secret in found if secret and secret != SCRUBBED]


def _scrubbed(match: re.Match[str]) -> str:
    start, end = match.start("secret") - match.start(), match.end("secret") - match.start()
    return match[0][:start] + SCRUBBED + match[0][end:]


@dataclass(frozen=True)
class Provider:
    name: str
    settings: type  # its settings group, a base of the gateway's Settings
    adapter: Callable[[Any], Any | None]  # configured from settings; None when it is not
    webhook: Webhook
    # In sandbox, its emulator sending events to the gateway at the given base URL; None when
    # the provider itself is configured.
    emulator: Callable[[Any, str], Emulator | None]
    sandbox_help: Callable[[Any, str], str]  # `run`'s lines about it, given the API's base URL
    dashboard: Dashboard  # the back office's links to its own UI
    transcripts: Transcripts
