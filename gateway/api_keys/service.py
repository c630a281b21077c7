"""Issue, list, revoke and authenticate API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from audit import Actor, AuditEntry, append
from audit.actions import Action
from gateway.api_keys.scopes import Scope
from gateway.api_keys.tables import ApiKey
from gateway.core.db.connection import engine, fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.i18n import Message

KEY_PREFIX = "bgk"
LAST_USED_RESOLUTION = timedelta(minutes=1)  # fewer writes on the hot path


@dataclass(frozen=True)
class ApiClient:
    """The authenticated caller, as the rest of the gateway sees it."""

    id: uuid.UUID
    name: str
    scopes: frozenset[str]
    rate_limit_per_minute: int | None
    client: str  # the organisation the key belongs to: it sees that client's requests

    @property
    def actor(self) -> Actor:
        return Actor(kind="api_key", id=str(self.id), role=self.name)

    @property
    def sees_all_clients(self) -> bool:
        return Scope.CHANGE_REQUESTS_ALL_CLIENTS.value in self.scopes


@dataclass(frozen=True)
class IssuedKey:
    id: uuid.UUID
    name: str
    client: str
    prefix: str
    secret: str  # the whole key; shown once, never stored
    scopes: tuple[str, ...]
    expires_at: datetime | None


def _digest(secret: str) -> str:
    # The key carries 256 random bits, so a fast unkeyed digest cannot be brute-forced.
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(presented: str) -> str | None:
    parts = presented.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == KEY_PREFIX else None


async def issue_key(
    name: str,
    scopes: list[Scope],
    *,
    expires_in: timedelta | None = None,
    rate_limit_per_minute: int | None = None,
    client: str | None = None,
    actor: Actor,
) -> IssuedKey:
    """`client` names the organisation; give the earlier key's client when rotating, so that the
    new key keeps its requests. Without one the key is a client of its own (its name and
    prefix): a name is free text, and two organisations naming their keys "zendesk" must not
    share each other's requests."""
    prefix = secrets.token_hex(4)
    client = client or f"{name}-{prefix}"
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    expires_at = datetime.now(UTC) + expires_in if expires_in else None
    row = ApiKey(
        name=name,
        client=client,
        prefix=prefix,
        secret_digest=_digest(secret),
        scopes=[scope.value for scope in scopes],
        rate_limit_per_minute=rate_limit_per_minute,
        expires_at=expires_at,
    )
    async with engine().transaction():
        await row.save()
        await append(
            AuditEntry(
                action=Action.API_KEY_CREATE_SUCCEEDED,
                actor=actor,
                about={"id": row.id},
                after={"name": name, "client": client, "prefix": prefix, "scopes": row.scopes},
            )
        )
    return IssuedKey(row.id, name, client, prefix, secret, tuple(row.scopes), expires_at)


async def list_keys() -> list[ApiKey]:
    return await ApiKey.objects().order_by(ApiKey.created_at)


async def live_clients() -> list[str]:
    """The clients that have a live key (the support tools the back office may notify)."""
    rows = await fetch(
        "SELECT DISTINCT client FROM api_keys WHERE revoked_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > now()) ORDER BY client"
    )
    return [str(row["client"]) for row in rows]


async def revoke_key(prefix: str, *, actor: Actor, reason: str) -> ApiKey:
    """Revoke the key and record it. The row is locked first: of two revokes at once, the
    second waits for the first to commit, then finds the key already revoked and, as for any
    key revoked before, gets it back as it is (revoked at the first one's time), with no entry
    of its own."""
    async with engine().transaction():
        found = await ApiKey.objects().where(ApiKey.prefix == prefix).lock_rows().first()
        if found is None:
            raise BillingError(
                ErrorCode.NOT_FOUND,
                Message("No API key has the prefix {prefix}.", prefix=repr(prefix)),
            )
        row: ApiKey = found
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
            await row.save([ApiKey.revoked_at])
            await append(
                AuditEntry(
                    action=Action.API_KEY_REVOKE_SUCCEEDED,
                    actor=actor,
                    about={"id": row.id},
                    reason=reason,
                    after={"prefix": prefix},
                )
            )
    return row


_REJECTED = Message(
    "The API key is missing, unknown, revoked or expired. Ask an admin for a valid key."
)


async def authenticate(presented: str | None) -> ApiClient:
    prefix = _split(presented or "")
    if prefix is None or presented is None:
        raise BillingError(ErrorCode.UNAUTHENTICATED, _REJECTED)
    # Plain SQL: this runs on every request, and the query builder costs more than the query.
    rows = await fetch(
        "SELECT id, name, client, secret_digest, scopes, rate_limit_per_minute, expires_at,"
        " revoked_at, last_used_at FROM api_keys WHERE prefix = $1",
        prefix,
    )
    row = rows[0] if rows else None
    now = datetime.now(UTC)
    if (
        row is None
        or not hmac.compare_digest(row["secret_digest"], _digest(presented))
        or row["revoked_at"] is not None
        or (row["expires_at"] is not None and row["expires_at"] <= now)
    ):
        raise BillingError(ErrorCode.UNAUTHENTICATED, _REJECTED)
    if row["last_used_at"] is None or now - row["last_used_at"] > LAST_USED_RESOLUTION:
        await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == row["id"])
    return ApiClient(
        row["id"],
        row["name"],
        frozenset(row["scopes"]),
        row["rate_limit_per_minute"],
        row["client"],
    )
