"""Issue, list, revoke and authenticate API keys."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import secrets
import time
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
# An authenticated key is kept in this process this long: a revoke or expiry set in the database
# by another process (or by hand) is enforced everywhere within it; this process's own revokes
# at once (revoke_key drops the entry).
AUTHENTICATED_FOR_SECONDS = 1.0
# A key in use is read again this long before its entry runs out, while the entry still
# answers: otherwise every request in flight at that moment waited for the read.
REFRESH_AHEAD_SECONDS = 0.2
_MAX_CACHED = 10_000


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
            _forget(prefix)
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
    _forget(prefix)  # again: a request may have cached the key while the revoke ran
    return row


_REJECTED = Message(
    "The API key is missing, unknown, revoked or expired. Ask an admin for a valid key."
)


@dataclass
class _Cached:
    prefix: str
    client: ApiClient
    expires_at: datetime | None
    last_used_at: datetime
    until: float  # monotonic time after which the database is asked again


_authenticated: dict[str, _Cached] = {}  # by the presented key's digest: one secret, one entry
# The database read under way for a digest: requests arriving meanwhile share it rather than
# sending one read each (when an entry expires, every request in flight would miss it at once).
_reading: dict[str, asyncio.Task[ApiClient]] = {}
_revokes = [0]  # how many revokes this process made: a read that predates one caches nothing


def _forget(prefix: str) -> None:
    _reading.clear()  # a read under way may predate the revoke: later requests read afresh
    _revokes[0] += 1
    for digest in [d for d, cached in _authenticated.items() if cached.prefix == prefix]:
        _authenticated.pop(digest, None)


async def authenticate(presented: str | None) -> ApiClient:
    prefix = _split(presented or "")
    if prefix is None or presented is None:
        raise BillingError(ErrorCode.UNAUTHENTICATED, _REJECTED)
    digest = _digest(presented)
    cached = _authenticated.get(digest)
    left = cached.until - time.monotonic() if cached is not None else 0.0
    if cached is not None and left > 0:
        if left < REFRESH_AHEAD_SECONDS:
            _read(prefix, digest)  # not awaited: this entry is good for `left` seconds more
        now = datetime.now(UTC)
        if cached.expires_at is not None and cached.expires_at <= now:
            _authenticated.pop(digest, None)
            raise BillingError(ErrorCode.UNAUTHENTICATED, _REJECTED)
        if now - cached.last_used_at > LAST_USED_RESOLUTION:
            cached.last_used_at = now
            await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == cached.client.id)
        return cached.client
    # shielded: a caller that goes away does not cancel the others' read
    return await asyncio.shield(_read(prefix, digest))


def _read(prefix: str, digest: str) -> asyncio.Task[ApiClient]:
    """The read of this key under way, or a new one."""
    loop = asyncio.get_running_loop()
    reading = _reading.get(digest)
    if reading is None or reading.done() or reading.get_loop() is not loop:
        # a context of its own: never a caller's transaction (Piccolo finds it in a context var)
        reading = _reading[digest] = loop.create_task(
            _authenticate_from_the_database(prefix, digest), context=contextvars.Context()
        )
        reading.add_done_callback(_read_done)
    return reading


def _read_done(done: asyncio.Task[ApiClient]) -> None:
    for digest in [d for d, task in _reading.items() if task is done]:
        del _reading[digest]
    if not done.cancelled():
        done.exception()  # a refresh nobody awaited: its refusal is in the cache, not the log


async def _authenticate_from_the_database(prefix: str, digest: str) -> ApiClient:
    revokes = _revokes[0]
    # The cache's second counts from before the read: a revoke committed just after the read
    # is then honoured within a second of it, however long the read and the UPDATE took.
    read_at = time.monotonic()
    # Plain SQL: the query builder costs more than the query.
    rows = await fetch(
        "SELECT id, name, client, secret_digest, scopes, rate_limit_per_minute, expires_at,"
        " revoked_at, last_used_at FROM api_keys WHERE prefix = $1",
        prefix,
    )
    row = rows[0] if rows else None
    now = datetime.now(UTC)
    if (
        row is None
        or not hmac.compare_digest(row["secret_digest"], digest)
        or row["revoked_at"] is not None
        or (row["expires_at"] is not None and row["expires_at"] <= now)
    ):
        _authenticated.pop(digest, None)
        raise BillingError(ErrorCode.UNAUTHENTICATED, _REJECTED)
    last_used = row["last_used_at"]
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        await ApiKey.update({ApiKey.last_used_at: now}).where(ApiKey.id == row["id"])
        last_used = now
    client = ApiClient(
        row["id"],
        row["name"],
        frozenset(row["scopes"]),
        row["rate_limit_per_minute"],
        row["client"],
    )
    if len(_authenticated) >= _MAX_CACHED:  # many keys at once: start afresh
        _authenticated.clear()
    if revokes != _revokes[0]:  # revoked meanwhile, maybe this key: answer, keep nothing
        return client
    _authenticated[digest] = _Cached(
        prefix, client, row["expires_at"], last_used, read_at + AUTHENTICATED_FOR_SECONDS
    )
    return client
