"""Every error code is explained once, in words a support agent can act on."""

from __future__ import annotations

from collections import Counter

from gateway.core.errors import HTTP_STATUS, ErrorCode
from gateway.problem_types import PROBLEM_TYPES, problem_type_of


def test_every_error_code_has_an_explanation_and_a_status() -> None:
    missing = [code.value for code in ErrorCode if code not in PROBLEM_TYPES]
    assert not missing, f"add them to gateway/problem_types.py: {missing}"
    assert not [code.value for code in ErrorCode if code not in HTTP_STATUS]


def test_explanations_are_sentences_and_titles_tell_codes_apart() -> None:
    for code, explained in PROBLEM_TYPES.items():
        assert explained.title and not explained.title.endswith("."), code
        for sentence in (explained.meaning, explained.action):
            assert sentence[0].isupper() and sentence.endswith("."), (code, sentence)
    titles = Counter(explained.title for explained in PROBLEM_TYPES.values())
    assert [title for title, count in titles.items() if count > 1] == []


def test_a_code_without_an_entry_still_gets_a_page() -> None:
    explained = problem_type_of(ErrorCode.VALIDATION_FAILED)
    assert explained.title == "The request is not valid"
