"""A count too large to make exactly in time is answered as an estimate and says so; a small
one (a selective filter, a short queue) stays exact."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from admin import estimated_counts
from gateway.core.db.connection import fetch
from gateway.staff.roles import Role
from tests.integration.staff import enrol
from tests.integration.test_back_office import file
from tests.payloads import iban_change


async def test_a_large_count_is_an_estimate_and_says_so(
    app: Litestar,
    http: httpx.AsyncClient,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lead = await enrol(app, "lee", Role.TEAM_LEAD)
    for ticket in ("3001", "3002", "3003", "3004"):
        await file(http, api_key, iban_change(ticket=ticket))
    await fetch("ANALYZE change_requests")
    # Four requests stand in for millions: past the limit, the planner's figure is answered.
    monkeypatch.setattr(estimated_counts, "EXACT_UP_TO", 2)

    everything = (await lead.get("/lead/api/tables/all_requests/count/")).json()
    assert everything["estimate"] is True
    assert everything["count"] >= 3

    one = (await lead.get("/lead/api/tables/all_requests/count/", ticket_id="3002")).json()
    assert one == {"count": 1, "page_size": 15, "estimate": False}


def test_an_estimate_is_rounded_to_two_figures() -> None:
    assert estimated_counts.rounded(9_734_112.0) == 9_700_000
    assert estimated_counts.rounded(20_001.0) == 20_000
    assert estimated_counts.rounded(57.0) == 57


def test_the_screen_says_about_n_estimate() -> None:
    from admin.piccolo_chrome import index_head, patched_bundle

    bundle = patched_bundle().decode()
    assert "window.bgEstimate=!!r.estimate" in bundle
    assert "bgCount(e.rowCount)" in bundle
    assert "if(H.data.rows.length<R.__page_size)break" in bundle  # exports never trust it
    assert "about {count} (estimate)" in index_head("en", "UTC")
    assert "environ {count} (estimation)" in index_head("fr", "UTC")
