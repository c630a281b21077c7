"""The filing statement is assembled from fragments of three query modules: whatever parts it
has, its placeholders run $1..$N with no gap, N the number of values `queries.file` sends."""

from __future__ import annotations

import re

import pytest

from gateway.change_requests import queries
from gateway.change_requests.tables import ChangeRequest

EVENT_VALUES = 9  # notifications.outbox.event_values


@pytest.mark.parametrize("audit", [None, "live", "erased"])
@pytest.mark.parametrize("told", [False, True])
@pytest.mark.parametrize("fresh", [False, True])
@pytest.mark.parametrize("unseen_iban", [False, True])
def test_the_filing_statement_numbers_its_parameters_one_to_n(
    audit: str | None, told: bool, fresh: bool, unseen_iban: bool
) -> None:
    sent = len(ChangeRequest._meta.columns) + 5  # the row, then the answer
    sent += 3 if fresh else 0  # an unclaimed key's request: fingerprint, method, path
    sent += 1 if unseen_iban else 0  # the hash of an IBAN the row says nobody filed
    sent += {None: 0, "live": queries.AUDIT_VALUES, "erased": queries.AUDIT_VALUES - 1}[audit]
    sent += EVENT_VALUES if told else 0

    sql = queries._file_sql(audit, told, fresh, unseen_iban)
    numbers = {int(n) for n in re.findall(r"\$(\d+)", sql)}

    assert numbers == set(range(1, sent + 1))
