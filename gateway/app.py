"""The composition root: build the Litestar application from settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.prometheus import PrometheusConfig
from litestar.template.config import TemplateConfig

import admin
import gateway.core.db  # noqa: F401  (points Piccolo at our engine before any table is used)
from admin.cheques_page import ChequesPageController
from admin.corrections_page import CorrectionsPageController
from admin.customer_page import CustomerPageController
from admin.dashboard_page import DashboardPageController
from admin.mounts import admin_mounts
from admin.notifications_page import NotificationsPageController
from admin.preferences_page import PreferencesPageController
from admin.settings_page import settings_page
from admin.sign_in import SignInController
from admin.throttle import SignInThrottle
from admin.work_page import WorkPageController
from gateway.billing.controller import BillingController
from gateway.billing.history_controller import HistoryController
from gateway.change_requests.controller import ChangeRequestController
from gateway.change_requests.service import ChangeRequestService
from gateway.cheques.batch_controller import ChequeBatchController
from gateway.cheques.controller import ChequeController
from gateway.cheques.report_controller import ChequeReportController
from gateway.cheques.wiring import build_cheques
from gateway.core.crypto import Cipher
from gateway.core.db.connection import close_pool, start_pool
from gateway.core.errors import BillingError
from gateway.core.jobs import job_app
from gateway.corrections.controller import CorrectionController
from gateway.corrections.wiring import build_corrections
from gateway.edge.api_edge import ApiEdgeMiddleware
from gateway.edge.auth import ApiKeyAuthMiddleware
from gateway.edge.body_guard import BodyGuardMiddleware
from gateway.edge.docs_ui import docs_render_plugins, docs_router
from gateway.edge.json_depth_guard import JsonDepthGuardMiddleware
from gateway.edge.limits_storage import limits_storage
from gateway.edge.openapi import StrictStructSchemaPlugin, security_components
from gateway.edge.problem_pages import ProblemPagesController
from gateway.edge.problems import exception_to_problem
from gateway.edge.rate_limit import ApiKeyRateLimiter
from gateway.edge.request_context import RequestContextMiddleware
from gateway.edge.url_guard import UrlGuardMiddleware
from gateway.fraud.controller import BlocklistController, FraudScreenController
from gateway.fraud.wiring import blocklist_imports, blocklist_service
from gateway.fulfilment.checks import ChecksService
from gateway.fulfilment.controller import ApplyController, PlansController
from gateway.fulfilment.wiring import build_fulfilment
from gateway.health import HealthController
from gateway.i18n import Message
from gateway.i18n.middleware import LocaleMiddleware
from gateway.i18n.templates import install as install_i18n
from gateway.idempotency.lease import lease
from gateway.job_worker import SupervisedWorker
from gateway.metrics.http import ProblemAwarePrometheusMiddleware
from gateway.metrics.multiprocess import mark_dead_at_exit
from gateway.metrics_endpoint import MetricsController
from gateway.notifications.controller import (
    NotificationDeliveryController,
    NotificationEndpointController,
)
from gateway.notifications.wiring import build_notifications
from gateway.providers import Providers, providers_from_settings
from gateway.staff.login import StaffLogin
from gateway.staff.roles import MOUNT_OF_ROLE
from gateway.webhooks.controller import webhook_router
from settings import Settings


def _lifespan(
    settings: Settings, providers: Providers
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        mark_dead_at_exit()  # this worker's live gauges leave /metrics with it
        await start_pool(settings.db_pool_max)
        mirror = blocklist_service().mirror
        await mirror.ensure_started()  # ready means the blocklist is loaded
        await lease.ensure_held()  # this process's idempotency claims can be seen to be alive
        await job_app.open_async()  # requests defer jobs (webhook events), workers run them
        worker: asyncio.Task[None] | None = None
        if settings.run_worker_in_process:
            # Readiness reads it: 503 while it waits for the database or restarts.
            _app.state.job_worker = supervised = SupervisedWorker(job_app)
            worker = asyncio.create_task(supervised.run())
        try:
            yield
        finally:
            if worker is not None:
                worker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
            await job_app.close_async()
            await lease.stop()
            await mirror.stop()
            await providers.close()
            await close_pool()

    return lifespan


def create_app(settings: Settings) -> Litestar:
    cipher = Cipher(settings.keys)
    blocklist = blocklist_service()
    providers = providers_from_settings(settings)
    fulfilment = build_fulfilment(settings, providers, cipher)  # the in-process worker's too
    corrections = build_corrections(settings, providers)  # the in-process worker's too
    notifications = build_notifications(settings, cipher)  # the in-process worker's too
    cheques = build_cheques(settings, providers)  # the in-process worker's too
    # A Connect payout holder is checked against the partner's legal name at intake too.
    holder_check = ChecksService(settings, providers, cipher).check_holder
    change_requests = ChangeRequestService(
        settings, cipher, blocklist, runs_of=fulfilment.view, holder_check=holder_check
    )
    limits = limits_storage(settings)  # one store, shared by every process
    v1 = Router(
        path="/v1",
        route_handlers=[
            ChangeRequestController,
            ApplyController,
            PlansController,
            BillingController,
            CorrectionController,
            HistoryController,
            webhook_router(),
            BlocklistController,
            FraudScreenController,
            NotificationEndpointController,
            NotificationDeliveryController,
            ChequeController,
            ChequeBatchController,
            ChequeReportController,
        ],
        middleware=[
            ApiEdgeMiddleware(
                ApiKeyAuthMiddleware(ApiKeyRateLimiter(settings.rate_limit_per_minute, limits)),
                BodyGuardMiddleware(settings.max_body_bytes, settings.max_json_depth),
            )
        ],
    )
    metrics = PrometheusConfig(
        middleware_class=ProblemAwarePrometheusMiddleware,
        app_name="billing_gateway",
        prefix="billing_gateway",
        group_path=True,
        exclude=["/metrics", "/schema"],
    )
    label = " (SANDBOX: built-in provider emulators, no real money)" if settings.sandbox else ""
    login = StaffLogin(settings, cipher)
    throttle = SignInThrottle(settings.staff_sign_ins_per_minute, limits)
    return Litestar(
        # A sentence made as a Message (gateway.i18n) answers as its English text.
        type_encoders={Message: str},
        route_handlers=[
            v1,
            HealthController,
            ProblemPagesController,
            MetricsController,
            SignInController,
            settings_page,
            WorkPageController,
            CustomerPageController,
            CorrectionsPageController,
            NotificationsPageController,
            ChequesPageController,
            DashboardPageController,
            PreferencesPageController,
            *admin_mounts(settings, login),
        ],
        dependencies={
            "change_requests": Provide(lambda: change_requests, sync_to_thread=False),
            "blocklist": Provide(lambda: blocklist, sync_to_thread=False),
            "blocklist_imports": Provide(blocklist_imports, sync_to_thread=False),
            "login": Provide(lambda: login, sync_to_thread=False),
            "throttle": Provide(lambda: throttle, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "providers": Provide(lambda: providers, sync_to_thread=False),
            "fulfilment": Provide(lambda: fulfilment, sync_to_thread=False),
            "corrections": Provide(lambda: corrections, sync_to_thread=False),
            "notifications": Provide(lambda: notifications, sync_to_thread=False),
            "cheques": Provide(lambda: cheques, sync_to_thread=False),
        },
        template_config=TemplateConfig(
            directory=Path(admin.__file__).parent / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda jinja: install_i18n(jinja.engine),
        ),
        # The sign-in pages' forms; the API uses keys, and each piccolo-admin mount has its own.
        csrf_config=CSRFConfig(
            secret=cipher.keyed_hash("csrf", purpose="staff.csrf_secret"),
            cookie_name="bg_staff_csrf",
            cookie_secure=not settings.sandbox,
            cookie_httponly=True,
            cookie_samesite="strict",
            # Everything but /staff: a route added later is checked (and fails loudly) by default.
            exclude=["^/v1/", "^/health/", "^/metrics", "^/schema"]
            + [f"^{mount}(/|$)" for mount in MOUNT_OF_ROLE.values()],
        ),
        middleware=[
            LocaleMiddleware(settings.staff_time_zone),
            RequestContextMiddleware(),
            UrlGuardMiddleware(),
            JsonDepthGuardMiddleware(settings.max_body_bytes, settings.max_json_depth),
            metrics.middleware,
        ],
        exception_handlers={
            BillingError: exception_to_problem,
            HTTPException: exception_to_problem,
            Exception: exception_to_problem,
        },
        openapi_config=OpenAPIConfig(
            title=f"billing-gateway{label}",
            version="1",
            path="/schema",
            description="Provider-neutral billing operations for support tools. Every POST "
            "needs an Idempotency-Key; every error is application/problem+json "
            "with a stable `code`.",
            # Swagger UI from the gateway's own files (works offline), never a CDN.
            render_plugins=docs_render_plugins(),
            openapi_router=docs_router(),
            create_examples=False,  # every example is written out (gateway/edge/openapi.py)
            components=Components(security_schemes=security_components()),
        ),
        plugins=[StrictStructSchemaPlugin()],
        lifespan=[_lifespan(settings, providers)],
        request_max_body_size=settings.max_body_bytes,
        debug=False,
        logging_config=None,  # gateway.core.log configures logging for the whole process
    )
