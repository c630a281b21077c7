"""One CorrectionService per process, built once: the HTTP app builds it with its providers
and registers it here, so that the in-process worker shares its providers and circuits; a
worker process of its own builds it from settings on first use."""

from __future__ import annotations

from gateway.corrections.service import CorrectionService
from gateway.providers import Providers, providers_from_settings
from settings import Settings, get_settings

_service: CorrectionService | None = None


def build_corrections(settings: Settings, providers: Providers) -> CorrectionService:
    """The service, and the process's own from now on."""
    global _service
    _service = CorrectionService(settings, providers)
    return _service


def correction_service() -> CorrectionService:
    """The process's service: the app's when it built one, else built from settings."""
    if _service is not None:
        return _service
    settings = get_settings()
    return build_corrections(settings, providers_from_settings(settings))
