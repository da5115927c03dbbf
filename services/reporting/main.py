"""Wiring of the reporting service."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting import projection, store
from services.reporting.api import router
from services.reporting.api_council import router as council_router
from services.reporting.api_funding import router as funding_router
from services.reporting.api_plan import router as plan_router
from services.reporting.api_proposals import router as proposals_router
from services.reporting.api_review_notes import router as notes_router
from services.reporting.api_units import router as units_router
from services.reporting.gauges import gauges_worker
from services.reporting.handlers import keep, make_handlers
from services.reporting.scheduler import scheduler_worker
from services.reporting.seed import seed_defaults
from services.reporting.settings import ReportingSettings
from shared.clock import Clock
from shared.service import ServiceRuntime, ServiceSpec, create_service_app


async def _seed(app: FastAPI, runtime: ServiceRuntime) -> None:
    """Load the default units, successors, categories and roadmap (never overwriting what events said)."""
    async with runtime.sessions() as session, session.begin():
        await seed_defaults(session, runtime.settings.reporting_data_dir)


def create_app(settings: ReportingSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or ReportingSettings()
    spec = ServiceSpec(
        name="reporting",
        metadata=store.metadata,
        inbox_table=store.inbox,
        outbox_table=store.outbox,
        handlers=make_handlers(settings),
        routers=[router, plan_router, units_router, proposals_router, funding_router, council_router, notes_router],
        workers=[scheduler_worker, gauges_worker],
        title="Cầu Nối — reporting",
        on_startup=_seed,
        before_commit=projection.flush,
        before_handlers=keep,
    )
    return create_service_app(spec, settings, clock=clock)
