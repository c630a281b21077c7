"""HTTP handlers for /v1/change-requests: parse, call the service, respond."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway.api_keys.scopes import Scope
from gateway.change_requests.schemas import (
    ChangeRequestCancel,
    ChangeRequestCreate,
    ChangeRequestPage,
    ChangeRequestRead,
)
from gateway.change_requests.service import ChangeRequestService, ListFilters
from gateway.change_requests.states import Kind, Status
from gateway.core.cursor import CursorQuery
from gateway.edge.auth import SCOPE_OPT, client_of
from gateway.edge.bodies import PRINTABLE
from gateway.edge.body_guard import CLAIMED_BY_SERVICE, IDEMPOTENCY_OPT
from gateway.edge.openapi import (
    AUTHENTICATED,
    MUTATING,
    SECURITY,
    IdempotencyKey,
    conflicts,
    problems,
)
from gateway.idempotency.context import idempotency_of

READ = {SCOPE_OPT: Scope.CHANGE_REQUESTS_READ.value}
WRITE = {SCOPE_OPT: Scope.CHANGE_REQUESTS_WRITE.value}
# Filing claims the Idempotency-Key in its own statement (the busiest POST: a round trip fewer).
FILE = {**WRITE, IDEMPOTENCY_OPT: CLAIMED_BY_SERVICE}


class ChangeRequestController(Controller):
    path = "/change-requests"
    tags = ["change requests"]
    security = SECURITY

    @post(
        "/",
        operation_id="createChangeRequest",
        opt=FILE,
        status_code=201,
        responses={
            **problems(
                *MUTATING,
                codes=["iban_checksum_failed", "blocked_by_fraud_stop", "idempotency_key_missing"],
            ),
            **conflicts("duplicate_open_request"),
        },
        summary="File an IBAN-change or plan-change request",
    )
    async def create(
        self,
        data: JSONBody[ChangeRequestCreate],
        request: Request[Any, Any, Any],
        change_requests: NamedDependency[ChangeRequestService],
        idempotency_key: IdempotencyKey,
    ) -> ChangeRequestRead:
        return await change_requests.create(
            data, client_of(request.scope), idempotency_of(request.scope)
        )

    @get(
        "/",
        operation_id="listChangeRequests",
        opt=READ,
        responses=problems(*AUTHENTICATED, 422, codes=["invalid_cursor"]),
        summary="List change requests",
    )
    async def list_requests(
        self,
        request: Request[Any, Any, Any],
        change_requests: NamedDependency[ChangeRequestService],
        status: FromQuery[Status | None] = None,
        kind: FromQuery[Kind | None] = None,
        ticket: Annotated[
            str | None,
            QueryParameter(
                max_length=300,
                pattern=PRINTABLE,
                description='the ticket in any spelling ("zendesk:1001", "zendesk #1001"), or '
                "its id alone (any system)",
            ),
        ] = None,
        customer: Annotated[
            str | None,
            QueryParameter(max_length=200, pattern=PRINTABLE, description="any customer reference"),
        ] = None,
        cursor: CursorQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
    ) -> ChangeRequestPage:
        filters = ListFilters(
            status=status, kind=kind, ticket=ticket, customer=customer, cursor=cursor, limit=limit
        )
        return await change_requests.list(filters, client_of(request.scope))

    @get(
        "/{request_id:uuid}",
        operation_id="getChangeRequest",
        opt=READ,
        responses=problems(*AUTHENTICATED, 404, codes=["change_request_not_found"]),
        summary="One change request (masked data only)",
    )
    async def read(
        self,
        request_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        change_requests: NamedDependency[ChangeRequestService],
    ) -> ChangeRequestRead:
        return await change_requests.get(request_id, client_of(request.scope))

    @post(
        "/{request_id:uuid}/cancel",
        operation_id="cancelChangeRequest",
        opt=WRITE,
        status_code=200,
        responses={
            **problems(*MUTATING, 404, codes=["change_request_not_found"]),
            **conflicts("invalid_transition"),
        },
        summary="Withdraw a request (customer changed mind)",
    )
    async def cancel(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[ChangeRequestCancel],
        request: Request[Any, Any, Any],
        change_requests: NamedDependency[ChangeRequestService],
        idempotency_key: IdempotencyKey,
    ) -> ChangeRequestRead:
        return await change_requests.cancel(
            request_id, data.reason, client_of(request.scope), idempotency_of(request.scope)
        )
