"""STUB: replaced by the helper building gateway/cheques (see /work/notes/spec-17.md)."""

from __future__ import annotations

from gateway.providers import Providers
from settings import Settings


class ChequeService:
    def __init__(self, settings: Settings, providers: Providers) -> None:
        self._settings = settings
        self._providers = providers
