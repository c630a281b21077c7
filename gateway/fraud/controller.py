"""HTTP handlers for /v1/blocklist and /v1/fraud/screen: parse, call the service, respond."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway.api_keys.scopes import Scope
from gateway.core.cursor import CursorQuery
from gateway.edge.auth import SCOPE_OPT, client_of
from gateway.edge.bodies import PRINTABLE
from gateway.edge.body_guard import BODY_LIMIT_OPT, IDEMPOTENCY_OPT
from gateway.edge.openapi import (
    AUTHENTICATED,
    MUTATING,
    SECURITY,
    IdempotencyKey,
    conflicts,
    problems,
)
from gateway.fraud.fast import screen_fast
from gateway.fraud.imports import BlocklistImports
from gateway.fraud.schemas import (
    BlocklistEntryCreate,
    BlocklistEntryRead,
    BlocklistEntryRemove,
    BlocklistImportCreate,
    BlocklistImportRead,
    BlocklistPage,
    EntryKind,
    ScreenRequest,
    ScreenResult,
)
from gateway.fraud.service import BlocklistService, EntryFilters
from gateway.fraud.wiring import blocklist_service
from gateway.idempotency.answers import slot_for
from gateway.idempotency.context import idempotency_of

READ = {SCOPE_OPT: Scope.FRAUD_READ.value}
IMPORT_BODY_BYTES = 2 * 1024 * 1024  # 10,000 rows of CSV fit with room to spare
WRITE = {SCOPE_OPT: Scope.FRAUD_WRITE.value}


class BlocklistController(Controller):
    path = "/blocklist"
    tags = ["fraud-stop"]
    security = SECURITY

    @post(
        "/entries",
        operation_id="createBlocklistEntry",
        opt=WRITE,
        status_code=201,
        responses={**problems(*MUTATING), **conflicts("blocklist_entry_exists")},
        summary="Block a card fingerprint, BIN, IP, IP range, email, IBAN or customer",
    )
    async def block(
        self,
        data: JSONBody[BlocklistEntryCreate],
        request: Request[Any, Any, Any],
        blocklist: NamedDependency[BlocklistService],
        idempotency_key: IdempotencyKey,
    ) -> BlocklistEntryRead:
        client = client_of(request.scope)
        answer = slot_for(client.id, idempotency_of(request.scope))
        return await blocklist.block(data, client.actor, answer=answer)

    @get(
        "/entries",
        operation_id="listBlocklistEntries",
        opt=READ,
        responses=problems(*AUTHENTICATED, 422, codes=["invalid_cursor"]),
        summary="List entries",
    )
    async def list_entries(
        self,
        blocklist: NamedDependency[BlocklistService],
        kind: FromQuery[EntryKind | None] = None,
        value: Annotated[
            str | None,
            QueryParameter(max_length=200, pattern=PRINTABLE, description="exact value, with kind"),
        ] = None,
        source_ticket: Annotated[
            str | None, QueryParameter(max_length=130, pattern=PRINTABLE)
        ] = None,
        include_removed: Annotated[
            bool, QueryParameter(description="also unblocked and expired entries (history)")
        ] = False,
        cursor: CursorQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> BlocklistPage:
        filters = EntryFilters(
            kind=kind,
            value=value,
            source_ticket=source_ticket,
            include_removed=include_removed,
            cursor=cursor,
            limit=limit,
        )
        return await blocklist.list(filters)

    @get(
        "/entries/{entry_id:int}",
        operation_id="getBlocklistEntry",
        opt=READ,
        responses=problems(*AUTHENTICATED, 404, codes=["blocklist_entry_not_found"]),
        summary="One entry, with its history",
    )
    async def read(
        self, entry_id: FromPath[int], blocklist: NamedDependency[BlocklistService]
    ) -> BlocklistEntryRead:
        return await blocklist.get(entry_id)

    @delete(
        "/entries/{entry_id:int}",
        operation_id="removeBlocklistEntry",
        opt=WRITE,
        status_code=200,
        responses={
            **problems(*MUTATING, 404, codes=["blocklist_entry_not_found"]),
            **conflicts("blocklist_entry_already_removed", idempotent=False),
        },
        summary="Unblock an entry (a reason is required; the entry is kept as history)",
        description="Repeating it with the same reason (by the same key) is the same request "
        "and gets the first answer again, so a client whose answer was lost may retry; another "
        "reason finds the entry already removed (409).",
    )
    async def unblock(
        self,
        entry_id: FromPath[int],
        data: JSONBody[BlocklistEntryRemove],
        request: Request[Any, Any, Any],
        blocklist: NamedDependency[BlocklistService],
    ) -> BlocklistEntryRead:
        actor = client_of(request.scope).actor
        return await blocklist.unblock(entry_id, data.reason, actor, repeatable=True)

    @post(
        "/imports",
        operation_id="createBlocklistImport",
        opt={**WRITE, BODY_LIMIT_OPT: IMPORT_BODY_BYTES},
        request_max_body_size=IMPORT_BODY_BYTES,
        status_code=202,
        responses={**problems(*MUTATING), **conflicts()},
        summary="Bulk import entries (JSON or CSV); each row is blocked or refused on its own",
    )
    async def start_import(
        self,
        data: JSONBody[BlocklistImportCreate],
        request: Request[Any, Any, Any],
        blocklist_imports: NamedDependency[BlocklistImports],
        idempotency_key: IdempotencyKey,
    ) -> BlocklistImportRead:
        client = client_of(request.scope)
        answer = slot_for(client.id, idempotency_of(request.scope))
        return await blocklist_imports.queue(data, client.actor, answer=answer)

    @get(
        "/imports/{import_id:uuid}",
        operation_id="getBlocklistImport",
        opt=READ,
        responses=problems(*AUTHENTICATED, 404, codes=["blocklist_import_not_found"]),
        summary="An import's progress and its per-row results",
    )
    async def read_import(
        self, import_id: FromPath[UUID], blocklist_imports: NamedDependency[BlocklistImports]
    ) -> BlocklistImportRead:
        return await blocklist_imports.get(import_id)


class FraudScreenController(Controller):
    path = "/fraud"
    tags = ["fraud-stop"]
    security = SECURITY

    # A screen changes nothing, so a repeat is harmless: no Idempotency-Key (it is a POST only
    # so that an IBAN or email never sits in a URL or an access log).
    @post(
        "/screen",
        operation_id="screenForFraud",
        opt={SCOPE_OPT: Scope.FRAUD_SCREEN.value, IDEMPOTENCY_OPT: False},
        status_code=200,
        responses=problems(*AUTHENTICATED, 413, 422, codes=["screen_nothing_given"]),
        summary="Allow or block: screen an IP, card fingerprint, BIN, email, IBAN or customer",
        before_request=screen_fast,  # answers every well-formed screen: see gateway/fraud/fast
    )
    async def screen(self, data: JSONBody[ScreenRequest]) -> ScreenResult:
        # Reached only for a body screen_fast could not decode: Litestar's own parsing refuses
        # it with the field-by-field validation problem every other route gives.
        return await blocklist_service().screen(data)
