"""The team lead's dashboard (`/staff/dashboard`): the queues now, the requests past the limit,
and the last 14 days (expiries, applies per specialist, review outcomes, fraud-stop), each as a
chart drawn by the server with its numbers in a table, and each linked to the list behind it in
the reader's piccolo-admin (filters in the hash route's query: `/lead/#/triage?expired=true`).

Team leads read it; admins too, with links only to the lists their back office has (the
blocklist). Specialists and operations get a sentence.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from admin.dashboard_charts import Chart, ColumnData, Series, bar_chart
from admin.dashboard_queries import (
    APPLIED,
    APPROVED,
    BLOCKED,
    EXPIRED,
    SENT_BACK,
    STOPPED,
    UNBLOCKED,
    DashboardData,
    read_dashboard,
)
from admin.page_kit import NO_STORE, back_office, error_page, message, staff_page
from gateway.change_requests.states import OPEN_STATUSES, Status
from gateway.i18n import N_, current_time_zone, direction, gettext
from gateway.i18n.labels import label
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import MOUNT_OF_ROLE, Role
from settings import Settings

PATH = "/staff/dashboard"
TITLE = N_("Dashboard")
READERS = frozenset({Role.TEAM_LEAD, Role.ADMIN})
WRONG_ROLE = N_("The dashboard is for team leads and admins.")
QUEUE_NAMES = {
    "triage": N_("Triage"),
    "specialists": N_("Specialists' open requests"),
    "review": N_("Review"),
    "plan_approval": N_("Plan approval"),
    "apply_failed": N_("Apply failed"),
    "corrections_approval": N_("Corrections approval"),
}
# The lead's lists behind each queue (admin.mounts: the screens and their filters).
QUEUE_LISTS = {
    "triage": "triage",
    "specialists": "all_requests?status=in_progress",
    "review": "review_queue",
    "plan_approval": "all_requests?status=awaiting_approval",
    "apply_failed": "all_requests?status=apply_failed",
}
PEOPLE = 8  # colours of the specialists' segments, used in turn


class Links:
    """The reader's lists: a team lead's screens under /lead, the blocklist for an admin too;
    None where the reader's back office has no such list."""

    LEAD_ONLY = ("triage", "all_requests", "review_queue")

    def __init__(self, staff: StaffMember) -> None:
        self.mount = MOUNT_OF_ROLE[staff.role]
        self.lead = staff.role is Role.TEAM_LEAD

    def __call__(self, route: str) -> str | None:
        if route.startswith(self.LEAD_ONLY) and not self.lead:
            return None
        return f"{self.mount}/#/{route}"


def _hours(seconds: float) -> int:
    return math.ceil(seconds / 3600)


def _queue_charts(data: DashboardData, link: Links, rtl: bool) -> list[Chart]:
    names = [gettext(QUEUE_NAMES[queue.name]) for queue in data.queues]
    links = [
        "/staff/corrections"
        if queue.name == "corrections_approval"
        else link(QUEUE_LISTS[queue.name])
        for queue in data.queues
    ]
    depth = Series(gettext("Items waiting"), "s-depth")
    age = Series(gettext("Age of the oldest item, in hours"), "s-age")
    people = [
        ColumnData(
            [row.depth], name=row.username, link=link(f"all_requests?assignee={row.staff_id}")
        )
        for row in data.specialists
    ]
    return [
        bar_chart(
            "queues",
            gettext("Queue depth"),
            gettext("Items waiting in each queue now."),
            [depth],
            [
                ColumnData([queue.depth], name=name, links=[href], link=href)
                for queue, name, href in zip(data.queues, names, links, strict=True)
            ],
            rtl=rtl,
        ),
        bar_chart(
            "queue-age",
            gettext("Age of the oldest item per queue"),
            gettext("Hours since the oldest item of each queue came in; 0 when it is empty."),
            [age],
            [
                ColumnData([_hours(queue.oldest_seconds)], name=name, links=[href], link=href)
                for queue, name, href in zip(data.queues, names, links, strict=True)
            ],
            rtl=rtl,
        ),
        bar_chart(
            "specialists",
            gettext("Open requests per specialist"),
            gettext("Requests assigned, in progress or waiting on the customer, per specialist."),
            [depth],
            [
                ColumnData(column.values, name=column.name, links=[column.link], link=column.link)
                for column in people
            ],
            rtl=rtl,
            note="" if people else gettext("No specialist has an open request."),
        ),
    ]


def _breaches(data: DashboardData, link: Links, rtl: bool, hours: int) -> Chart:
    statuses = [status for status in Status if status in OPEN_STATUSES]
    return bar_chart(
        "breaches",
        gettext("Open requests past the limit"),
        gettext("Open requests filed more than %(hours)s hours ago, by status.") % {"hours": hours},
        [Series(gettext("Past the limit"), "s-breach")],
        [
            ColumnData(
                [data.breaches.get(status.value, 0)],
                name=label(status),
                links=[link(f"all_requests?status={status.value}")],
                link=link(f"all_requests?status={status.value}"),
            )
            for status in statuses
        ],
        rtl=rtl,
        href=link("triage?stale=true"),
        link_text=gettext("Stale requests in Triage"),
        note=gettext(
            "There is no SLA setting: the limit used is the stale limit of Triage, "
            "BG_TRIAGE_STALE_HOURS (%(hours)s hours)."
        )
        % {"hours": hours},
    )


def _per_day(
    data: DashboardData, actions: list[str], where: Callable[[str], str | None]
) -> list[ColumnData]:
    counts = {(row.action, row.day): row.count for row in data.daily}
    return [
        ColumnData(
            [counts.get((action, day), 0) for action in actions],
            day=day,
            links=[where(action) for action in actions],
        )
        for day in data.days
    ]


def _applied(data: DashboardData, link: Links, rtl: bool) -> Chart:
    people = sorted(
        {
            (row.username or "", row.staff_id)
            for row in data.daily
            if row.action == APPLIED and row.staff_id
        }
    )
    counts = {(row.staff_id, row.day): row.count for row in data.daily if row.action == APPLIED}
    return bar_chart(
        "applied",
        gettext("Items applied per specialist per day"),
        gettext("Requests each specialist applied at the providers, per day, last 14 days."),
        [
            Series(username, f"s-person{number % PEOPLE}")
            for number, (username, _) in enumerate(people)
        ],
        [
            ColumnData(
                [counts.get((staff_id, day), 0) for _, staff_id in people],
                day=day,
                links=[link(f"all_requests?processed_by={staff_id}") for _, staff_id in people],
            )
            for day in data.days
        ],
        rtl=rtl,
        note="" if people else gettext("Nobody applied a request in these 14 days."),
    )


def _history_charts(data: DashboardData, link: Links, rtl: bool) -> list[Chart]:
    expired_list = link("triage?expired=true")
    outcomes = {
        APPROVED: link("all_requests?status=approved"),
        SENT_BACK: link("all_requests?status=rejected"),
    }
    fraud = {
        BLOCKED: link("blocklist?active=true"),
        UNBLOCKED: link("blocklist?active=false"),
        STOPPED: link("blocklist?active=true"),
    }
    return [
        bar_chart(
            "expired",
            gettext("Expired items per day"),
            gettext(
                "Requests the lifecycle returned to Triage (no action for the expiry limit), "
                "per day."
            ),
            [Series(gettext("Expired"), "s-expired")],
            _per_day(data, [EXPIRED], lambda _: expired_list),
            rtl=rtl,
            href=expired_list,
            link_text=gettext("Expired requests still in Triage"),
        ),
        _applied(data, link, rtl),
        bar_chart(
            "reviews",
            gettext("Review outcomes per day"),
            gettext("Applied work a team lead approved or sent back, per day."),
            [Series(gettext("Approved"), "s-approved"), Series(gettext("Sent back"), "s-rejected")],
            _per_day(data, [APPROVED, SENT_BACK], outcomes.get),
            rtl=rtl,
            href=link("review_queue"),
            link_text=gettext("Review queue"),
        ),
        bar_chart(
            "fraud",
            gettext("Fraud-stop activity per day"),
            gettext(
                "Entries blocked and unblocked, and changes stopped at Apply by a blocked value, "
                "per day."
            ),
            [
                Series(gettext("Blocks"), "s-blocked"),
                Series(gettext("Unblocks"), "s-unblocked"),
                Series(gettext("Screening hits"), "s-hits"),
            ],
            _per_day(data, [BLOCKED, UNBLOCKED, STOPPED], fraud.get),
            rtl=rtl,
            href=link("blocklist"),
            link_text=gettext("Blocklist"),
            note=gettext(
                "Screening hits are the changes that fraud-stop stopped at Apply; screenings "
                "through the API are not recorded."
            ),
        ),
    ]


async def dashboard_charts(staff: StaffMember, settings: Settings) -> list[Chart]:
    hours = settings.triage_stale_hours
    data = await read_dashboard(current_time_zone.get(), hours)
    link, rtl = Links(staff), direction() == "rtl"
    return [
        *_queue_charts(data, link, rtl),
        _breaches(data, link, rtl, hours),
        *_history_charts(data, link, rtl),
    ]


class DashboardPageController(Controller):
    path = PATH
    include_in_schema = False
    exception_handlers = {Exception: error_page}

    @get("/")
    async def dashboard(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        staff = await staff_page(
            request, login, READERS, lambda: message(gettext(TITLE), gettext(WRONG_ROLE), 403)
        )
        return Template(
            template_name="dashboard.html",
            context={
                "sandbox": settings.sandbox,
                "staff": staff,
                "back": back_office(staff),
                "charts": await dashboard_charts(staff, settings),
            },
            headers=NO_STORE,
        )
