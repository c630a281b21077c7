"""One piccolo-admin per role, each behind its RoleGuard, mounted at sibling prefixes.

Every mount is read-only at the table level: changes go through the forms, which call the
gateway's services (checked and audited), never through piccolo-admin's generic row editing.
Auth settings are the same on every mount, since one session cookie spans them all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from litestar import asgi
from litestar.handlers.asgi_handlers import ASGIRouteHandler
from piccolo_admin.endpoints import FormConfig, TableConfig, create_admin
from piccolo_api.crud.endpoints import OrderBy

from admin import screens
from admin.forms import admin_forms, audit_reading_form, lead_forms, specialist_forms
from admin.fraud_forms import fraud_forms
from admin.guard import ASGIApp, RoleGuard
from admin.outage import OutagePage
from admin.piccolo_chrome import piccolo_translations
from gateway.change_requests.workflow import WorkflowService
from gateway.i18n import N_
from gateway.staff.login import StaffLogin
from gateway.staff.roles import MOUNT_OF_ROLE, Role
from gateway.staff.tables import StaffSession, StaffUser
from settings import Settings

_NEWEST_FIRST = [OrderBy(column=screens.AllRequests.created_at, ascending=False)]


def _tables(role: Role) -> list[TableConfig]:
    if role is Role.SPECIALIST:
        queue = screens.MyQueue
        return [
            TableConfig(
                queue,
                visible_columns=[
                    queue.ticket,
                    queue.kind,
                    queue.status,
                    queue.company_name,
                    queue.iban,
                    queue.target_tier,
                    queue.review_comment,
                    queue.assigned_at,
                    queue.created_at,
                ],
                visible_filters=[queue.ticket_id, queue.kind, queue.status],
                link_column=queue.ticket,
                order_by=[OrderBy(column=queue.created_at, ascending=True)],
            )
        ]
    if role is Role.TEAM_LEAD:
        requests, triage, review = screens.AllRequests, screens.Triage, screens.ReviewQueue
        names = screens.StaffNames
        return [
            TableConfig(
                triage,
                visible_columns=[
                    triage.ticket,
                    triage.why,
                    triage.kind,
                    triage.status,
                    triage.assignee,
                    triage.created_at,
                ],
                visible_filters=[
                    triage.ticket_id,
                    triage.kind,
                    triage.status,
                    triage.assignee,
                    triage.unassigned,
                    triage.stale,
                    triage.expired,
                    triage.customer_silent,
                    triage.returned,
                    triage.reasons_mismatch,
                ],
                link_column=triage.ticket,
                order_by=[OrderBy(column=triage.created_at, ascending=True)],
            ),
            TableConfig(
                review,
                visible_columns=[
                    review.ticket,
                    review.kind,
                    review.processed_by,
                    review.processed_at,
                    review.resolution_note,
                    review.company_name,
                ],
                visible_filters=[review.ticket_id, review.kind, review.processed_by],
                link_column=review.ticket,
                order_by=[OrderBy(column=review.processed_at, ascending=True)],
            ),
            TableConfig(
                requests,
                visible_columns=[
                    requests.ticket,
                    requests.kind,
                    requests.status,
                    requests.assignee,
                    requests.company_name,
                    requests.processed_by,
                    requests.reviewed_by,
                    requests.created_at,
                ],
                visible_filters=[
                    requests.ticket_id,
                    requests.kind,
                    requests.status,
                    requests.assignee,
                    requests.processed_by,
                    requests.reviewed_by,
                ],
                link_column=requests.ticket,
                order_by=_NEWEST_FIRST,
            ),
            # The staff a lead assigns to and sees as makers and checkers: names and roles only.
            TableConfig(names, link_column=names.username, exclude_visible_columns=[names.id]),
            *_fraud_screens(),
            _audit_screen(),
        ]
    if role is Role.OPERATIONS:
        return _cheque_screens()
    if role is Role.ADMIN:
        staff, keys = screens.StaffAccounts, screens.ApiKeyList
        return [
            # The primary key stays out of the columns: piccolo-admin's list breaks on a column
            # its row schema does not describe.
            TableConfig(staff, link_column=staff.username, exclude_visible_columns=[staff.id]),
            TableConfig(keys, link_column=keys.prefix, exclude_visible_columns=[keys.id]),
            *_fraud_screens(),
            _audit_screen(),
        ]
    raise ValueError(f"No back-office screens are defined for the {role.value} role.")


def _cheque_screens() -> list[TableConfig]:
    """The operations team: the cheques entered and their daily batches, read only (entering,
    closing and bouncing are the cheque pages' forms, under /staff/cheques)."""
    cheques, batches = screens.MailedCheques, screens.DepositBatches
    return [
        TableConfig(
            cheques,
            visible_columns=[
                cheques.number,
                cheques.reference,
                cheques.status,
                cheques.provider,
                cheques.account,
                cheques.invoice_number,
                cheques.amount,
                cheques.business_date,
                cheques.batch,
                cheques.depositor,
                cheques.entered_at,
            ],
            visible_filters=[
                cheques.status,
                cheques.currency,
                cheques.business_date,
                cheques.number,
                cheques.reference,
                cheques.provider,
                cheques.account_id,
                cheques.batch,
                cheques.depositor,
            ],
            link_column=cheques.number,
            order_by=[OrderBy(column=cheques.entered_at, ascending=False)],
        ),
        TableConfig(
            batches,
            visible_columns=[
                batches.name,
                batches.business_date,
                batches.currency,
                batches.depositor,
                batches.status,
                batches.cheque_count,
                batches.total,
                batches.scanner_total,
                batches.closed_by,
                batches.closed_at,
            ],
            visible_filters=[
                batches.status,
                batches.currency,
                batches.business_date,
                batches.depositor,
            ],
            link_column=batches.name,
            order_by=[
                OrderBy(column=batches.business_date, ascending=False),
                OrderBy(column=batches.created_at, ascending=False),
            ],
        ),
    ]


def _fraud_screens() -> list[TableConfig]:
    """Team leads and admins: the blocklist (display only, never an IBAN's stored hash) and the
    bulk unblocks waiting for a second person."""
    entries, bulk = screens.Blocklist, screens.BulkUnblockList
    return [
        TableConfig(
            entries,
            exclude_visible_columns=[entries.id],
            visible_filters=[
                entries.kind,
                entries.active,
                entries.source_ticket,
                entries.display,
                entries.entry_id,
            ],
            link_column=entries.entry_id,
            order_by=[OrderBy(column=entries.created_at, ascending=False)],
        ),
        TableConfig(
            bulk,
            exclude_visible_columns=[bulk.id],
            visible_filters=[bulk.status, bulk.bulk_unblock_id],
            link_column=bulk.bulk_unblock_id,
            order_by=[OrderBy(column=bulk.requested_at, ascending=False)],
        ),
    ]


def _audit_screen() -> TableConfig:
    entries = screens.AuditEntries
    return TableConfig(
        entries,
        exclude_visible_columns=[entries.id],
        visible_filters=[
            entries.action,
            entries.actor_type,
            entries.actor_id,
            entries.target_type,
            entries.target_id,
            entries.subject,
        ],
        link_column=entries.seq,
        order_by=[OrderBy(column=entries.occurred_at, ascending=False)],
    )


def _forms(role: Role, settings: Settings, workflow: WorkflowService) -> list[FormConfig]:
    if role is Role.SPECIALIST:
        return specialist_forms(settings, workflow)
    if role is Role.TEAM_LEAD:
        return [*lead_forms(settings, workflow), *fraud_forms(role), audit_reading_form(role)]
    if role is Role.ADMIN:
        return [*admin_forms(), *fraud_forms(role), audit_reading_form(role)]
    return []  # operations: its forms are the cheque pages


def _sidebar_links(role: Role) -> dict[str, str]:
    """The back office's own pages, beside piccolo-admin's screens. Each role is named: a role
    added later sees none of them until it is given its own. (English names, marked: the guard
    translates them for the reader.)"""
    links = {}
    if role is Role.TEAM_LEAD:
        links[N_("Dashboard")] = "/staff/dashboard"
    if role in (Role.SPECIALIST, Role.TEAM_LEAD, Role.ADMIN):
        links[N_("Customers")] = "/staff/customers"
    if role in (Role.TEAM_LEAD, Role.ADMIN):
        links[N_("Corrections queue")] = "/staff/corrections"
        links[N_("Notifications")] = "/staff/notifications"
    if role in (Role.OPERATIONS, Role.TEAM_LEAD):
        links[N_("Cheques")] = "/staff/cheques"
    if role is Role.OPERATIONS:
        links[N_("Cheque report")] = "/staff/cheques/report"
    if role is Role.ADMIN:
        links[N_("Settings")] = "/staff/settings"
    links[N_("Preferences")] = "/staff/preferences"
    return links


def admin_mounts(settings: Settings, login: StaffLogin) -> list[ASGIRouteHandler]:
    workflow = WorkflowService(settings)
    label = " (SANDBOX)" if settings.sandbox else ""
    handlers = []
    translations = piccolo_translations()
    for role, path in MOUNT_OF_ROLE.items():
        tables, forms = _tables(role), _forms(role, settings, workflow)
        app = create_admin(
            tables=tables,
            forms=forms,
            auth_table=StaffUser,
            session_table=StaffSession,
            # Our guard checks and slides the session; these only bound piccolo's own check.
            session_expiry=timedelta(minutes=settings.staff_idle_minutes),
            max_session_expiry=timedelta(hours=settings.staff_session_hours),
            increase_expiry=None,
            read_only=True,
            production=not settings.sandbox,
            site_name=f"Back office · {role.value.replace('_', ' ')}{label}",
            auto_include_related=False,
            allowed_hosts=list(settings.admin_hosts),
            sidebar_links=_sidebar_links(role),
            translations=translations,
        )
        guard = RoleGuard(
            app, role, login, settings, [config.table_class for config in tables], forms
        )
        handlers.append(_mount(path, OutagePage(guard)))
    return handlers


def _mount(path: str, guard: ASGIApp) -> ASGIRouteHandler:
    @asgi(path, is_mount=True, is_static=True, include_in_schema=False, copy_scope=True)
    async def back_office(scope: Any, receive: Any, send: Any) -> None:
        # Litestar hands a mount its remaining path without the trailing slash, which the
        # Starlette app behind it needs; give it the original path and the prefix as root_path.
        scope["path"] = unquote(scope["raw_path"].decode("latin-1"))
        scope["root_path"] = scope.get("root_path", "") + path
        await guard(scope, receive, send)

    return back_office
