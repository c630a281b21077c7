"""HTTP handlers for Apply: `POST /v1/change-requests/{id}/apply` and the tier table."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from gateway.api_keys.scopes import Scope
from gateway.change_requests.schemas import ChangeRequestRead
from gateway.edge.auth import SCOPE_OPT, client_of
from gateway.edge.openapi import (
    AUTHENTICATED,
    MUTATING,
    SECURITY,
    IdempotencyKey,
    conflicts,
    problems,
)
from gateway.fulfilment.schemas import ApplyRequest, PlanList, PlanTierRead
from gateway.fulfilment.service import Applier, FulfilmentService
from gateway.idempotency.answers import slot_for
from gateway.idempotency.context import idempotency_of
from settings import Settings

APPLY = {SCOPE_OPT: Scope.CHANGE_REQUESTS_APPLY.value}
READ = {SCOPE_OPT: Scope.CHANGE_REQUESTS_READ.value}
APPLY_CONFLICTS = (
    "collection_in_flight",
    "needs_new_contract",
    "current_tier_mismatch",
    "preview_changed",
    "approval_required",
    "acknowledgement_required",
    "invalid_transition",
)


class ApplyController(Controller):
    path = "/change-requests"
    tags = ["change requests"]
    security = SECURITY

    @post(
        "/{request_id:uuid}/apply",
        operation_id="applyChangeRequest",
        opt=APPLY,
        status_code=202,
        responses={
            **problems(
                *MUTATING,
                404,
                codes=["change_request_not_found", "blocked_by_fraud_stop", "provider_unavailable"],
            ),
            **conflicts(*APPLY_CONFLICTS),
        },
        summary="Apply a request at the providers (IBAN change or plan change)",
        description="Checks the providers again, then starts the steps; the answer is the "
        "request, `applying`, with its steps under `fulfilment`. A plan change carries the "
        "`preview_id` it was shown; warnings are acknowledged by their codes. 503 "
        "`provider_unavailable` with Retry-After while a provider is down; 422 "
        "`blocked_by_fraud_stop` when a value was blocked since filing.",
    )
    async def apply(
        self,
        request_id: FromPath[UUID],
        data: JSONBody[ApplyRequest],
        request: Request[Any, Any, Any],
        fulfilment: NamedDependency[FulfilmentService],
        idempotency_key: IdempotencyKey,
    ) -> ChangeRequestRead:
        client = client_of(request.scope)
        return await fulfilment.apply(
            request_id,
            Applier.of_api_key(client),
            data.preview_id,
            frozenset(data.acknowledge),
            data.identity_mismatch_reason,
            answer=slot_for(client.id, idempotency_of(request.scope)),
        )


class PlansController(Controller):
    path = "/plans"
    tags = ["plans"]
    security = SECURITY

    @get(
        "/",
        operation_id="listPlans",
        opt=READ,
        responses=problems(*AUTHENTICATED),
        summary="The seat-tier table",
    )
    async def plans(self, settings: NamedDependency[Settings]) -> PlanList:
        return PlanList(
            tiers=[PlanTierRead(**tier.model_dump()) for tier in settings.plan_tiers],
            contract_terms_changed_on=settings.contract_terms_changed_on,
        )
