"""The customer page ("System and Payment Manager" in the runbooks): find a customer at every
provider, see both providers' side of it on one page, and correct it there.

Specialists, team leads and admins open it; no other role does. Every action is a plain form
POST (CSRF-checked by the app's config, which covers /staff) to one dispatcher: refund, cancel
and void file a correction through `CorrectionService` (once per form, see admin.form_tokens)
and open it; FRAUD-STOP on the customer is for team leads and admins. Refusals show as their
sentence.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from admin.correction_view import kind_name, status_name
from admin.customer_actions import CORRECTION_FORMS, THEN, WHEN, stop_customer
from admin.customer_labels import label_helpers, provider_status
from admin.customer_reads import find_by_id
from admin.customer_search import search
from admin.customer_view import customer_view
from admin.form_tokens import file_once, form_token
from admin.page_kit import NO_STORE, back_office, error_page, message, read_form, staff_page
from gateway.billing import documents
from gateway.core.errors import HTTP_STATUS, BillingError
from gateway.corrections.service import Requester
from gateway.corrections.wiring import correction_service
from gateway.i18n import N_, translate
from gateway.i18n.formatting import format_date, format_datetime
from gateway.provider_links import customer_links
from gateway.providers import Providers
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings

PATH = "/staff/customers"
TITLE = N_("Customers")
NOT_FOUND = N_("No such customer at this provider. Search for it by email, company or reference.")
STOPPERS = frozenset({Role.TEAM_LEAD, Role.ADMIN})
# Named, not "whoever is signed in": a role added later (operations) opens nothing here.
READERS = frozenset({Role.SPECIALIST, Role.TEAM_LEAD, Role.ADMIN})
WRONG_ROLE = N_("The customer page is for specialists, team leads and admins.")
# A provider's receipt page, shown as a document of ours: none of its scripts run here.
RECEIPT_POLICY = "sandbox; default-src 'none'; img-src data: https:; style-src 'unsafe-inline'"
DONE = {"fraud_stop": N_("FRAUD-STOP done: the blocks are listed under Blocklist matches.")}


async def _customer_page(
    settings: Settings,
    providers: Providers,
    staff: StaffMember,
    provider: str,
    account_id: str,
    *,
    backoffice_id: str | None = None,
    error: BillingError | None = None,
    notice: str | None = None,
) -> Template:
    view = await customer_view(providers, provider, account_id, backoffice_id)
    if view is None:
        return message(TITLE, NOT_FOUND, 404)
    context = {
        "sandbox": settings.sandbox,
        "staff": staff,
        "back": back_office(staff),
        "view": view,
        "first": view.sides[0],
        "provider_links": customer_links(settings, view.sides),
        "can_stop": staff.role in STOPPERS,
        **label_helpers(),
        "kind_name": kind_name,
        "status_name": status_name,
        # Provider dates are days (an invoice's) or moments (a payment's), in the reader's zone.
        "shown_time": lambda value: (
            format_datetime(value) if hasattr(value, "hour") else format_date(value)
        ),
        "new_token": lambda: str(uuid.uuid4()),
        "when_choices": WHEN,
        "then_choices": THEN,
        "error": translate(error.detail) if error else None,
        "notice": translate(notice) if notice else None,
    }
    return Template(
        template_name="customer.html",
        context=context,
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers=NO_STORE,
    )


class CustomerPageController(Controller):
    path = PATH
    include_in_schema = False
    exception_handlers = {Exception: error_page}

    @get("/")
    async def find(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        providers: NamedDependency[Providers],
        q: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        staff = await staff_page(request, login, READERS, lambda: message(TITLE, WRONG_ROLE, 403))
        query = (q or "").strip()[:200]
        result = await search(providers, query) if query else None
        return Template(
            template_name="customers.html",
            context={
                "sandbox": settings.sandbox,
                "staff": staff,
                "back": back_office(staff),
                "query": query,
                "result": result,
                "provider_status": provider_status,
            },
            headers=NO_STORE,
        )

    @get("/{provider:str}/{account_id:str}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        provider: FromPath[str],
        account_id: FromPath[str],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        providers: NamedDependency[Providers],
        bo: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        staff = await staff_page(request, login, READERS, lambda: message(TITLE, WRONG_ROLE, 403))
        return await _customer_page(
            settings,
            providers,
            staff,
            provider,
            account_id,
            backoffice_id=(bo or "").strip()[:100] or None,
            notice=DONE.get(done or ""),
        )

    @post("/{provider:str}/{account_id:str}/{action:str}", status_code=303)
    async def act(
        self,
        request: Request[Any, Any, Any],
        provider: FromPath[str],
        account_id: FromPath[str],
        action: FromPath[str],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        providers: NamedDependency[Providers],
    ) -> Template | Redirect:
        """The one dispatcher of the page's forms."""
        staff = await staff_page(request, login, READERS, lambda: message(TITLE, WRONG_ROLE, 403))
        if action != "fraud-stop" and action not in CORRECTION_FORMS:
            return message(TITLE, N_("No such action on the customer page."), 404)
        if action == "fraud-stop" and staff.role not in STOPPERS:
            return message(TITLE, N_("FRAUD-STOP is for team leads and admins."), 403)
        adapter = providers.get(provider)
        if adapter is None:
            return message(TITLE, NOT_FOUND, 404)
        form = await read_form(request)
        page = f"{PATH}/{provider}/{account_id}"
        try:
            if action == "fraud-stop":
                # Only a customer the provider has: a reference typed into the URL blocks nothing.
                if await find_by_id(adapter, account_id) is None:
                    return message(TITLE, NOT_FOUND, 404)
                await stop_customer(staff, account_id, form)
                return Redirect(f"{page}?done=fraud_stop", status_code=303)
            order = CORRECTION_FORMS[action](provider, account_id, form)

            async def file() -> uuid.UUID:
                filed = await correction_service().file(order, Requester.of_staff(staff))
                return filed.id

            token = form_token(form.get("form_token", ""))
            correction_id = await file_once(staff, token, action, file)
        except BillingError as refusal:
            return await _customer_page(
                settings, providers, staff, provider, account_id, error=refusal
            )
        return Redirect(f"/staff/corrections/{correction_id}", status_code=303)

    @get("/{provider:str}/{account_id:str}/{kind:str}/{object_id:str}/document")
    async def document(
        self,
        request: Request[Any, Any, Any],
        provider: FromPath[str],
        account_id: FromPath[str],
        kind: FromPath[str],
        object_id: FromPath[str],
        login: NamedDependency[StaffLogin],
        providers: NamedDependency[Providers],
    ) -> Response[bytes] | Template | Redirect:
        """An invoice's PDF (`kind` invoices) or a payment's receipt (`kind` payments) of
        this customer, streamed through the gateway (no vendor console), shown in the
        browser."""
        await staff_page(request, login, READERS, lambda: message(TITLE, WRONG_ROLE, 403))
        adapter = providers.get(provider)
        read = {"invoices": documents.invoice_pdf, "payments": documents.receipt}.get(kind)
        if adapter is None or read is None:
            return message(TITLE, N_("No such document."), 404)
        try:
            document = await read(adapter, provider, object_id, account_id=account_id)
        except BillingError as refusal:
            return message(TITLE, refusal.detail, HTTP_STATUS[refusal.code])
        inline = document.disposition.replace("attachment", "inline", 1)
        headers = {**NO_STORE, "Content-Disposition": inline}
        if document.media_type != documents.PDF:  # the provider's page, kept in a sandbox
            headers["Content-Security-Policy"] = RECEIPT_POLICY
        return Response(document.body, media_type=document.media_type, headers=headers)
