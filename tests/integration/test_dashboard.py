"""The team lead's dashboard (issue 19, item 3) with the real app and database: seeded
requests, audit entries and fraud-stop events show up in the right bars, with the numbers
asserted from the page's tables; each bar links to the filtered list behind it; a specialist
is refused with a sentence."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar

from admin.dashboard_queries import APPLIED, APPROVED, BLOCKED, EXPIRED, SENT_BACK, STOPPED
from gateway.core.db.connection import fetch
from gateway.staff.roles import Role
from tests.database import superuser
from tests.integration.staff import Staff, enrol


async def staff_id(username: str) -> int:
    [row] = await fetch("SELECT id FROM staff_users WHERE username = $1", username)
    return int(row["id"])


async def seed_request(
    ticket: str, status: str, *, assignee: str | None = None, age_hours: float = 1
) -> None:
    assignee_id = await staff_id(assignee) if assignee else None
    await fetch(
        "INSERT INTO change_requests (kind, status, ticket, client, assignee_id, created_at,"
        " progress_at) VALUES ('iban_change', $1, $2, 'test-tool', $3,"
        " now() - make_interval(secs => $4), now())",
        status,
        f"zendesk:{ticket}",
        assignee_id,
        age_hours * 3600,
    )


async def seed_audit(action: str, days_ago: int = 0, actor: str = "gateway", n: int = 1) -> None:
    """Entries as the services write them (metadata only: the dashboard reads no payload),
    backdated by the server's admin (the app may only append now)."""
    kind = "system" if actor == "gateway" else "staff"
    async with superuser() as connection:
        for _ in range(n):
            await connection.execute(
                "INSERT INTO audit_records (occurred_at, actor_type, actor_id, action,"
                " target_type, target_id, subject) VALUES ($1, $2, $3, $4, 'change_request',"
                " $5, 'system')",
                datetime.now(UTC) - timedelta(days=days_ago),
                kind,
                actor,
                action,
                str(uuid.uuid4()),
            )


async def seed_stopped(days_ago: int = 0) -> None:
    async with superuser() as connection:
        await connection.execute(
            "INSERT INTO notification_events (id, type, subject_type, subject_id, sequence,"
            " payload, occurred_at) VALUES ($1, $2, 'change_request', $3, 1, '{}', $4)",
            uuid.uuid4(),
            STOPPED,
            str(uuid.uuid4()),
            datetime.now(UTC) - timedelta(days=days_ago),
        )


async def seed_dashboard() -> None:
    """sam: 2 open requests (one filed 48 h ago), sasha: 1; one unassigned filed 30 h ago
    (Triage, past the 24 h limit); one apply failed. The last days: 2 expiries today and 1
    three days ago; sam applied 2 today, sasha 1 yesterday; 1 approval and 1 sent back today;
    1 block, 1 unblock and 1 change stopped by fraud-stop today."""
    await seed_request("1001", "in_progress", assignee="sam", age_hours=48)
    await seed_request("1002", "assigned", assignee="sam")
    await seed_request("1003", "in_progress", assignee="sasha")
    await seed_request("1004", "new", age_hours=29.9)
    await seed_request("1005", "apply_failed", assignee="sasha")
    await seed_audit(EXPIRED, n=2)
    await seed_audit(EXPIRED, days_ago=3)
    await seed_audit(APPLIED, actor="sam", n=2)
    await seed_audit(APPLIED, days_ago=1, actor="sasha")
    await seed_audit(APPROVED, actor="lee")
    await seed_audit(SENT_BACK, actor="lee")
    await seed_audit(BLOCKED, actor="lee")
    await seed_audit("blocklist.remove_entry.succeeded", actor="lee")
    await seed_stopped()


def numbers(page: str, chart: str) -> dict[str, list[int]]:
    """A chart's table: each row's name (a day as ISO date) -> its values."""
    table = re.search(rf'data-testid="numbers-{chart}">(.*?)</table>', page, re.S)
    assert table, chart
    rows = re.findall(r'data-testid="row" data-name="([^"]*)">(.*?)</tr>', table.group(1), re.S)
    return {
        name: [
            int(value.replace(",", ""))
            for value in re.findall(r'data-testid="value">(?:<a href="[^"]*">)?([\d,]+)', cells)
        ]
        for name, cells in rows
    }


@pytest.fixture
async def team(app: Litestar) -> dict[str, Staff]:
    return {
        "lee": await enrol(app, "lee", Role.TEAM_LEAD),
        "sam": await enrol(app, "sam", Role.SPECIALIST),
        "sasha": await enrol(app, "sasha", Role.SPECIALIST),
    }


async def test_the_lead_sees_each_seeded_item_in_its_bar(team: dict[str, Staff]) -> None:
    await seed_dashboard()
    answer = await team["lee"].get("/staff/dashboard")
    assert answer.status_code == 200, answer.text
    page = answer.text
    today = datetime.now(UTC).date()
    day = {n: (today - timedelta(days=n)).isoformat() for n in range(14)}

    queues = numbers(page, "queues")
    assert queues["Triage"] == [1]  # the unassigned one
    assert queues["Specialists&#39; open requests"] == [3]
    assert queues["Apply failed"] == [1]
    assert queues["Review"] == [0]
    assert numbers(page, "queue-age")["Triage"] == [30]  # hours, rounded up
    assert numbers(page, "specialists") == {"sam": [2], "sasha": [1]}

    breaches = numbers(page, "breaches")
    assert breaches["New"] == [1] and breaches["In progress"] == [1]
    assert breaches["Assigned"] == [0] and breaches["Apply failed"] == [0]
    assert "BG_TRIAGE_STALE_HOURS (24 hours)" in page
    assert ">Expired items per day</a></h2>" in page

    expired = numbers(page, "expired")
    assert len(expired) == 14
    assert expired[day[0]] == [2] and expired[day[3]] == [1] and expired[day[1]] == [0]

    applied = numbers(page, "applied")  # series: sam, sasha (alphabetical)
    assert applied[day[0]] == [2, 0] and applied[day[1]] == [0, 1]

    assert numbers(page, "reviews")[day[0]] == [1, 1]
    assert numbers(page, "fraud")[day[0]] == [1, 1, 1]
    assert numbers(page, "fraud")[day[2]] == [0, 0, 0]


async def test_each_bar_links_to_the_filtered_list_behind_it(team: dict[str, Staff]) -> None:
    await seed_dashboard()
    page = (await team["lee"].get("/staff/dashboard")).text
    sam, sasha = await staff_id("sam"), await staff_id("sasha")
    for link in (
        "/lead/#/triage",
        "/lead/#/triage?expired=true",
        "/lead/#/triage?stale=true",
        "/lead/#/review_queue",
        "/lead/#/all_requests?status=apply_failed",
        "/lead/#/all_requests?status=awaiting_approval",
        "/lead/#/all_requests?status=new",
        "/lead/#/all_requests?status=approved",
        "/lead/#/all_requests?status=rejected",
        f"/lead/#/all_requests?assignee={sam}",
        f"/lead/#/all_requests?processed_by={sam}",
        f"/lead/#/all_requests?processed_by={sasha}",
        "/lead/#/blocklist?active=true",
        "/lead/#/blocklist?active=false",
        "/staff/corrections",
    ):
        assert f'href="{link}"' in page, link
    # each filter is one the lead's screens declare (admin.mounts)
    for route in re.findall(r'href="/lead/#/([^"]+)"', page):
        screen, _, query = route.partition("?")
        assert screen in {"triage", "all_requests", "review_queue", "blocklist"}, route
        for name in re.findall(r"([a-z_]+)=", query):
            assert (
                name
                in {
                    "triage": {"expired", "stale"},
                    "all_requests": {"status", "assignee", "processed_by"},
                    "blocklist": {"active"},
                }[screen]
            ), route
    # a bar carries its link and says its number
    assert re.search(
        r'<a href="/lead/#/triage\?expired=true" data-testid="bar-link"><rect [^>]*'
        r'aria-label="[^"]*Expired: 2"',
        page,
    )


async def test_a_specialist_is_refused_with_a_sentence(team: dict[str, Staff]) -> None:
    answer = await team["sam"].get("/staff/dashboard")
    assert answer.status_code == 403
    assert "The dashboard is for team leads and admins." in answer.text


async def test_an_admin_reads_it_with_links_to_their_own_lists(app: Litestar) -> None:
    admin = await enrol(app, "ada", Role.ADMIN)
    await seed_stopped()
    page = (await admin.get("/staff/dashboard")).text
    assert "/lead/#/" not in page
    assert 'href="/admin/#/blocklist?active=true"' in page


async def test_the_page_speaks_french_and_arabic_right_to_left(team: dict[str, Staff]) -> None:
    await seed_dashboard()
    team["lee"].client.cookies.set("bg_lang", "fr")
    french = (await team["lee"].get("/staff/dashboard")).text
    assert "Tableau de bord" in french and "Profondeur des files" in french
    team["lee"].client.cookies.set("bg_lang", "ar")
    arabic = (await team["lee"].get("/staff/dashboard")).text
    assert 'dir="rtl"' in arabic
    # mirrored: the axis stands on the right
    assert '<line class="axis" x1="664" ' in arabic
