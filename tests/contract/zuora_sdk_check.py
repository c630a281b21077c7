"""Checks recorded Zuora REST calls against Zuora's own Python SDK (`zuora-sdk`, generated from
Zuora's API description). Runs inside the SDK's own virtual environment (it pins old urllib3 and
certifi), so it imports nothing of the project: JSON in on stdin, JSON out on stdout.

For each call it finds the SDK operation by HTTP method and path template (read from the SDK's
generated API sources), then reports:
- a query parameter the operation does not take;
- a body field the operation's request model does not have, at any depth (the SDK's models keep
  unknown fields as "additional properties", which Zuora drops or refuses: here they fail);
- a body the request model refuses (a type, a length, a required field);
- when the caller asks for it, the same for the answer against the operation's 200 model.

Input:  {"calls": [{"method", "path", "query": {}, "body": any, "response": any,
                    "check_response": bool, "label": str (optional; names the call)}]}
Output: {"sdk_version": str, "operations": ["POST /v1/orders -> CreateOrderRequest", ...],
         "problems": ["POST /v1/orders: subscriptions[0]...: unknown field 'x' (Model)", ...]}
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import sys
import types
import typing
import warnings
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Annotated, Any

import zuora_sdk.api
import zuora_sdk.models
from pydantic import BaseModel, TypeAdapter, ValidationError

# Zuora's payment-method list answers one array per type (`creditcard`, `banktransfer`, ...);
# the API description names them all `returnedPaymentMethodType`.
PLACEHOLDER_FIELDS = ("returnedPaymentMethodType",)


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    query: set[str] = field(default_factory=set)
    body: type[BaseModel] | None = None
    answer: type[BaseModel] | None = None

    @property
    def literal_segments(self) -> int:
        return sum("{" not in part for part in self.template.split("/"))


def _resolve(name: str) -> type[BaseModel] | None:
    found = getattr(zuora_sdk.models, name, None)
    return found if isinstance(found, type) and issubclass(found, BaseModel) else None


def sdk_operations() -> list[Operation]:
    """Every operation of the SDK's API classes: method, path, query parameters, body and
    answer models, read off the generated `_<name>_serialize` and `<name>` functions."""
    operations = []
    for module_info in pkgutil.iter_modules(zuora_sdk.api.__path__):
        module = importlib.import_module(f"zuora_sdk.api.{module_info.name}")
        for api in vars(module).values():
            if not (isinstance(api, type) and api.__module__ == module.__name__):
                continue
            for name, function in vars(api).items():
                if not (name.startswith("_") and name.endswith("_serialize")):
                    continue
                public = getattr(api, name[1:-10], None)
                if public is None:
                    continue
                operations.append(_operation(inspect.getsource(function), public, module))
    return operations


def _operation(serializer: str, public: Any, module: types.ModuleType) -> Operation:
    method = re.search(r"method='(\w+)'", serializer)
    path = re.search(r"resource_path='([^']+)'", serializer)
    assert method and path, "the SDK's generated serializer changed shape"
    template = path.group(1)
    pattern = re.compile(
        "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
    )
    operation = Operation(method.group(1), template, pattern)
    operation.query = set(re.findall(r"_query_params\.append\(\s*\('([^']+)'", serializer))
    body = re.search(r"_body_params = (\w+)", serializer)
    if body:
        annotation = inspect.signature(public).parameters[body.group(1)].annotation
        name = annotation if isinstance(annotation, str) else annotation.__name__
        operation.body = _resolve(name)
    answer = re.search(r"'200': \"(\w+)\"", inspect.getsource(public))
    if answer:
        operation.answer = _resolve(answer.group(1))
    return operation


def find_operation(operations: list[Operation], method: str, path: str) -> Operation | None:
    matching = [o for o in operations if o.method == method and o.pattern.fullmatch(path)]
    return max(matching, key=lambda o: o.literal_segments, default=None)


def properties(model: type[BaseModel]) -> list[str]:
    declared = getattr(model, f"_{model.__name__}__properties", None)
    if declared is not None:
        return list(declared)
    return [f.alias or n for n, f in model.model_fields.items() if n != "additional_properties"]


def annotation_of(model: type[BaseModel], alias: str) -> Any:
    for name, info in model.model_fields.items():
        if (info.alias or name) == alias:
            return info.annotation
    return None


def models_in(annotation: Any) -> list[type[BaseModel]]:
    """The SDK models an annotation names, through Optional, List, Union and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [found for arg in typing.get_args(annotation) for found in models_in(arg)]


def one_of(model: type[BaseModel], data: Any) -> type[BaseModel]:
    """A oneOf wrapper's concrete model: the one whose name holds the body's `type`."""
    schemas = getattr(model, "model_fields", {}).get("one_of_schemas")
    if schemas is None or not isinstance(data, dict):
        return model
    names = sorted(schemas.default)
    kind = str(data.get("type", "")).lower()
    named = [name for name in names if kind and kind in name.lower()]
    if len(named) == 1:
        return _resolve(named[0]) or model
    return model


def unknown_fields(model: type[BaseModel], data: Any, where: str) -> list[str]:
    model = one_of(model, data)
    if not isinstance(data, dict):
        return [f"{where}: expected an object for {model.__name__}, got {type(data).__name__}"]
    known = properties(model)
    problems = []
    for key, value in data.items():
        annotation = annotation_of(model, key)
        if key not in known:
            placeholder = next((p for p in PLACEHOLDER_FIELDS if p in known), None)
            if placeholder is None or not isinstance(value, list):
                problems.append(f"{where}.{key}: unknown field ({model.__name__})")
                continue
            annotation = annotation_of(model, placeholder)
        for nested in models_in(annotation):
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if item is None:
                    continue
                at = f"{where}.{key}[{index}]" if isinstance(value, list) else f"{where}.{key}"
                problems += unknown_fields(nested, item, at)
    return problems


def refused(model: type[BaseModel], data: Any, where: str) -> list[str]:
    """What the model's own field types say about the values: a missing required field, a
    wrong type, a string over its length, a value outside an enum. (The SDK's generated
    `from_dict` and constructors skip validation, so each field is validated on its own.)"""
    model = one_of(model, data)
    if not isinstance(data, dict):
        return []
    problems = []
    for name, info in model.model_fields.items():
        alias = info.alias or name
        if name == "additional_properties":
            continue
        if alias not in data:
            if info.is_required():
                problems.append(f"{where}.{alias}: required by {model.__name__}, missing")
            continue
        value = data[alias]
        nested = models_in(info.annotation)
        if nested:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    problems += refused(nested[0], item, f"{where}.{alias}")
            continue
        try:
            # The field's own constraints (lengths, strictness) live in its FieldInfo.
            TypeAdapter(Annotated[info.annotation, info]).validate_python(value)
        except ValidationError as error:
            message = error.errors()[0]["msg"]
            problems.append(f"{where}.{alias}: {model.__name__} refuses {value!r}: {message}")
    return problems


def check(call: dict[str, Any], operations: list[Operation]) -> tuple[str, list[str]]:
    method, path = call["method"], call["path"]
    label = call.get("label") or f"{method} {path}"
    operation = find_operation(operations, method, path)
    if operation is None:
        return label, [f"{label}: no such operation in zuora-sdk"]
    problems = [
        f"{label}: unknown query parameter {name!r}"
        for name in call.get("query") or {}
        if name not in operation.query
    ]
    body = call.get("body")
    if body is not None:
        if operation.body is None:
            problems.append(f"{label}: the operation takes no body")
        else:
            problems += unknown_fields(operation.body, body, "body")
            problems += refused(operation.body, body, "body")
    if call.get("check_response") and operation.answer is not None:
        problems += unknown_fields(operation.answer, call.get("response"), "response")
        problems += refused(operation.answer, call.get("response"), "response")
    named = [
        f"{problem}" if problem.startswith(label) else f"{label}: {problem}" for problem in problems
    ]
    described = f"{method} {operation.template} -> " + (
        operation.body.__name__ if operation.body else "no body"
    )
    return described, named


def main() -> None:
    # pydantic notes field aliases it cannot use when a field is validated alone: harmless.
    warnings.simplefilter("ignore")
    calls = json.load(sys.stdin)["calls"]
    operations = sdk_operations()
    described, problems = [], []
    for call in calls:
        operation, found = check(call, operations)
        described.append(operation)
        problems += found
    json.dump(
        {
            "sdk_version": version("zuora-sdk"),
            "operations": sorted(set(described)),
            "problems": problems,
        },
        sys.stdout,
        indent=1,
    )


if __name__ == "__main__":
    main()
