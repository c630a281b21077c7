"""Stripe's OpenAPI description (../shared/fixtures/stripe/), as a check on what the adapter
sends: the path and method must exist, and so must every parameter name, nested ones included
(`invoice_settings[default_payment_method]`). Free-form maps (metadata) take any key."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

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
    return bool(extra) and (extra is True or _accepts(extra, rest))


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


def unknown_parameters(method: str, path: str, names: list[str]) -> list[str]:
    """The names Stripe's description lacks for this call (all of them if the call is unknown)."""
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
