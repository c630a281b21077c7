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


def test_a_card_number_an_error_echoed_is_masked_before_the_cut() -> None:
    # the cut would fall inside the number: the digits kept would be too few to be recognised
    card = "4539578763621486"
    padding = "x" * (MAX_CHARS - 10)
    try:
        raise ValueError(f"bad value {card} {padding}")
    except ValueError as error:
        text = short_traceback(error)
    assert "578763621486" not in text and "63621" not in text
