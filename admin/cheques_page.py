"""The operations team's cheque pages (`/staff/cheques`): today's batches (the member's own
first) and the "Enter a cheque" flow, one batch with its close form and deposit slip (printable
and CSV), one cheque with its bounce form, and the report of the last 30 days with a chart per
currency drawn by the server.

Who does what (ChequeService checks it again): operations members enter cheques, each as its
own depositor; an operations member or a team lead who did not deposit a batch closes it against
the scanner's total; both mark a cheque bounced and read everything here. Specialists and
admins get a sentence. Entering and bouncing carry a one-time form token (admin.form_tokens):
a double click or a reload that posts again does it once.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from adapters.ports import Account, Invoice
from admin.cheque_chart import charts
from admin.cheque_forms import (
    CREDIT,
    PROVIDERS,
    batch_close,
    cheque_order,
    decimals_hint,
    provider_of,
    shown_again,
)
from admin.cheque_view import (
    bounced_sentence,
    own_first,
    recorded_sentence,
    since_scan,
    view_helpers,
)
from admin.form_tokens import file_once, form_token
from admin.page_kit import (
    NO_STORE,
    Form,
    back_office,
    error_page,
    free_text,
    message,
    read_form,
    staff_page,
)
from gateway.cheques.csv_responses import csv_response
from gateway.cheques.exports import report_csv, slip_csv
from gateway.cheques.schemas import BatchRead, ChequeRead
from gateway.cheques.wiring import cheque_service
from gateway.core.errors import HTTP_STATUS, BillingError, ErrorCode
from gateway.corrections.filing import Requester
from gateway.i18n import N_, Message, gettext, translate
from gateway.staff.login import StaffLogin
from gateway.staff.member import StaffMember
from gateway.staff.roles import Role
from settings import Settings

PATH = "/staff/cheques"
TITLE = N_("Cheques")
READERS = frozenset({Role.OPERATIONS, Role.TEAM_LEAD})
WRONG_ROLE = N_("The cheque pages are for the operations team and team leads.")
ENTERERS_ONLY = N_(
    "Cheques are entered by the operations team: the member who enters a cheque deposits it."
)
BUSY = N_("This form was sent already and is still being done; reload the page in a moment.")
REPORT_DAYS = 30
SHOWN = 500  # cheques listed on one batch's page and slip
DONE = {"closed": N_("Closed: the scanner's total equals the batch's. Its deposit slip is ready.")}


def _context(settings: Settings, staff: StaffMember, **extra: Any) -> dict[str, Any]:
    return {
        "sandbox": settings.sandbox,
        "staff": staff,
        "back": back_office(staff),
        "enters": staff.role is Role.OPERATIONS,
        "new_token": lambda: str(uuid.uuid4()),
        **view_helpers(),
        **extra,
    }


def _page(
    name: str, settings: Settings, staff: StaffMember, error: BillingError | None, **extra: Any
) -> Template:
    return Template(
        template_name=name,
        context=_context(
            settings, staff, error=translate(error.detail) if error else None, **extra
        ),
        status_code=HTTP_STATUS[error.code] if error else 200,
        headers=NO_STORE,
    )


def _refused(refusal: BillingError) -> Template:
    """A page that cannot be shown (no such cheque or batch), with the reason in the reader's
    language."""
    return message(gettext(TITLE), translate(refusal.detail), HTTP_STATUS[refusal.code])


async def _who(request: Request[Any, Any, Any], login: StaffLogin) -> StaffMember:
    """The signed-in operations member or lead."""
    return await staff_page(
        request, login, READERS, lambda: message(gettext(TITLE), gettext(WRONG_ROLE), 403)
    )


async def _entry(provider: str, account_ref: str) -> tuple[Account, list[Invoice]]:
    """The customer the form is for, fresh from the provider, and its open invoices."""
    if not account_ref:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            Message("Type the customer's account number, customer id, email or back-office id."),
        )
    return await cheque_service().open_invoices(provider, account_ref)


async def _index(
    settings: Settings,
    staff: StaffMember,
    *,
    provider: str = "",
    account_ref: str = "",
    typed: Form | None = None,
    error: BillingError | None = None,
) -> Template:
    service = cheque_service()
    today = service.business_date_now()
    batches = (await service.batches(business_date=today, limit=200)).items
    still_open = [
        batch
        for batch in (await service.batches(status="open", limit=200)).items
        if batch.business_date < today
    ]
    entry: dict[str, Any] | None = None
    if staff.role is Role.OPERATIONS and (provider or account_ref):
        try:
            account, invoices = await _entry(provider_of({"provider": provider}), account_ref)
            entry = {"account": account, "invoices": invoices}
        except BillingError as refusal:
            error = error or refusal
    return _page(
        "cheques.html",
        settings,
        staff,
        error,
        today=today,
        batches=own_first(batches, staff.username),
        still_open=own_first(still_open, staff.username),
        providers=PROVIDERS,
        provider=provider,
        account_ref=account_ref,
        entry=entry,
        typed=typed or {},
        credit=CREDIT,
        hint=decimals_hint(entry["account"].currency) if entry else "120.00",
    )


async def _batch_cheques(batch_id: uuid.UUID) -> list[ChequeRead]:
    """The batch's cheques, newest first, as many as one page shows."""
    service = cheque_service()
    found: list[ChequeRead] = []
    cursor: str | None = None
    while len(found) < SHOWN:
        page = await service.list(batch_id=batch_id, cursor=cursor, limit=100)
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return found[:SHOWN]


async def _batch_page(
    settings: Settings,
    staff: StaffMember,
    batch_id: uuid.UUID,
    *,
    error: BillingError | None = None,
    notice: str | None = None,
) -> Template:
    try:
        batch = await cheque_service().batch(batch_id)
    except BillingError as refusal:
        return _refused(refusal)
    cheques = await _batch_cheques(batch_id)
    mismatch = error.extra if error and error.code is ErrorCode.CHEQUE_BATCH_TOTAL_MISMATCH else {}
    return _page(
        "cheque_batch.html",
        settings,
        staff,
        error,
        batch=batch,
        cheques=cheques,
        more=len(cheques) >= SHOWN,
        notice=notice,
        depositor=batch.depositor == staff.username,
        mismatch=mismatch,
        since_scan=since_scan(mismatch),
        hint=decimals_hint(batch.currency),
        time_zone=settings.operations_time_zone,
    )


async def _cheque_page(
    settings: Settings,
    staff: StaffMember,
    cheque_id: uuid.UUID,
    *,
    error: BillingError | None = None,
    notice: str | None = None,
) -> Template:
    try:
        cheque = await cheque_service().read(cheque_id)
        batch: BatchRead | None = await cheque_service().batch(cheque.batch_id)
    except BillingError as refusal:
        return _refused(refusal)
    return _page("cheque.html", settings, staff, error, cheque=cheque, batch=batch, notice=notice)


def _csv(text: str, stem: str) -> Response[str]:
    """As the API hands it out, never kept by the browser's cache."""
    response = csv_response(text, stem)
    response.headers.update(NO_STORE)
    return response


class ChequesPageController(Controller):
    path = PATH
    include_in_schema = False
    exception_handlers = {Exception: error_page}

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        provider: FromQuery[str | None] = None,
        account: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        """Today's batches; with `provider` and `account`, the entry form for that customer."""
        staff = await _who(request, login)
        account_ref = (account or "").strip()
        try:
            free_text({"account": account_ref}, "account", N_("customer reference"))
        except BillingError as refusal:
            return await _index(settings, staff, error=refusal)
        return await _index(settings, staff, provider=provider or "", account_ref=account_ref)

    @post("/record", status_code=303)
    async def record(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        """The entry form: the cheque is recorded at the provider, once per form."""
        staff = await _who(request, login)
        if staff.role is not Role.OPERATIONS:
            return message(gettext(TITLE), gettext(ENTERERS_ONLY), 403)
        form = await read_form(request)
        service = cheque_service()
        provider = form.get("provider", "")
        account_ref = form.get("account_id", "")

        async def enter() -> uuid.UUID:
            account, invoices = await _entry(provider_of(form), account_ref)
            order = cheque_order(form, staff, account, invoices)
            return (await service.record(order, Requester.of_staff(staff))).id

        try:
            token = form_token(form.get("form_token", ""))
            cheque_id = await file_once(staff, token, "cheques.record", enter, busy=BUSY)
            cheque = await service.read(cheque_id)
        except BillingError as refusal:
            return await _index(
                settings,
                staff,
                provider=provider if provider in PROVIDERS else "",
                account_ref=account_ref,
                typed=shown_again(form),
                error=refusal,
            )
        return Redirect(f"{PATH}/batches/{cheque.batch_id}?cheque={cheque.id}", status_code=303)

    @get("/batches/{batch_id:uuid}")
    async def batch(
        self,
        request: Request[Any, Any, Any],
        batch_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        cheque: FromQuery[uuid.UUID | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        """One batch; after the entry form, a notice naming the cheque and what it did."""
        staff = await _who(request, login)
        notice = gettext(DONE[done]) if done in DONE else None
        if cheque is not None:
            try:
                notice = recorded_sentence(await cheque_service().read(cheque))
            except BillingError:
                notice = None
        return await _batch_page(settings, staff, batch_id, notice=notice)

    @post("/batches/{batch_id:uuid}/close", status_code=303)
    async def close(
        self,
        request: Request[Any, Any, Any],
        batch_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        """The scanner's total: equal, the batch closes; otherwise the page says by how much
        and which cheques were entered since the scan."""
        staff = await _who(request, login)
        form = await read_form(request)
        service = cheque_service()
        try:
            batch = await service.batch(batch_id)
            today = service.business_date_now()  # the scanner ran today, whatever the batch's day
            body = batch_close(form, staff, batch.currency, today, settings.operations_time_zone)
            await service.close_batch(batch_id, body, Requester.of_staff(staff))
        except BillingError as refusal:
            return await _batch_page(settings, staff, batch_id, error=refusal)
        return Redirect(f"{PATH}/batches/{batch_id}?done=closed", status_code=303)

    @get("/batches/{batch_id:uuid}/slip")
    async def slip(
        self,
        request: Request[Any, Any, Any],
        batch_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        """The printable deposit slip; an open batch's is marked NOT CLOSED."""
        staff = await _who(request, login)
        try:
            slip = await cheque_service().slip(batch_id)
        except BillingError as refusal:
            return _refused(refusal)
        return _page("cheque_slip.html", settings, staff, None, slip=slip, batch=slip.batch)

    @get("/batches/{batch_id:uuid}/slip.csv")
    async def slip_file(
        self,
        request: Request[Any, Any, Any],
        batch_id: FromPath[uuid.UUID],
        login: NamedDependency[StaffLogin],
    ) -> Response[str] | Template | Redirect:
        await _who(request, login)
        try:
            slip = await cheque_service().slip(batch_id)
        except BillingError as refusal:
            return _refused(refusal)
        return _csv(slip_csv(slip), f"deposit-slip-{slip.batch.name}")

    @get("/{cheque_id:uuid}")
    async def cheque(
        self,
        request: Request[Any, Any, Any],
        cheque_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
        done: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        staff = await _who(request, login)
        notice = None
        if done == "bounced":
            notice = bounced_sentence(await cheque_service().read(cheque_id))
        return await _cheque_page(settings, staff, cheque_id, notice=notice)

    @post("/{cheque_id:uuid}/bounce", status_code=303)
    async def bounce(
        self,
        request: Request[Any, Any, Any],
        cheque_id: FromPath[uuid.UUID],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        """The bank returned the cheque: its payment is reversed at the provider, once."""
        staff = await _who(request, login)
        form = await read_form(request)

        async def bounce() -> uuid.UUID:
            reason = free_text(form, "reason", N_("reason the bank gave"))
            if len(reason) < 3:
                raise BillingError(
                    ErrorCode.VALIDATION_FAILED,
                    Message(
                        "Write the reason the bank gave for returning the cheque: it is kept "
                        "with the cheque and sent to the support tools."
                    ),
                )
            await cheque_service().bounce(cheque_id, reason, Requester.of_staff(staff))
            return cheque_id

        try:
            token = form_token(form.get("form_token", ""))
            await file_once(staff, token, "cheques.bounce", bounce, busy=BUSY)
        except BillingError as refusal:
            return await _cheque_page(settings, staff, cheque_id, error=refusal)
        return Redirect(f"{PATH}/{cheque_id}?done=bounced", status_code=303)

    @get("/report")
    async def report(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        login: NamedDependency[StaffLogin],
    ) -> Template | Redirect:
        """Each day and currency of the last 30 days, and a chart per currency."""
        staff = await _who(request, login)
        date_from, date_to = _last_days()
        report = await cheque_service().report(date_from, date_to)
        return _page(
            "cheques_report.html",
            settings,
            staff,
            None,
            report=report,
            charts=charts(report.days, date_from, date_to),
        )

    @get("/report.csv")
    async def report_file(
        self, request: Request[Any, Any, Any], login: NamedDependency[StaffLogin]
    ) -> Response[str] | Template | Redirect:
        await _who(request, login)
        date_from, date_to = _last_days()
        report = await cheque_service().report(date_from, date_to)
        return _csv(report_csv(report), f"cheque-report-{date_from}-to-{date_to}")


def _last_days() -> tuple[date, date]:
    today = cheque_service().business_date_now()
    return today - timedelta(days=REPORT_DAYS - 1), today
