"""The sandbox demo: staff of every role (two team leads, so that a request one of them amended
can still be approved) and one request per flow of Apply, on the emulators' demo customers. The
browser tests apply them (tests/browser/test_work_page_in_a_browser.py)."""

from __future__ import annotations

from gateway.core.db.connection import fetch
from gateway.demo import seed_demo
from settings import get_settings


async def test_the_demo_has_two_team_leads_and_a_request_for_each_flow() -> None:
    await seed_demo(get_settings())
    await seed_demo(get_settings())  # a second start adds nothing

    leads = await fetch("SELECT username FROM staff_users WHERE role = 'team_lead' ORDER BY 1")
    assert [row["username"] for row in leads] == ["lee", "lou"]
    rows = await fetch(
        "SELECT split_part(ticket, ':', 1) || ' #' || split_part(ticket, ':', 2) AS ticket, kind,"
        " status,"
        " zuora_account_id, stripe_customer_id, details FROM change_requests ORDER BY 1"
    )
    requests = {row["ticket"]: row for row in rows}
    assert sorted(requests) == [
        "intercom #2002",
        "intercom #2003",
        "intercom #2004",
        "zendesk #1001",
        "zendesk #1002",
        "zendesk #1003",
    ]
    assert {row["status"] for row in rows} == {"new"}
    # the debit in flight is the emulators' A00000102; the upsells on both providers
    assert requests["zendesk #1002"]["zuora_account_id"] == "A00000102"
    assert requests["intercom #2003"]["zuora_account_id"] == "A00000103"
    assert requests["intercom #2004"]["zuora_account_id"] is None
    assert requests["intercom #2004"]["stripe_customer_id"] == "cus_DemoAtelier01"
    assert '"stripe_connect_payout"' in requests["zendesk #1003"]["details"]
