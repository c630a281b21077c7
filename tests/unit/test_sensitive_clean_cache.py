# ruff: noqa: RUF001  (look-alike characters and other scripts are the point)
"""The memo of texts found clean (gateway/core/sensitive.py, `_CLEAN_TEXTS`): a text seen
again gets the answer a first scan gives, the memo never holds a card number or an IBAN, and
it stays within its bounds."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import sensitive
from gateway.core.errors import BillingError
from tests.spellings import CARD, CARD_SPELLINGS, IBAN, IBAN_SPELLINGS, spelled

_GROUPED_CARD = "4539 5787 6362 1486"
_GROUPED_IBAN = "FR76 3000 6000 0112 3456 7890 189"

# Each clean text is followed by a longer one holding it and a card number or an IBAN.
HOSTILE_TEXTS = [
    "ref 4539 5787 for the invoice",
    f"ref {_GROUPED_CARD} for the invoice",
    "card ４５３９ ５７８７",
    "card ４５３９ ５７８７ ６３６２ １４８６",
    "digits ٤٥٣٩٥٧٨٧",
    "digits ٤٥٣٩٥٧٨٧٦٣٦٢١٤٨٦",
    "zero\u200bwidth 4\u200b5\u200b3\u200b9",
    "zero\u200bwidth " + "\u200b".join(CARD),
    "as a repr '\\u0034\\u0035\\u0033\\u0039'",
    "as a repr '\\u0034\\u0035\\u0033\\u0039" + CARD[4:] + "'",
    "escaped 4\\xad5\\xad3\\xad9",
    "escaped " + "\\xad".join(CARD),
    "IBAN FR76 3000 6000",
    f"IBAN {_GROUPED_IBAN}",
    "glued IBANFR76",
    f"glued IBAN{IBAN}",
    "id 123e4567-e89b-12d3-a456-426614174000",
    f"id 123e4567-e89b-12d3-a456-426614174000 and {_GROUPED_CARD}",
    "at 2026-12-04 19:07:15.123456+00:00",
    f"at 2026-12-04 19:07:15.123456+00:00 paid with {_GROUPED_CARD}",
    "The bank details change for account A00000101 (IBAN DE****3686) was filed.",
    f"The bank details change for account A00000101 (IBAN {IBAN}) was filed.",
    "قُدّم طلب تغيير البيانات البنكية بخصوص الحساب A00000101 (آيبان DE****3686)",
    f"قُدّم طلب تغيير البيانات البنكية بخصوص الحساب A00000101 (آيبان {IBAN})",
    *CARD_SPELLINGS.values(),
    *IBAN_SPELLINGS.values(),
    CARD,
    IBAN,
    f"both {_GROUPED_CARD} and {_GROUPED_IBAN}",
    "4539:5787:6362:1486",
    "x" * 300 + " 4539 5787",
    "x" * 300 + f" {_GROUPED_CARD}",
]

# The cards=False questions come first: a miss of theirs recorded would hide a card after.
_QUESTIONS: list[tuple[str, Callable[[str], Any]]] = [
    ("contains_iban", sensitive.contains_iban),
    ("iban_refusal", lambda text: sensitive.refuse_card_or_iban(text, iban="no IBAN here")),
    ("card_refusal", lambda text: sensitive.refuse_card_or_iban(text, card="no card here")),
    (
        "both_refusal",
        lambda text: sensitive.refuse_card_or_iban(text, card="no card", iban="no IBAN"),
    ),
    ("contains_card_number", sensitive.contains_card_number),
    ("sensitive_kind", sensitive.sensitive_kind),
    ("sensitive_kind_of_token", sensitive.sensitive_kind_of_token),
    ("redact_text", sensitive.redact_text),
    ("redact_value", lambda text: sensitive.redact_value({text: [text, (text,)]})),
    ("may_hold_card_or_iban", sensitive.may_hold_card_or_iban),
]


def _answer(question: Callable[[str], Any], text: str) -> Any:
    """What `question` answers, or the refusal it raises (its code and sentence)."""
    try:
        return ("answer", question(text))
    except BillingError as error:
        return ("refused", error.code, str(error))


def _cold_answer(question: Callable[[str], Any], text: str) -> Any:
    sensitive._CLEAN_TEXTS.clear()
    return _answer(question, text)


def _warm_answers(texts: list[str]) -> Iterator[tuple[str, str, Any]]:
    """Each question on each text in turn, without emptying the memo: every answer but the
    very first may come from it."""
    sensitive._CLEAN_TEXTS.clear()
    for text in texts:
        for name, question in _QUESTIONS:
            yield text, name, _answer(question, text)


def _assert_warm_answers_are_cold_answers(texts: list[str]) -> None:
    warm = list(_warm_answers(texts))
    memo = set(sensitive._CLEAN_TEXTS)
    questions = dict(_QUESTIONS)
    for text, name, answer in warm:
        assert answer == _cold_answer(questions[name], text), (name, text)
    _assert_only_clean_texts(memo)


def _assert_only_clean_texts(memo: set[str]) -> None:
    for text in memo:
        assert sensitive.redact_text(text) == text
        sensitive._CLEAN_TEXTS.clear()
        assert sensitive._find(text) is None, text


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    sensitive._CLEAN_TEXTS.clear()
    yield
    sensitive._CLEAN_TEXTS.clear()


def test_every_answer_on_a_repeated_text_is_the_first_scans_answer() -> None:
    _assert_warm_answers_are_cold_answers(HOSTILE_TEXTS + HOSTILE_TEXTS)


def test_a_text_seen_clean_does_not_hide_a_longer_text_holding_it() -> None:
    sensitive.redact_text("ref 4539 5787 6362")
    assert "ref 4539 5787 6362" in sensitive._CLEAN_TEXTS
    assert sensitive.redact_text(f"ref {_GROUPED_CARD}") == "ref [card ****1486]"
    assert sensitive.contains_card_number(f"ref {_GROUPED_CARD}")


def test_hostile_texts_with_a_card_or_an_iban_never_enter_the_memo() -> None:
    list(_warm_answers(HOSTILE_TEXTS))
    assert sensitive._CLEAN_TEXTS  # the clean ones went in
    for text in HOSTILE_TEXTS:
        if sensitive.sensitive_kind(text) is not None or sensitive.contains_iban(text):
            assert text not in sensitive._CLEAN_TEXTS, text


def test_a_miss_of_a_search_for_ibans_alone_is_not_recorded() -> None:
    for text in (_GROUPED_CARD, "note 4539 5787 6362 1486", "ref 12345678901234"):
        assert not sensitive.contains_iban(text)
        sensitive.refuse_card_or_iban(text, iban="no IBAN here")
        assert text not in sensitive._CLEAN_TEXTS
    assert sensitive.contains_card_number(_GROUPED_CARD)
    assert sensitive.redact_text("note 4539 5787 6362 1486") == "note [card ****1486]"


def test_a_clean_verdict_of_a_full_search_answers_a_search_for_ibans() -> None:
    text = "ticket 12345 for A00000101"
    assert sensitive.redact_text(text) == text
    assert text in sensitive._CLEAN_TEXTS
    assert not sensitive.contains_iban(text)
    sensitive.refuse_card_or_iban(text, iban="no IBAN here")


def test_the_memo_never_passes_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sensitive, "_CLEAN_TEXTS_LIMIT", 8)
    for n in range(100):
        sensitive.redact_text(f"order 12 of batch {n}")
        assert 0 < len(sensitive._CLEAN_TEXTS) <= 8
    assert "order 12 of batch 99" in sensitive._CLEAN_TEXTS


def test_the_memo_never_passes_its_real_bound() -> None:
    for n in range(sensitive._CLEAN_TEXTS_LIMIT + 50):
        sensitive.redact_text(f"order 12 of batch {n}")
    assert len(sensitive._CLEAN_TEXTS) <= sensitive._CLEAN_TEXTS_LIMIT == 4096


def test_long_texts_are_not_memoised() -> None:
    limit = sensitive._CLEAN_TEXT_MAX_LENGTH
    at_limit, over = "order 12 " + "x" * (limit - 9), "order 12 " + "x" * (limit - 8)
    sensitive.redact_text(at_limit)
    sensitive.redact_text(over)
    assert at_limit in sensitive._CLEAN_TEXTS
    assert over not in sensitive._CLEAN_TEXTS


_FRAGMENTS = [
    "4539",
    "5787",
    "6362",
    "1486",
    "FR76",
    "3000",
    "DE89",
    "IBAN",
    " ",
    "-",
    " - ",
    "\u200b",
    "\u00ad",
    "\\u0034",
    "\\xad",
    "٤٥",
    "４５",
    "a716-446655440000",
    "2026-12-04T19:07:15Z",
    "ref",
    "Zoë",
    "\u060c",
    ", ",
    ";",
    "0",
    "7",
]
_HOSTILE = st.one_of(
    st.lists(st.sampled_from(_FRAGMENTS), max_size=14).map("".join),
    spelled(CARD),
    spelled(IBAN),
    st.text(alphabet=st.sampled_from("0123456789 -\u200b٤４IBANFR\\ux"), max_size=40),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_HOSTILE, min_size=1, max_size=6))
def test_repeated_hostile_texts_get_the_first_scans_answers(texts: list[str]) -> None:
    # each text then each longer one holding it, then all again: the memo is warm by then
    grown = [texts[0], *(a + b for a, b in itertools.pairwise(texts))]
    _assert_warm_answers_are_cold_answers(grown + texts + grown)


_OLD_LONG_CHAIN = re.compile(
    rf"(?<![0-9])[0-9](?:{sensitive._SEP}{{0,{sensitive._RUN}}}+[0-9]){{12,}}+"
)


@settings(max_examples=300, deadline=None)
@given(_HOSTILE.map(sensitive.normalised))
def test_the_digit_chain_pattern_matches_as_it_was_written_before(text: str) -> None:
    new = [match.span() for match in sensitive._LONG_CHAIN.finditer(text)]
    assert new == [match.span() for match in _OLD_LONG_CHAIN.finditer(text)]


@pytest.mark.parametrize(
    "text",
    [
        *HOSTILE_TEXTS,
        "4539" + " " * 8 + "578763621486",
        "4539" + " " * 9 + "578763621486",
        "1" + "-" * 8 + "234567890123",
        "123456789012",
        "x1234567890123y",
        "45395787636214861225 and 1 2 3 4 5 6 7 8 9 0 1 2 3",
    ],
)
def test_the_digit_chain_pattern_matches_as_before_on_edge_cases(text: str) -> None:
    folded = sensitive.normalised(text)
    new = [match.span() for match in sensitive._LONG_CHAIN.finditer(folded)]
    assert new == [match.span() for match in _OLD_LONG_CHAIN.finditer(folded)]


@pytest.mark.parametrize(
    "text", [*HOSTILE_TEXTS, "4222222222222", "ref 4222222222222", "ref 422222222222", "1" * 13]
)
def test_the_card_questions_quick_no_never_contradicts_a_full_scan(text: str) -> None:
    # contains_card_number answers some ASCII texts from their digit count alone
    assert sensitive.contains_card_number(text) == (sensitive.sensitive_kind(text) == "card_number")


def _redacted_recursively(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _redacted_recursively(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redacted_recursively(item) for item in value)
    return sensitive.redact_text(value) if isinstance(value, str) else value


def _strings_recursively(value: Any, numbers: bool) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif numbers and isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, dict):
        for pair in value.items():
            yield from _strings_recursively(list(pair), numbers)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings_recursively(item, numbers)


_LEAVES = st.one_of(_HOSTILE, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none())
_NESTED = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.one_of(_HOSTILE, st.integers()), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(_NESTED)
def test_nested_values_are_walked_as_a_recursive_walk_would(value: Any) -> None:
    # repr tells lists from tuples and keeps the order of keys
    assert repr(sensitive.redact_value(value)) == repr(_redacted_recursively(value))
    for numbers in (False, True):
        walked = list(_strings_recursively(value, numbers))
        assert sensitive.strings_in(value, numbers=numbers) == walked


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("card 4539\x005787\x016362\x1f1486.", "card [card ****1486]."),
        ("card 4539\x7f5787\x086362\x0e1486 Zoë", "card [card ****1486] Zoë"),
        ("card 4539\t5787\t6362\t1486", "card [card ****1486]"),
        ("card 4539\n5787\n6362\n1486\n", "card [card ****1486]\n"),
    ],
)
def test_ascii_controls_inside_a_card_number_do_not_hide_it(text: str, redacted: str) -> None:
    assert sensitive.redact_text(text) == redacted
    assert sensitive.redact_text(text) == redacted  # and once more, past the memo


def test_the_shortest_card_number_is_masked_on_every_path() -> None:
    # 13 ASCII characters: just long enough for redact_text's quick no to let it through
    assert sensitive.redact_text("4222222222222") == "[card ****2222]"
    assert sensitive.redact_value(["4222222222222"]) == ["[card ****2222]"]
    assert sensitive.redact_text("422222222222") == "422222222222"


def test_only_exact_strings_are_remembered_clean() -> None:
    """A str subclass may compare and hash as it likes: one that ignores an "x" must not make
    the card number it hides look clean once remembered."""

    class Lax(str):
        __slots__ = ()

        def __eq__(self, other: object) -> bool:
            return str.replace(self, "x", "") == str(other).replace("x", "")

        def __hash__(self) -> int:
            return hash(str.replace(self, "x", ""))

    sensitive.redact_text(Lax("4539x578763621486"))
    assert sensitive.redact_text("4539578763621486") != "4539578763621486"
    assert not any(type(text) is not str for text in sensitive._CLEAN_TEXTS)
