"""Stripe's OpenAPI description (../shared/fixtures/stripe/), as a check on what the adapter
sends: the path and method must exist, and so must every parameter name, nested ones included
(`invoice_settings[default_payment_method]`). Free-form maps (metadata) take any key. Calls newer
than the description (`NEWER_CALLS`) are checked against stripe-python's parameter types."""

from __future__ import annotations

import functools
import json
import re
import sys
import types
import typing
from typing import Any, Literal, NotRequired, Required, Union, get_args, get_origin

import stripe
import stripe.params
from stripe._stripe_object import UntypedStripeObject
from typing_extensions import is_typeddict

from tests.reference_files import FIXTURES, require

STRIPE_SPEC = FIXTURES / "stripe" / "openapi-spec3-2023-08-16.json"


@functools.cache
def _spec() -> dict[str, Any]:
    return dict(json.loads(require(STRIPE_SPEC).read_text()))


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], int, str]]:
    found = []
    for template in _spec()["paths"]:
        pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")
        literal = len(re.sub(r"\{[^/]+\}", "", template))
        found.append((pattern, literal, template))
    return found


def _operation(method: str, path: str) -> dict[str, Any] | None:
    matches = sorted(
        ((literal, template) for pattern, literal, template in _templates() if pattern.match(path)),
        reverse=True,
    )
    for _literal, template in matches:
        operation = _spec()["paths"][template].get(method.lower())
        if operation is not None:
            return dict(operation)
    return None


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = _spec()["components"]["schemas"][name]
    return schema


def _accepts(schema: dict[str, Any], path: list[str]) -> bool:
    """Whether `schema` has the nested parameter `path` (["invoice_settings", "default_..."])."""
    schema = _resolve(schema)
    if not path or schema.get("x-stripeBypassValidation"):
        return True  # Stripe marks these as taking more than they describe (a token or a hash)
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        if _accepts(alternative, path):
            return True
    head, rest = path[0], path[1:]
    if schema.get("type") == "array" or head == "":
        return head == "" and _accepts(schema.get("items", {}), rest)
    properties = schema.get("properties", {})
    if head in properties:
        return _accepts(properties[head], rest)
    extra = schema.get("additionalProperties")
    return bool(extra) and (extra is True or _accepts(extra or {}, rest))


# Calls newer than the 2023-08-16 description, checked under the names that description gives
# them (Stripe's migration guide maps one onto the other, parameter by parameter).
_RENAMED = {
    ("POST", "/v1/invoices/create_preview"): (
        "GET",
        "/v1/invoices/upcoming",
        {
            "subscription_details[items]": "subscription_items",
            "subscription_details[proration_behavior]": "subscription_proration_behavior",
            "subscription_details[proration_date]": "subscription_proration_date",
            "subscription_details[cancel_at]": "subscription_cancel_at",
        },
    ),
}


def _older_names(method: str, path: str, names: list[str]) -> tuple[str, str, list[str]]:
    renamed = _RENAMED.get((method, path))
    if renamed is None:
        return method, path, names
    older_method, older_path, table = renamed
    older = []
    for name in names:
        if name == "subscription_details":
            continue  # a container in the newer call; its members are checked one by one
        for newer, previous in table.items():
            if name == newer or name.startswith(newer + "["):
                name = previous + name[len(newer) :]
                break
        older.append(name)
    return older_method, older_path, older


# Calls newer than the 2023-08-16 description, named with the API version that added them, and
# checked against the parameter types stripe-python 16.1 (built for the pinned version) was
# generated with from Stripe's own OpenAPI description of them.
NEWER_CALLS: dict[tuple[str, str], tuple[str, type]] = {
    # https://docs.stripe.com/changelog/clover/2025-10-29/payment-records
    ("POST", "/v1/payment_records/report_payment"): (
        "2025-10-29.clover",
        stripe.params.PaymentRecordReportPaymentParams,
    ),
    ("GET", "/v1/payment_records/{id}"): (
        "2025-10-29.clover",
        stripe.params.PaymentRecordRetrieveParams,
    ),
    # https://docs.stripe.com/changelog/clover/2025-10-29/invoicing-payment-records
    ("POST", "/v1/invoices/{invoice}/attach_payment"): (
        "2025-10-29.clover",
        stripe.params.InvoiceAttachPaymentParams,
    ),
    # https://docs.stripe.com/changelog/clover/2025-10-29/payment-records-updates (a preview
    # then; documented under 2026-01-28.clover)
    ("POST", "/v1/payment_records/{id}/report_refund"): (
        "2026-01-28.clover",
        stripe.params.PaymentRecordReportRefundParams,
    ),
}


def _newer_call(method: str, path: str) -> type | None:
    for (newer_method, template), (_version, params) in NEWER_CALLS.items():
        pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
        if newer_method == method and re.match(pattern, path):
            return params
    return None


def _field_type(params: Any, name: str) -> Any:
    """The type of one field of a stripe-python TypedDict, resolved in its own module (resolving
    all of them fails on the request options' forward references, which no call sends)."""
    annotation = params.__annotations__.get(name)
    while True:
        if isinstance(annotation, typing.ForwardRef):
            annotation = annotation.__forward_arg__
        if isinstance(annotation, str):
            annotation = eval(annotation, vars(sys.modules[params.__module__]))  # noqa: S307
        if get_origin(annotation) in (NotRequired, Required):
            annotation = get_args(annotation)[0]
            continue
        return annotation


def _sdk_accepts(annotation: Any, path: list[str]) -> bool:
    """Whether stripe-python's parameter type takes the nested parameter `path`."""
    if not path:
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return False
    if origin in (Union, types.UnionType):
        return any(_sdk_accepts(alternative, path) for alternative in get_args(annotation))
    if is_typeddict(annotation):
        if path[0] not in annotation.__annotations__:
            return False
        return _sdk_accepts(_field_type(annotation, path[0]), path[1:])
    if origin is list:
        return path[0] == "" and _sdk_accepts(get_args(annotation)[0], path[1:])
    if origin is dict or (isinstance(origin, type) and issubclass(origin, UntypedStripeObject)):
        return len(path) == 1  # a free-form map of strings (metadata): any key, no deeper
    return False


def unknown_parameters(method: str, path: str, names: list[str]) -> list[str]:
    """The names Stripe's description lacks for this call (all of them if the call is unknown)."""
    newer = _newer_call(method, path)
    if newer is not None:
        split = (
            (name, [name.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", name)]) for name in names
        )
        return [name for name, parts in split if not _sdk_accepts(newer, parts)]
    method, path, names = _older_names(method, path, names)
    operation = _operation(method, path)
    if operation is None:
        return [f"{method} {path}"]
    if method in ("GET", "DELETE"):
        schema = {
            "type": "object",
            "properties": {
                parameter["name"]: parameter.get("schema", {})
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "query"
            },
        }
    else:
        content = operation.get("requestBody", {}).get("content", {})
        schema = content.get("application/x-www-form-urlencoded", {}).get("schema", {})
    return [
        name
        for name in names
        if not _accepts(schema, [name.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", name)])
    ]
