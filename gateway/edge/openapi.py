"""OpenAPI pieces shared by controllers: the problem body, the error responses, the examples.

Conventions for every route (tests/integration/test_openapi_document.py checks them over every
operation of /schema/openapi.json, so a new route that skips one fails there):

1. An explicit, stable `operation_id="lowerCamelCase"` on the route decorator: verb + resource,
   as a generated client names its method (createChangeRequest, getChangeRequest,
   listChangeRequests, applyChangeRequest, resendNotificationDelivery). Never rename one:
   clients call it by that name.
2. A request body Struct carries one fixed, realistic example as a class variable:
   `openapi_example: ClassVar[dict[str, Any]] = {...}` (StrictStructSchemaPlugin puts it in
   the Struct's schema as `examples`). Masked values only: never a full IBAN or card number,
   even a test one (write an IBAN as "DE** **** **** **** **30 00").
3. Error responses come from `problems(*statuses, codes=(...))`, merged with
   `conflicts(*codes)` for a 409: each status gets a fixed example per code (the route's own
   `codes` plus the usual one for the status), built from gateway/problem_types.py. Never a
   bare `ResponseSpec`: Litestar fills those with random examples that change at every start.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

import msgspec
from litestar._openapi.schema_generation import SchemaCreator
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Schema
from litestar.params import HeaderParameter
from litestar.typing import FieldDefinition
from msgspec import Meta, Struct

from gateway.core.errors import HTTP_STATUS, ErrorCode
from gateway.edge.problem_examples import problem_example, problem_examples


class FieldError(Struct, kw_only=True):
    field: str | None
    source: str | None
    message: str | None


class Problem(Struct, kw_only=True):
    """RFC 9457 problem details; `code` is stable and meant for machines."""

    type: Annotated[
        str,
        Meta(
            description="The URL of the gateway's page explaining `code` (HTML; JSON with "
            "`Accept: application/json`)."
        ),
    ]
    title: str
    status: int
    detail: Annotated[str, Meta(description="A sentence a support agent can act on.")]
    code: ErrorCode
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

    openapi_example: ClassVar[dict[str, Any]]  # set below, from problem_example()


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

Problem.openapi_example = problem_example(ErrorCode.IBAN_CHECKSUM_FAILED)


def _problem_response(
    status: int, description: str, codes: Iterable[ErrorCode | str], *, usual: bool = True
) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        description=description,
        media_type="application/problem+json",
        generate_examples=False,  # Litestar's are random, and differ at every start
        examples=problem_examples(status, codes, usual=usual),
    )


def problems(*statuses: int, codes: Iterable[ErrorCode | str] = ()) -> dict[int, ResponseSpec]:
    """The error responses of a route; `codes` are the route's own (each is shown under its
    HTTP status, which must be among `statuses`)."""
    own = [ErrorCode(code) for code in codes]
    if strays := [code.value for code in own if HTTP_STATUS[code] not in statuses]:
        raise ValueError(f"codes {strays} answer with a status this route does not list")
    return {
        status: _problem_response(
            status, _DESCRIPTIONS[status], [c for c in own if HTTP_STATUS[c] == status]
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
    return {409: _problem_response(409, " ".join(parts), codes, usual=idempotent)}


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
    OpenAPI document says what the API enforces (Litestar's own plugin leaves it out), and a
    Struct's `openapi_example` as its schema's example (Litestar has no place for one)."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        struct_info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(struct_info, msgspec.inspect.StructType):
            if struct_info.forbid_unknown_fields:
                schema.additional_properties = False
            _document_list_items(struct_info, schema)
            _document_union_strings(struct_info, schema)
        example = getattr(field_definition.type_, "openapi_example", None)
        if isinstance(example, dict):  # convention 2 at the top of this module
            schema.examples = [example]
        return schema


def _document_list_items(struct_info: msgspec.inspect.StructType, schema: Schema) -> None:
    """Litestar drops the constraints of `list[Annotated[str, Meta(...)]]` items (in an optional
    list too); add them."""
    for field in struct_info.fields:
        listed = _unwrapped(field.type)
        if not isinstance(listed, msgspec.inspect.ListType):
            continue
        item = _unwrapped(listed.item_type)
        items = _array_items((schema.properties or {}).get(field.encode_name))
        if isinstance(item, msgspec.inspect.StrType) and isinstance(items, Schema):
            items.min_length = item.min_length
            items.max_length = item.max_length
            items.pattern = item.pattern


def _unwrapped(kind: msgspec.inspect.Type) -> msgspec.inspect.Type:
    """The type under its metadata (description, examples) and an `| None`."""
    if isinstance(kind, msgspec.inspect.UnionType):
        present = [t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
        kind = present[0] if len(present) == 1 else kind
    return kind.type if isinstance(kind, msgspec.inspect.Metadata) else kind


def _array_items(documented: Any) -> Any:
    if not isinstance(documented, Schema):
        return None
    if documented.items is not None:
        return documented.items
    arrays = [s for s in documented.one_of or [] if isinstance(s, Schema) and s.items is not None]
    return arrays[0].items if len(arrays) == 1 else None


def _document_union_strings(struct_info: msgspec.inspect.StructType, schema: Schema) -> None:
    """Litestar drops a string's constraints inside a union with an object
    (`Annotated[str, Meta(...)] | SomeStruct`); put them on the union's string arm. (With only
    `| None` beside it, Litestar keeps them.)"""
    for field in struct_info.fields:
        if not isinstance(field.type, msgspec.inspect.UnionType):
            continue
        kinds = [_unwrapped(kind) for kind in field.type.types]
        strings = [kind for kind in kinds if isinstance(kind, msgspec.inspect.StrType)]
        objects = [
            kind
            for kind in kinds
            if not isinstance(kind, msgspec.inspect.StrType | msgspec.inspect.NoneType)
        ]
        documented = (schema.properties or {}).get(field.encode_name)
        if len(strings) != 1 or not objects or not isinstance(documented, Schema):
            continue
        arms = [s for s in documented.one_of or [] if isinstance(s, Schema) and s.type == "string"]
        if len(arms) == 1:
            arms[0].min_length = strings[0].min_length
            arms[0].max_length = strings[0].max_length
            arms[0].pattern = strings[0].pattern
