"""One ChequeService per process, built once: the HTTP app builds it with its providers and
registers it here, so that the in-process worker shares its providers and circuits; a worker
process of its own builds it from settings on first use."""

from __future__ import annotations

from gateway.cheques.service import ChequeService
from gateway.providers import Providers, providers_from_settings
from settings import Settings, get_settings

_service: ChequeService | None = None


def build_cheques(settings: Settings, providers: Providers) -> ChequeService:
    """The service, and the process's own from now on."""
    global _service
    _service = ChequeService(settings, providers)
    return _service


def cheque_service() -> ChequeService:
    """The process's service: the app's when it built one, else built from settings."""
    if _service is not None:
        return _service
    settings = get_settings()
    return build_cheques(settings, providers_from_settings(settings))
