"""One FulfilmentService per process, built once: the HTTP app builds it with its providers
and registers it here, so that the in-process worker shares its providers and circuits; a
worker process of its own builds it from settings on first use."""

from __future__ import annotations

from gateway.core.crypto import Cipher
from gateway.fraud.wiring import blocklist_service
from gateway.fulfilment.checks import ChecksService
from gateway.fulfilment.service import FulfilmentService
from gateway.providers import Providers, providers_from_settings
from settings import Settings, get_settings

_service: FulfilmentService | None = None


def build_fulfilment(settings: Settings, providers: Providers, cipher: Cipher) -> FulfilmentService:
    """The service, and the process's own from now on."""
    global _service
    checks = ChecksService(settings, providers, cipher)
    _service = FulfilmentService(settings, providers, cipher, checks, blocklist=blocklist_service())
    return _service


def fulfilment_service() -> FulfilmentService:
    """The process's service: the app's when it built one, else built from settings."""
    if _service is not None:
        return _service
    settings = get_settings()
    return build_fulfilment(settings, providers_from_settings(settings), Cipher(settings.keys))
