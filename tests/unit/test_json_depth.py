"""The nesting cap counts brackets as a parser would, skipping strings, before any parser runs."""

import json
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.core.errors import BillingError, ErrorCode
from gateway.edge.json_depth import loads_within_depth, nesting_depth, refuse_deep_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=20,
)


def python_depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(python_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(python_depth, value.values()), default=0)
    return 0


@given(json_values)
def test_the_scan_agrees_with_the_parsed_value(value: object) -> None:
    assert nesting_depth(json.dumps(value).encode()) == python_depth(value)


@pytest.mark.parametrize(
    ("body", "depth"),
    [
        (b"", 0),
        (b"42", 0),
        (b'"[[[{{{"', 0),
        (b'["\\"[[", "\\\\", [{}]]', 3),  # an escaped quote does not end the string
        (b'{"a": "]]]]", "b": [[1]]}', 3),
    ],
)
def test_brackets_in_strings_do_not_count(body: bytes, depth: int) -> None:
    assert nesting_depth(body) == depth


def test_the_limit_is_inclusive_and_named() -> None:
    refuse_deep_json(b"[" * 32 + b"]" * 32, 32)
    with pytest.raises(BillingError) as refused:
        refuse_deep_json(b"[" * 33 + b"]" * 33, 32)
    assert refused.value.code is ErrorCode.BODY_TOO_DEEP
    assert "32 levels" in refused.value.detail


def test_a_body_far_past_the_recursion_limit_is_refused_not_a_recursion_error() -> None:
    levels = sys.getrecursionlimit() * 100
    with pytest.raises(BillingError):
        loads_within_depth(b'{"a":' * levels + b"1" + b"}" * levels)
