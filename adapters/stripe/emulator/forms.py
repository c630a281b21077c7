"""Stripe's request bodies and query strings: form encoding with brackets for nesting
(`metadata[shop]=101`, `invoice_settings[default_payment_method]=pm_1`) and indexes for lists
(`payment_method_types[0]=sepa_debit`), decoded into plain dicts and lists."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def _path(key: str) -> list[str]:
    found = _KEY.match(key)
    if not found:
        raise ValueError(f"cannot read the parameter name {key!r}")
    return [found.group(1), *re.findall(r"\[([^\[\]]*)\]", found.group(2))]


def _lists(value: Any) -> Any:
    """Dicts whose keys are all indexes (or empty, `a[]=x`) become lists, in index order."""
    if not isinstance(value, dict):
        return value
    converted = {key: _lists(item) for key, item in value.items()}
    if converted and all(key.isdigit() or key.startswith("\x00") for key in converted):
        return [converted[key] for key in sorted(converted, key=_order)]
    return converted


def _order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def decode(text: str) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    appended = 0
    for key, value in parse_qsl(text, keep_blank_values=True):
        node = tree
        parts = _path(key)
        for position, part in enumerate(parts):
            if part == "":  # `a[]=x`: the next element of a list
                appended += 1
                part = f"\x00{appended:08d}"
            if position == len(parts) - 1:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise ValueError(f"{key!r} nests under a plain value")
                node = child
    result = _lists(tree)
    return result if isinstance(result, dict) else {}


def parameter_names(params: Any, prefix: str = "") -> list[str]:
    """Every parameter name in decoded params, nested ones as `a[b]`; list items as `a[]`."""
    names: list[str] = []
    if isinstance(params, dict):
        for key, value in params.items():
            name = f"{prefix}[{key}]" if prefix else key
            names.append(name)
            names += parameter_names(value, name)
    elif isinstance(params, list):
        for item in params:
            names += parameter_names(item, f"{prefix}[]")
    return names
