"""Zuora's settings group: the BG_ZUORA_* variables. The gateway's Settings inherits it; it
imports nothing of the project. In sandbox every value left unset points at the built-in
emulator."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, model_validator
from pydantic_settings import NoDecode


class ZuoraTransportName(enum.StrEnum):
    SOAP = "soap"
    REST = "rest"


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(secret.strip() for secret in value.split(",") if secret.strip())
    return value


Secrets = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split)]  # comma-separated


class ZuoraSettings(BaseModel):
    # SOAP, or REST for tenants in the EU and APAC data centres and tenants with Orders.
    zuora_transport: ZuoraTransportName = ZuoraTransportName.SOAP
    zuora_soap_url: str | None = None  # e.g. https://apisandbox.zuora.com/apps/services/a/84.0
    zuora_rest_url: str | None = None  # e.g. https://rest.sandbox.eu.zuora.com
    zuora_username: str | None = None
    zuora_password: str | None = Field(default=None, repr=False)
    zuora_client_id: str | None = None
    zuora_client_secret: str | None = Field(default=None, repr=False)
    zuora_wsdl: Path | None = None  # the tenant's full WSDL; default: the project's own
    zuora_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # Where `billing-gateway run` serves the Zuora emulator in sandbox (loopback only).
    zuora_emulator_port: int = Field(default=8010, ge=1, le=65535)
    # The tenant's UI host for the back office's links, e.g. https://www.zuora.com,
    # https://eu.zuora.com, https://apisandbox.zuora.com; unset: the host of the Zuora API URL
    # in use (rest.eu.zuora.com: eu.zuora.com), else https://www.zuora.com. An account opens at
    # <url>/apps/CustomerAccount.do?method=view&id=<account id>, one known only by its number
    # at <url>/platform/apps/search?searchTerm=<number>&searchObjectType=account.
    zuora_dashboard_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+[^\s?#]*$")
    # Callouts in (adapters/zuora/callouts.py): Basic user and password, and the HMAC secrets,
    # comma-separated (two during a rotation). In sandbox, unset means the emulator's.
    zuora_callout_secrets: Secrets = Field(default=(), repr=False)
    zuora_callout_username: str | None = None
    zuora_callout_password: str | None = Field(default=None, repr=False)

    if TYPE_CHECKING:  # the gateway's own settings the provider reads (its Settings has them)
        data_dir: Path
        plan_tiers: tuple[Any, ...]
        provider_calls_per_second: dict[str, float]

        @property
        def sandbox(self) -> bool: ...

    @model_validator(mode="after")
    def _check_wsdl(self) -> ZuoraSettings:
        if self.zuora_wsdl is not None and not self.zuora_wsdl.is_file():
            raise ValueError(f"BG_ZUORA_WSDL: no file at {self.zuora_wsdl}")
        return self

    @property
    def zuora_emulated(self) -> bool:
        """In sandbox with no Zuora URL given: the built-in emulator stands in for Zuora."""
        return self.sandbox and not (self.zuora_soap_url or self.zuora_rest_url)

    @property
    def zuora_emulator_base(self) -> str:
        return f"http://127.0.0.1:{self.zuora_emulator_port}"
