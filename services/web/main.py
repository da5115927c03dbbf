"""Wiring of the web service: pages, static files, security headers, the session sweeper.

It consumes no events and emits none (no inbox, no outbox), so `shared.service` never connects it to the
broker: `/readyz` checks its database only, and it needs no broker user."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.web import sessions, store
from services.web.api_admin import router as admin_router
from services.web.api_audit import router as audit_router
from services.web.api_cases import router as cases_router
from services.web.api_chair import router as chair_router
from services.web.api_committee import router as committee_router
from services.web.api_links import link_router
from services.web.api_links import router as links_router
from services.web.api_member import router as member_router
from services.web.api_ops import router as ops_router
from services.web.api_public import router as public_router
from services.web.api_reference import router as reference_router
from services.web.api_registry import router as registry_router
from services.web.api_reporter import router as reporter_router
from services.web.api_reports import router as reports_router
from services.web.api_signin import router as signin_router
from services.web.clients import Apis
from services.web.domain import Lifetime
from services.web.pages import SecurityHeaders, WebContext, message_page
from services.web.sessions import Keys
from services.web.settings import WebSettings
from shared.clock import Clock
from shared.service import ServiceRuntime, ServiceSpec, create_service_app
from shared.uow import unit_of_work
from shared.worker import run_worker

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
SWEEP_SECONDS = 300.0


async def _start(_app: FastAPI, runtime: ServiceRuntime) -> None:
    settings: WebSettings = runtime.settings
    runtime.extras["web"] = WebContext(
        settings=settings,
        keys=Keys(settings.web_session_key),
        lifetime=Lifetime(
            idle=timedelta(minutes=settings.session_idle_minutes),
            absolute=timedelta(hours=settings.session_absolute_hours),
        ),
        apis=Apis(settings),
    )


async def session_sweeper(runtime: ServiceRuntime) -> None:
    """Delete ended sessions now and then; closes the API client when the service stops."""
    context: WebContext = runtime.extras["web"]

    async def sweep() -> int:
        async with unit_of_work(runtime) as uow:
            removed = await sessions.sweep(uow.session, context.lifetime, uow.now)
        if removed:
            log.info("removed %d ended sessions", removed)
        return int(removed or 0)

    try:
        await run_worker(
            "web session sweeper",
            sweep,
            interval=SWEEP_SECONDS,
            min_backoff=SWEEP_SECONDS,
            max_backoff=SWEEP_SECONDS,
            on_error=lambda exc: log.debug("session sweep skipped: %r", exc),
        )
    finally:
        await context.apis.close()


def create_app(settings: WebSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or WebSettings()
    spec = ServiceSpec(
        name="web",
        metadata=store.metadata,
        routers=[
            public_router,
            signin_router,
            reporter_router,
            cases_router,
            member_router,
            links_router,
            link_router(settings.link_path),
            admin_router,
            chair_router,
            registry_router,
            audit_router,
            reference_router,
            ops_router,
            committee_router,
            reports_router,
        ],
        workers=[session_sweeper],
        title="Cầu Nối — web",
        description="The club's pages for people (server-rendered, Vietnamese).",
        on_startup=_start,
    )
    app = create_service_app(spec, settings, clock=clock)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def not_found(request: Request, exc: Exception) -> object:
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 422
        if status == 404:
            return message_page(request, 404, "Không tìm thấy trang", "Không có trang này. Hãy kiểm tra lại địa chỉ.")
        if status == 405:
            return message_page(request, 405, "Không thực hiện được", "Trang này không nhận yêu cầu kiểu này.")
        return message_page(request, status, "Yêu cầu không hợp lệ", "Địa chỉ hoặc biểu mẫu không đúng.")

    app.add_exception_handler(StarletteHTTPException, not_found)
    app.add_exception_handler(RequestValidationError, not_found)
    return app
