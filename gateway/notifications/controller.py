"""HTTP handlers for outgoing notifications: endpoints (register, read, change, disable,
enable, rotate the secret) and their deliveries (read, resend). Scope `notifications:manage`;
a key sees its own client's endpoints unless it has change-requests:all-clients."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gateway.api_keys.scopes import Scope
from gateway.api_keys.service import ApiClient
from gateway.core.cursor import CursorQuery
from gateway.core.errors import BillingError, ErrorCode
from gateway.edge.auth import SCOPE_OPT, client_of
from gateway.edge.body_guard import IDEMPOTENCY_OPT
from gateway.edge.openapi import (
    AUTHENTICATED,
    MUTATING,
    SECURITY,
    IdempotencyKey,
    conflicts,
    problems,
)
from gateway.i18n import Message
from gateway.notifications.records import ALL, ClientView
from gateway.notifications.schemas import (
    DeliveryDetail,
    DeliveryPage,
    DeliveryRead,
    DeliveryStatus,
    EndpointCreate,
    EndpointDisable,
    EndpointPage,
    EndpointRead,
    EndpointRegistered,
    EndpointUpdate,
    SecretRotated,
)
from gateway.notifications.service import NotificationService

MANAGE = {SCOPE_OPT: Scope.NOTIFICATIONS_MANAGE.value}
# The answer holds the secret: never stored to be replayed (a retry finds the endpoint, 409).
SHOWS_SECRET = {**MANAGE, IDEMPOTENCY_OPT: False}
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Item = TypeVar("Item", bound=msgspec.Struct)


def view_of(client: ApiClient) -> ClientView:
    return ALL if client.sees_all_clients else client.client


def _page(
    rows: list[dict[str, Any]], limit: int, item: type[Item]
) -> tuple[list[Item], str | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = rows[-1]["cursor"] if more and rows else None
    return [msgspec.convert(row, item) for row in rows], cursor


def owner_of(client: ApiClient, asked: str | None) -> str | None:
    """Whose events a new endpoint gets: the key's own client's; a key that sees every client
    names one, or none for all."""
    if client.sees_all_clients:
        return asked
    if asked is not None and asked != client.client:
        raise BillingError(
            ErrorCode.FORBIDDEN,
            Message(
                "This API key registers endpoints for its own client only; leave `client` out, "
                "or use a key with change-requests:all-clients."
            ),
            extra={"required_scope": Scope.CHANGE_REQUESTS_ALL_CLIENTS.value},
        )
    return client.client


class NotificationEndpointController(Controller):
    path = "/notification-endpoints"
    tags = ["notifications"]
    security = SECURITY

    @post(
        "/",
        opt=SHOWS_SECRET,
        status_code=201,
        operation_id="registerNotificationEndpoint",
        responses={
            **problems(*MUTATING),
            **conflicts("notification_endpoint_exists", idempotent=False),
        },
        summary="Register an endpoint: its URL, the events it wants; the secret is shown once",
        description="Requests are signed by the Standard Webhooks scheme (`webhook-id`, "
        "`webhook-timestamp`, `webhook-signature`) with the `secret` in this answer, which is "
        "never shown again (rotate for a new one). The URL's host must be one the gateway may "
        "reach (422 `notification_host_not_allowed`); redirects are never followed. One "
        "endpoint per URL: a retry finds the first (409 `notification_endpoint_exists`).",
    )
    async def register(
        self,
        data: JSONBody[EndpointCreate],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
    ) -> EndpointRegistered:
        client = client_of(request.scope)
        endpoint, secret = await notifications.register(
            data.url,
            data.events,
            data.description,
            owner_of(client, data.client),
            client.actor,
            language=data.language,
        )
        return msgspec.convert({**endpoint, "secret": secret}, EndpointRegistered)

    @get(
        "/",
        opt=MANAGE,
        operation_id="listNotificationEndpoints",
        responses=problems(*AUTHENTICATED),
        summary="Endpoints, newest first (a key sees its own client's)",
    )
    async def list_endpoints(
        self,
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
        cursor: CursorQuery = None,
        limit: Limit = 50,
    ) -> EndpointPage:
        view = view_of(client_of(request.scope))
        rows = await notifications.list_endpoints(view, limit=limit + 1, before=cursor)
        items, next_cursor = _page(rows, limit, EndpointRead)
        return EndpointPage(items=items, next_cursor=next_cursor)

    @get(
        "/{endpoint_id:uuid}",
        opt=MANAGE,
        operation_id="getNotificationEndpoint",
        responses=problems(*AUTHENTICATED, 404),
        summary="One endpoint (never its secret): enabled, failing since, why disabled",
    )
    async def read(
        self,
        endpoint_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
    ) -> EndpointRead:
        view = view_of(client_of(request.scope))
        return msgspec.convert(await notifications.get_endpoint(endpoint_id, view), EndpointRead)

    @patch(
        "/{endpoint_id:uuid}",
        opt=MANAGE,
        operation_id="updateNotificationEndpoint",
        responses={
            **problems(*MUTATING, 404),
            **conflicts("notification_endpoint_exists", idempotent=False),
        },
        summary="Change an endpoint's URL, events or description",
    )
    async def update(
        self,
        endpoint_id: FromPath[UUID],
        data: JSONBody[EndpointUpdate],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
    ) -> EndpointRead:
        client = client_of(request.scope)
        endpoint = await notifications.update(
            endpoint_id,
            actor=client.actor,
            url=data.url,
            events=data.events,
            description=data.description,
            language=data.language,
            client=view_of(client),
        )
        return msgspec.convert(endpoint, EndpointRead)

    @post(
        "/{endpoint_id:uuid}/disable",
        opt=MANAGE,
        status_code=200,
        operation_id="disableNotificationEndpoint",
        responses={**problems(*MUTATING, 404), **conflicts()},
        summary="Stop sending to an endpoint (with a reason); its pending deliveries wait",
    )
    async def disable(
        self,
        endpoint_id: FromPath[UUID],
        data: JSONBody[EndpointDisable],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
        idempotency_key: IdempotencyKey,
    ) -> EndpointRead:
        client = client_of(request.scope)
        endpoint = await notifications.disable(
            endpoint_id, data.reason, client.actor, view_of(client)
        )
        return msgspec.convert(endpoint, EndpointRead)

    @post(
        "/{endpoint_id:uuid}/enable",
        opt=MANAGE,
        status_code=200,
        operation_id="enableNotificationEndpoint",
        responses={**problems(*MUTATING, 404), **conflicts()},
        summary="Send to an endpoint again: its pending deliveries go at once, in order",
    )
    async def enable(
        self,
        endpoint_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
        idempotency_key: IdempotencyKey,
    ) -> EndpointRead:
        client = client_of(request.scope)
        endpoint = await notifications.enable(endpoint_id, client.actor, view_of(client))
        return msgspec.convert(endpoint, EndpointRead)

    @post(
        "/{endpoint_id:uuid}/rotate-secret",
        opt=SHOWS_SECRET,
        status_code=200,
        operation_id="rotateNotificationEndpointSecret",
        responses=problems(*MUTATING, 404),
        summary="A new signing secret, shown once; the old one signs no more",
    )
    async def rotate_secret(
        self,
        endpoint_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
    ) -> SecretRotated:
        client = client_of(request.scope)
        secret = await notifications.rotate_secret(endpoint_id, client.actor, view_of(client))
        return SecretRotated(id=endpoint_id, secret=secret)

    @get(
        "/{endpoint_id:uuid}/deliveries",
        opt=MANAGE,
        operation_id="listNotificationDeliveries",
        responses=problems(*AUTHENTICATED, 404),
        summary="An endpoint's deliveries, newest first",
    )
    async def deliveries(
        self,
        endpoint_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
        status: FromQuery[DeliveryStatus | None] = None,
        event_id: FromQuery[UUID | None] = None,
        cursor: CursorQuery = None,
        limit: Limit = 50,
    ) -> DeliveryPage:
        view = view_of(client_of(request.scope))
        await notifications.get_endpoint(endpoint_id, view)  # 404 when not the key's
        rows = await notifications.list_deliveries(
            endpoint_id=endpoint_id,
            event_id=event_id,
            status=status,
            limit=limit + 1,
            before=cursor,
            client=view,
        )
        items, next_cursor = _page(rows, limit, DeliveryRead)
        return DeliveryPage(items=items, next_cursor=next_cursor)


class NotificationDeliveryController(Controller):
    path = "/notification-deliveries"
    tags = ["notifications"]
    security = SECURITY

    @get(
        "/{delivery_id:uuid}",
        opt=MANAGE,
        operation_id="getNotificationDelivery",
        responses=problems(*AUTHENTICATED, 404),
        summary="One delivery with every attempt (status, duration, response code) and its body",
    )
    async def read(
        self,
        delivery_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
    ) -> DeliveryDetail:
        view = view_of(client_of(request.scope))
        return msgspec.convert(await notifications.get_delivery(delivery_id, view), DeliveryDetail)

    @post(
        "/{delivery_id:uuid}/resend",
        opt=MANAGE,
        status_code=202,
        operation_id="resendNotificationDelivery",
        responses={**problems(*MUTATING, 404), **conflicts("notification_delivery_pending")},
        summary="Send a delivered or failed delivery again, now: the same webhook-id and body",
        description="One fresh try with a new timestamp and signature (after any earlier "
        "pending delivery of the same endpoint: order is kept). 409 "
        "`notification_delivery_pending` while it still waits to be sent.",
    )
    async def resend(
        self,
        delivery_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        notifications: NamedDependency[NotificationService],
        idempotency_key: IdempotencyKey,
    ) -> DeliveryDetail:
        client = client_of(request.scope)
        delivery = await notifications.resend(delivery_id, client.actor, view_of(client))
        return msgspec.convert(delivery, DeliveryDetail)
