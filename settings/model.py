"""Every environment variable the gateway reads, validated once at start-up.

Each field maps to `BG_<FIELD>` except `DATABASE_URL`, which keeps its conventional name.
The README's configuration table lists the same variables; keep the two in step.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from adapters.money import UnknownCurrencyError, exponent_of
from adapters.stripe.settings import StripeSettings
from adapters.zuora.settings import ZuoraSettings
from settings.keys import (
    KeyMaterial,
    load_or_create_sandbox_keys,
    load_or_create_sandbox_signing_key,
    parse_key_ring,
    parse_signing_key,
)


class Mode(enum.StrEnum):
    SANDBOX = "sandbox"
    PRODUCTION = "production"


class PlanTier(BaseModel, frozen=True):
    """One row of the seat-tier table: configuration, not code (product.md)."""

    name: str
    min_seats: int = Field(ge=1)
    max_seats: int = Field(ge=1)
    monthly_price_minor: int = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)


DEFAULT_PLAN_TIERS: tuple[PlanTier, ...] = (
    PlanTier(name="solo", min_seats=1, max_seats=1, monthly_price_minor=2900, currency="EUR"),
    PlanTier(name="team", min_seats=2, max_seats=4, monthly_price_minor=4900, currency="EUR"),
    PlanTier(name="business", min_seats=5, max_seats=10, monthly_price_minor=9900, currency="EUR"),
    PlanTier(
        name="enterprise", min_seats=11, max_seats=50, monthly_price_minor=24900, currency="EUR"
    ),
)


# Contact-reason codes a request of each kind may carry; anything else is flagged in triage.
DEFAULT_CONTACT_REASONS: dict[str, tuple[str, ...]] = {
    "iban_change": (
        "Billing > Payment method > Bank details change",
        "Account > Partner > Payout details",
    ),
    "plan_change": (
        "Account > Subscription > Upsell",
        "User > Creation",
        "Account > Complaint > Churn Risk > Product",
    ),
}


ReviewMoment = Literal["before", "after"]
# A payout account change is the classic account takeover: a team lead approves it first.
DEFAULT_REVIEW_POLICY: dict[str, ReviewMoment] = {
    "iban_change:zuora_collection": "after",
    "iban_change:stripe_customer_debit": "after",
    "iban_change:stripe_connect_payout": "before",
    "plan_change:zuora_subscription": "after",
    "plan_change:stripe_subscription": "after",
}


CorrectionKind = Literal["refund", "cancel_subscription", "void_invoice"]
# Demo: a refund above 1000.00 EUR (100,000 JPY, 1000.000 KWD) waits for a team lead.
DEFAULT_REFUND_APPROVAL_ABOVE: dict[str, int] = {
    "EUR": 100_000,
    "JPY": 100_000,
    "KWD": 1_000_000,
    "*": 100_000,
}


class SettingsError(Exception):
    """Raised with a message that names each bad variable and what is wrong with it."""


def sink_problem(value: str | None) -> str | None:
    """What is wrong with a BG_AUDIT_CHECKPOINT_SINK value, or None. Never quotes the value:
    a URL may carry credentials."""
    if value is None or value.strip() in ("", "stdout"):
        return None
    parts = urlsplit(value.strip())
    if parts.scheme in ("http", "https"):
        return None if parts.hostname else f"an {parts.scheme}:// URL needs a host"
    if "://" in value:
        return (
            f"{parts.scheme}:// is not a sink: give a directory path, an http:// or https:// URL,"
            " or stdout"
        )
    return None


class Settings(ZuoraSettings, StripeSettings, BaseSettings):
    """The gateway's settings, with each provider's group (adapters/<provider>/settings.py)."""

    model_config = SettingsConfigDict(env_prefix="BG_", extra="ignore", frozen=True)

    mode: Mode = Mode.SANDBOX
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # The owner role's URL, for `migrate`: the application's role (DATABASE_URL) owns nothing.
    migration_database_url: str | None = Field(default=None, repr=False)
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: str = Field(default="auto", pattern="^(auto|json|console)$")
    db_pool_max: int = Field(default=10, ge=1, le=200)
    max_body_bytes: int = Field(default=65_536, ge=1024)
    # How deep a JSON body may nest; each level is a recursion in every parser and walk.
    max_json_depth: int = Field(default=32, ge=4, le=200)
    # Request line plus headers, and header fields, a request may carry: past either, the server
    # answers 431 and closes the connection before the app sees the request.
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    max_header_fields: int = Field(default=100, ge=10, le=10_000)
    # Addresses or CIDR ranges of the reverse proxies in front of the gateway, comma-separated.
    # Only a peer listed here may name the client (X-Forwarded-For, X-Forwarded-Proto); empty
    # means none may, and per-address limits count the peer itself.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = ()
    rate_limit_per_minute: int = Field(default=1200, ge=1)
    idempotency_ttl_hours: int = Field(default=72, ge=72)
    # Ring of AES-256 keys for data at rest, "id:base64,id:base64"; the first one encrypts.
    encryption_keys: Annotated[str | None, NoDecode] = Field(default=None, repr=False)
    # Key for keyed hashes (IBAN look-up, API-key digests), base64 of at least 32 bytes.
    hash_key: str | None = Field(default=None, repr=False)
    # Ed25519 seed (base64, 32 bytes) that signs audit checkpoints.
    audit_signing_key: str | None = Field(default=None, repr=False)
    plan_tiers: Annotated[tuple[PlanTier, ...], NoDecode] = DEFAULT_PLAN_TIERS
    # Contracts signed before this date must be re-signed before an upsell (terms changed then).
    contract_terms_changed_on: date = date(2019, 4, 1)
    run_worker_in_process: bool = False
    # Back office (OWASP ASVS level 2 defaults).
    staff_idle_minutes: int = Field(default=15, ge=1, le=60)
    staff_session_hours: int = Field(default=12, ge=1, le=24)
    staff_lockout_failures: int = Field(default=10, ge=3)
    staff_lockout_minutes: int = Field(default=30, ge=1)
    # The back office's dates are shown in each staff member's own time zone (their
    # preferences); this is the zone of those who have not picked one.
    staff_time_zone: str = "UTC"
    # Sign-in attempts (password or code) per client address and minute, whatever the account.
    staff_sign_ins_per_minute: int = Field(default=30, ge=1)
    # Share of processed requests a team lead must review: 100 reviews every one.
    review_sample_percent: int = Field(default=100, ge=0, le=100)
    # Per "<kind>:<target>": "before" (a team lead approves the exact plan before it runs) or
    # "after" (reviewed once applied, sampled by review_sample_percent). JSON in BG_REVIEW_POLICY.
    review_policy: Annotated[dict[str, ReviewMoment], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_REVIEW_POLICY)
    )
    # How long an Apply may keep retrying an unavailable provider before its run fails.
    apply_deadline_seconds: int = Field(default=600, ge=10, le=86_400)
    # Calls per second the gateway allows itself per provider (below the provider's own limit).
    provider_calls_per_second: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: {"zuora": 20.0, "stripe": 25.0}
    )
    # Failures in a row that open a provider's circuit, and how long it stays open.
    provider_circuit_failures: int = Field(default=5, ge=1, le=1000)
    provider_circuit_open_seconds: int = Field(default=30, ge=1, le=3600)
    # Corrections (refunds, cancellations, voids) that wait for a second person before they run:
    # a refund strictly above the amount for its currency, in minor units ("*": any other
    # currency), JSON in BG_CORRECTION_APPROVAL_REFUND_ABOVE; and kinds that always wait
    # (refund, cancel_subscription, void_invoice), comma-separated in
    # BG_CORRECTION_APPROVAL_ALWAYS.
    correction_approval_refund_above: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_REFUND_APPROVAL_ABOVE)
    )
    correction_approval_always: Annotated[tuple[CorrectionKind, ...], NoDecode] = ()
    # What a cancellation with `then: refund_remaining` keeps of a prepaid subscription: this
    # percentage of the unused value (or of what is left of the payment).
    cancellation_fee_percent: Decimal = Field(default=Decimal(30), ge=0, le=100)
    cancellation_fee_applies_to: Literal["unused_value", "remaining_payment"] = "unused_value"
    triage_stale_hours: int = Field(default=24, ge=1)
    # The ticket lifecycle (gateway/change_requests/lifecycle.py): an assigned request with no
    # action by its assignee for triage_expire_days returns to Triage; one waiting on the
    # customer for customer_silent_days is marked for a team lead to close or re-post.
    triage_expire_days: int = Field(default=3, ge=1)
    customer_silent_days: int = Field(default=7, ge=1)
    contact_reasons: Annotated[dict[str, tuple[str, ...]], NoDecode] = DEFAULT_CONTACT_REASONS
    # Host names the back office is reached by; checked against Origin/Referer over HTTPS.
    admin_hosts: Annotated[tuple[str, ...], NoDecode] = ("127.0.0.1", "localhost")
    webhook_tolerance_seconds: int = Field(default=300, ge=30, le=3600)
    # Outgoing notifications (gateway/notifications/): the hosts endpoints may point at
    # ("host" or "host:port", comma-separated; empty: none, so no endpoint can be registered),
    # the seconds between tries of a failing delivery (the last one spent, it is failed), how
    # long an endpoint may fail before it is disabled, and how long one try may take.
    notification_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    notification_retry_schedule: Annotated[tuple[float, ...], NoDecode] = (
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        36000,
    )
    notification_disable_after_hours: float = Field(default=120, gt=0)
    notification_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Events whose every delivery is over (delivered or failed) are deleted after this many
    # days, with their deliveries and attempts; longer than the retry schedule (27 h).
    notification_retention_days: int = Field(default=30, ge=2, le=3650)
    # Where API-key rate limits, failed-authentication limits and the sign-in throttle are
    # counted, so that every process and machine shares one budget: unset means the gateway's
    # own PostgreSQL; otherwise a `limits` storage URI, e.g. "async+redis://127.0.0.1:6379/0",
    # or "memory://" (this process only: one process, or a test).
    limits_storage_uri: str | None = Field(default=None, repr=False)
    # Where signed audit checkpoints are copied, off the database's machine: a directory (a
    # path; unset means <data dir>/audit), an http(s):// URL each checkpoint is POSTed to as
    # JSON, or "stdout" (one JSON line each, for the log shipper).
    audit_checkpoint_sink: str | None = Field(default=None, repr=False)  # a URL's credentials
    # Offline payments (gateway/cheques/): the IANA time zone whose today is the business day a
    # cheque is entered on (its number, its batch, the daily report), e.g. "Europe/Paris".
    operations_time_zone: str = "UTC"

    @field_validator("audit_checkpoint_sink")
    @classmethod
    def _check_checkpoint_sink(cls, value: str | None) -> str | None:
        problem = sink_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("operations_time_zone", "staff_time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone name (e.g. UTC, Europe/Paris)"
            ) from None
        return value.strip()

    @field_validator("contact_reasons", mode="before")
    @classmethod
    def _parse_reasons(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("provider_calls_per_second", mode="before")
    @classmethod
    def _parse_rates(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("review_policy", mode="before")
    @classmethod
    def _parse_policy(cls, value: Any) -> Any:
        # Given pairs override the defaults; a pair left out keeps its default.
        given = json.loads(value) if isinstance(value, str) else value
        return {**DEFAULT_REVIEW_POLICY, **given}

    def review_moment(self, kind: str, target: str) -> ReviewMoment:
        """When a team lead looks at a change of `kind` on `target`; unknown pairs: after."""
        return self.review_policy.get(f"{kind}:{target}", "after")

    @field_validator("correction_approval_refund_above", mode="before")
    @classmethod
    def _parse_refund_approval(cls, value: Any) -> Any:
        given = json.loads(value) if isinstance(value, str) else value
        if not isinstance(given, dict):
            raise ValueError('a JSON object of currency to minor units, e.g. {"EUR": 100000}')
        return given

    @field_validator("correction_approval_refund_above")
    @classmethod
    def _check_refund_approval(cls, value: dict[str, int]) -> dict[str, int]:
        checked: dict[str, int] = {}
        for currency, amount in value.items():
            if currency != "*":
                try:
                    exponent_of(currency)
                except UnknownCurrencyError as error:
                    raise ValueError(str(error)) from None
            if amount < 0:
                raise ValueError(f"{currency}: an amount in minor units, 0 or more")
            checked["*" if currency == "*" else currency.upper()] = amount
        if "*" not in checked:
            raise ValueError('needs "*", the amount for every currency not listed')
        return checked

    @field_validator("correction_approval_always", mode="before")
    @classmethod
    def _parse_always(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value.startswith("["):
                return json.loads(value)
            return tuple(kind.strip() for kind in value.split(",") if kind.strip())
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [proxy.strip() for proxy in value.split(",") if proxy.strip()]
        networks = []
        for proxy in value:
            try:
                networks.append(str(ipaddress.ip_network(proxy, strict=False)))
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or CIDR range (a wildcard would let any "
                    "client choose the address its limits are counted against)"
                ) from None
        return tuple(networks)

    @field_validator("notification_allowed_hosts", mode="before")
    @classmethod
    def _parse_notification_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        return tuple(host.strip().lower() for host in value if host.strip())

    @field_validator("notification_retry_schedule", mode="before")
    @classmethod
    def _parse_retry_schedule(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return tuple(value)

    @field_validator("notification_retry_schedule")
    @classmethod
    def _check_retry_schedule(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(seconds <= 0 for seconds in value):
            raise ValueError("seconds between tries, comma-separated, each above 0 (5,300,1800)")
        return value

    @field_validator("admin_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(host.strip() for host in value.split(",") if host.strip())
        return value

    @field_validator("plan_tiers", mode="before")
    @classmethod
    def _parse_tiers(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value)
        return value

    @field_validator("plan_tiers")
    @classmethod
    def _check_tiers(cls, tiers: tuple[PlanTier, ...]) -> tuple[PlanTier, ...]:
        names = [tier.name for tier in tiers]
        if not tiers or len(set(names)) != len(names):
            raise ValueError("needs at least one tier and unique tier names")
        for tier in tiers:
            if tier.min_seats > tier.max_seats:
                raise ValueError(f"tier {tier.name!r} has min_seats above max_seats")
        return tuple(sorted(tiers, key=lambda tier: tier.min_seats))

    @model_validator(mode="after")
    def _production_needs_keys(self) -> Settings:
        if self.mode is Mode.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("BG_ENCRYPTION_KEYS", self.encryption_keys),
                    ("BG_HASH_KEY", self.hash_key),
                    ("BG_AUDIT_SIGNING_KEY", self.audit_signing_key),
                    ("DATABASE_URL", self.database_url),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"production mode needs {', '.join(missing)}")
        if bool(self.encryption_keys) != bool(self.hash_key):
            raise ValueError("BG_ENCRYPTION_KEYS and BG_HASH_KEY are given together or not at all")
        if self.encryption_keys and self.hash_key:
            parse_key_ring(
                self.encryption_keys, self.hash_key
            )  # fail at start, naming the variable
        return self

    @property
    def sandbox(self) -> bool:
        return self.mode is Mode.SANDBOX

    @property
    def notification_hosts(self) -> tuple[str, ...]:
        """Where outgoing notifications may go. The sandbox, left unset, allows this machine
        (a receiver tried beside `make run`); production allows only what it names."""
        if not self.notification_allowed_hosts and self.sandbox:
            return ("127.0.0.1", "localhost")
        return self.notification_allowed_hosts

    @functools.cached_property
    def keys(self) -> KeyMaterial:
        """Keys for encryption and hashing: given in production, generated once in sandbox."""
        if self.encryption_keys and self.hash_key:
            return parse_key_ring(self.encryption_keys, self.hash_key)
        return load_or_create_sandbox_keys(self.data_dir / "keys.json")

    @functools.cached_property
    def audit_signing_seed(self) -> bytes:
        if self.audit_signing_key:
            return parse_signing_key(self.audit_signing_key)
        return load_or_create_sandbox_signing_key(self.data_dir / "keys.json")

    @property
    def all_contact_reasons(self) -> tuple[str, ...]:
        return tuple(
            dict.fromkeys(code for codes in self.contact_reasons.values() for code in codes)
        )

    def tier(self, name: str) -> PlanTier | None:
        return next((tier for tier in self.plan_tiers if tier.name == name), None)


def _explain(error: ValidationError) -> str:
    lines = ["invalid configuration:"]
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else ""
        variable = "DATABASE_URL" if field == "DATABASE_URL" else f"BG_{field.upper()}"
        where = variable if field else "settings"
        lines.append(f"  {where}: {problem['msg']}")
    return "\n".join(lines)


@functools.cache
def get_settings() -> Settings:
    """From the environment, then from files in BG_SECRETS_DIR named after the variables
    (`/run/secrets/BG_HASH_KEY`, as compose and Kubernetes mount secrets)."""
    secrets_dir = os.environ.get("BG_SECRETS_DIR") or None
    if secrets_dir is not None and not Path(secrets_dir).is_dir():
        raise SettingsError(
            f"invalid configuration:\n  BG_SECRETS_DIR: no directory at {secrets_dir}"
        )
    try:
        # pydantic-settings takes the directory at init; the dataclass-style signature hides it
        return Settings(_secrets_dir=secrets_dir)  # type: ignore[call-arg]
    except ValidationError as error:
        raise SettingsError(_explain(error)) from None


def reset_settings() -> None:
    """Forget the cached settings (tests and the CLI change the environment)."""
    get_settings.cache_clear()
