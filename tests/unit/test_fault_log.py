"""Our own bug still logs a traceback, but a bounded one: a RecursionError has a thousand frames."""

import pytest

from gateway.edge.fault_log import MAX_CHARS, short_traceback, where_raised


def recurse(levels: int) -> int:
    return recurse(levels + 1) + 1


def test_a_recursion_error_logs_its_last_frames_only() -> None:
    with pytest.raises(RecursionError) as raised:
        recurse(0)
    text = short_traceback(raised.value)
    assert len(text) <= MAX_CHARS + 10
    assert text.rstrip().endswith("maximum recursion depth exceeded")
    assert where_raised(raised.value).startswith("tests/unit/test_fault_log.py:")
