"""Wiring of the routing service."""

from __future__ import annotations

from fastapi import FastAPI

from services.routing import store
from services.routing.api import router
from services.routing.api_chair import router as chair_router
from services.routing.api_committee import router as committee_router
from services.routing.api_import import router as import_router
from services.routing.api_links import link_router
from services.routing.api_members import router as members_router
from services.routing.api_mine import router as mine_router
from services.routing.api_referrals import router as referrals_router
from services.routing.api_tasks import router as tasks_router
from services.routing.assigner import assignment_worker
from services.routing.gauges import gauges_worker
from services.routing.handlers import make_handlers
from services.routing.registry import load_default_categories
from services.routing.settings import RoutingSettings
from services.routing.timers import timer_worker
from shared.clock import Clock
from shared.service import ServiceRuntime, ServiceSpec, create_service_app


async def _load_defaults(_app: FastAPI, runtime: ServiceRuntime) -> None:
    """The default taxonomy, so cases route before intake's `category.upserted` events arrive."""
    async with runtime.sessions() as session, session.begin():
        await load_default_categories(session, runtime.settings.categories_file)


def create_app(settings: RoutingSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    spec = ServiceSpec(
        name="routing",
        metadata=store.metadata,
        inbox_table=store.inbox,
        outbox_table=store.outbox,
        handlers=make_handlers(settings),
        routers=[
            mine_router,
            router,
            members_router,
            chair_router,
            import_router,
            referrals_router,
            committee_router,
            members_router,
            referrals_router,
            tasks_router,
            link_router(settings.link_path),
        ],
        workers=[timer_worker, assignment_worker, gauges_worker],
        title="Cầu Nối — routing",
        description="Club members, expert assignment, acceptance, deadlines and escalation, opinions.",
        on_startup=_load_defaults,
    )
    return create_service_app(spec, settings, clock=clock)
