"""The billing providers the gateway talks to, built once from settings through the registry
(adapters/registry.py). In sandbox a provider left unconfigured is its built-in emulator; in
production a provider is configured only when its credentials are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.registry import PROVIDERS
from settings import Settings


@dataclass
class Providers:
    """The configured adapters by provider name."""

    adapters: dict[str, Any]

    def get(self, name: str) -> Any | None:
        return self.adapters.get(name)

    async def close(self) -> None:
        for adapter in self.adapters.values():
            await adapter.close()


def providers_from_settings(settings: Settings) -> Providers:
    built = {name: provider.adapter(settings) for name, provider in PROVIDERS.items()}
    return Providers({name: adapter for name, adapter in built.items() if adapter is not None})
