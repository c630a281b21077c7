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
    if not path:
        return True
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


def unknown_parameters(method: str, path: str, names: list[str]) -> list[str]:
    """The names Stripe's description lacks for this call (all of them if the call is unknown)."""
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
