"""Wiring of the intake service."""

from __future__ import annotations

from fastapi import FastAPI

from services.intake import store
from services.intake.api_accounts import router as accounts_router
from services.intake.api_admin import router as admin_router
from services.intake.api_cases import auth
from services.intake.api_cases import router as cases_router
from services.intake.api_consent import router as consent_router
from services.intake.api_counseling import router as counseling_router
from services.intake.api_reports import router as reports_router
from services.intake.api_signin import router as signin_router
from services.intake.api_zalo import router as zalo_router
from services.intake.authcache import MAX_TTL_SECONDS
from services.intake.context import IntakeContext, build_context
from services.intake.handlers import make_handlers
from services.intake.refcache import listen
from services.intake.retention import retention_worker
from services.intake.settings import IntakeSettings
from services.intake.zalo import zalo_worker
from shared.clock import Clock
from shared.http_errors import JsonOnlyMiddleware
from shared.service import ServiceRuntime, ServiceSpec, create_service_app


def change_listener(context: IntakeContext):
    """Background worker: drops cached reference data and credentials when the database says they changed."""

    async def run(runtime: ServiceRuntime) -> None:
        await listen(runtime.settings.database_url, context.reference.invalidate, auth.forget)

    run.__name__ = "change_listener"
    return run


def create_app(settings: IntakeSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    context = build_context(settings)  # fails fast on malformed keys
    auth.ttl = min(settings.credential_cache_ttl_seconds, MAX_TTL_SECONDS)
    spec = ServiceSpec(
        name="intake",
        metadata=store.metadata,
        inbox_table=store.inbox,
        outbox_table=store.outbox,
        handlers=make_handlers(settings),
        routers=[
            cases_router,
            consent_router,
            reports_router,
            counseling_router,
            zalo_router,
            admin_router,
            accounts_router,
            signin_router,
        ],
        workers=[zalo_worker(context), retention_worker(context)],
        cache_workers=[change_listener(context)],  # the API's reference and credential caches
        title="Cầu Nối — intake",
        description="Cases, monthly reports, counseling requests and the Zalo webhook. See docs/intake.md.",
        body_limits={"/v1/counseling-requests": settings.counseling_max_body_bytes},
        serves_without_broker=True,  # cases are committed with their events; the outbox holds them
    )
    app = create_service_app(spec, settings, clock=clock)
    app.state.intake = context
    app.add_middleware(JsonOnlyMiddleware)
    return app
