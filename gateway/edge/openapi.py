"""OpenAPI pieces shared by controllers: the problem body and the error responses."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar._openapi.schema_generation import SchemaCreator
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Schema
from litestar.params import HeaderParameter
from litestar.typing import FieldDefinition
from msgspec import Struct


class FieldError(Struct, kw_only=True):
    field: str | None
    source: str | None
    message: str | None


class Problem(Struct, kw_only=True):
    """RFC 9457 problem details; `code` is stable and meant for machines."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None
    request_id: str | None
    errors: list[FieldError] | None = None
    existing_id: str | None = None
    required_scope: str | None = None
    current_status: str | None = None
    provider: str | None = None  # provider_* problems: which provider answered
    provider_code: str | None = None  # its own error code, as it sent it
    provider_request_id: str | None = None  # the id its support finds the call by
    effective_on: str | None = None  # not_on_billing_day: the day that would be accepted
    blocklist_entry_ids: list[int] | None = None  # blocked_by_fraud_stop: the matching entries


_DESCRIPTIONS = {
    400: "Bad request (validation_failed, malformed_body, idempotency_key_missing, ...)",
    401: "Missing, unknown, revoked or expired API key (unauthenticated)",
    403: "The API key lacks the scope (forbidden)",
    404: "Not found",
    409: "Conflict: idempotency_request_in_progress (retry later) or a state conflict (do not "
    "retry); see each route",
    413: "Body too large",
    422: "Refused by a rule (card_number_not_accepted, iban_*, downgrade_not_allowed, "
    "idempotency_key_reused, ...)",
    429: "Rate limited; see Retry-After",
    503: "Not ready, or the billing provider is unavailable (provider_unavailable)",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_DESCRIPTIONS[status],
            media_type="application/problem+json",
        )
        for status in statuses
    }


# 422: a card number or IBAN in the URL; 503: the database does not answer (Retry-After).
AUTHENTICATED = (400, 401, 403, 422, 429, 503)
MUTATING = (*AUTHENTICATED, 409, 413, 422)

_RETRY_LATER = (
    "Retry later: `idempotency_request_in_progress` (with Retry-After) means the first request "
    "with this Idempotency-Key is still running; send the same request again, unchanged, after "
    "Retry-After seconds and it gets the first request's answer."
)


def conflicts(*codes: str, idempotent: bool = True) -> dict[int, ResponseSpec]:
    """The 409 of one route, telling "try again later" from "conflict" by `code`; merge it over
    `problems(...)`. `idempotent` routes (every POST) can also answer the retry-later 409."""
    parts = [_RETRY_LATER] if idempotent else []
    if codes:
        parts.append(
            "Conflict, do not retry: "
            + ", ".join(f"`{code}`" for code in codes)
            + " means the resource's state forbids this request (the detail says why, and "
            "`existing_id` or `current_status` what is in the way); a retry gets the same answer."
        )
    return {
        409: ResponseSpec(
            data_container=Problem,
            description=" ".join(parts),
            media_type="application/problem+json",
        )
    }


IdempotencyKey = Annotated[
    str,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique key per intended action (a UUID); a retry with the same "
        "key and body replays the first answer.",
    ),
]

SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}]


def security_components() -> dict[str, Any]:
    from litestar.openapi.spec import SecurityScheme

    return {
        "apiKey": SecurityScheme(
            type="http",
            scheme="bearer",
            description="An API key issued by `billing-gateway api-key create`.",
        )
    }


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Document `forbid_unknown_fields` structs as `additionalProperties: false`, so that the
    OpenAPI document says what the API enforces (Litestar's own plugin leaves it out)."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        struct_info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(struct_info, msgspec.inspect.StructType):
            if struct_info.forbid_unknown_fields:
                schema.additional_properties = False
            _document_list_items(struct_info, schema)
        return schema


def _document_list_items(struct_info: msgspec.inspect.StructType, schema: Schema) -> None:
    """Litestar drops the constraints of `list[Annotated[str, Meta(...)]]` items; add them."""
    for field in struct_info.fields:
        if not isinstance(field.type, msgspec.inspect.ListType):
            continue
        item = field.type.item_type
        documented = (schema.properties or {}).get(field.encode_name)
        items = documented.items if isinstance(documented, Schema) else None
        if isinstance(item, msgspec.inspect.StrType) and isinstance(items, Schema):
            items.min_length = item.min_length
            items.max_length = item.max_length
            items.pattern = item.pattern
