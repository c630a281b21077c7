"""Counts for the screens over millions of rows: exact when that is cheap, else an estimate.

piccolo-admin asks `/api/tables/<table>/count/` for every list and filter, and an exact
`count(*)` grows with the table (234 ms at 10,000,000 change requests). A count here counts at
most `EXACT_UP_TO + 1` matching rows: up to `EXACT_UP_TO` the answer is exact (a queue a lead
works through, a selective filter); past it, the answer is the planner's estimate of the
matching rows (EXPLAIN, from the table's statistics: a millisecond), marked as one, and the
screen says "about N (estimate)". Counting first, rather than trusting the planner, keeps a
small queue behind a view the planner cannot see into (my_queue, triage) exact.
"""

from __future__ import annotations

import contextvars
import json
from typing import Any

from piccolo.query.methods.count import Count
from piccolo.querystring import QueryString

# Counting 20,000 rows costs about 15 ms on a busy 2-core machine when no index holds the
# filter (100,000: 72 ms); a queue a lead works through stays exact.
EXACT_UP_TO = 20_000

# The request's note of whether its count was estimated (a list the guard sets per count
# request: piccolo-admin may run the query in a copied context, so the holder is mutable).
estimated: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar(
    "estimated", default=None
)


def rounded(rows: float) -> int:
    """An estimate to two significant figures: 9,734,112 -> 9,700,000."""
    whole = max(int(rows), 0)
    if whole < 100:
        return whole
    unit = int(10 ** (len(str(whole)) - 2))
    return (whole + unit // 2) // unit * unit


def _planned_rows(plan: Any) -> float:
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


class EstimatingCount(Count):
    """piccolo's count: exact up to `EXACT_UP_TO` rows, the planner's estimate past it."""

    async def run(self, node: str | None = None, in_pool: bool = True) -> Any:
        if self.column is not None or self._distinct:
            return await super().run(node=node, in_pool=in_pool)
        table = self.table
        matching = table.select(table._meta.primary_key)
        matching.where_delegate._where = self.where_delegate._where
        [select] = matching.querystrings
        engine = table._meta.db
        [row] = await engine.run_querystring(
            QueryString(
                "SELECT count(*) AS count FROM ({} LIMIT {}) AS capped", select, EXACT_UP_TO + 1
            ),
            in_pool=in_pool,
        )
        if row["count"] <= EXACT_UP_TO:
            return row["count"]
        [explained] = await engine.run_querystring(
            QueryString("EXPLAIN (FORMAT JSON) {}", select), in_pool=in_pool
        )
        if (note := estimated.get()) is not None:
            note.append(True)
        return rounded(max(_planned_rows(next(iter(explained.values()))), row["count"]))


class EstimatedCounts:
    """Mixed into a screen's table (before `Table`): its counts go through `EstimatingCount`."""

    @classmethod
    def count(cls, column: Any = None, distinct: Any = None) -> Count:
        return EstimatingCount(table=cls, column=column, distinct=distinct)  # type: ignore[arg-type]
