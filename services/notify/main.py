"""Wiring of the notify service."""

from __future__ import annotations

from fastapi import FastAPI

from services.notify import store
from services.notify.api import router
from services.notify.dispatcher import dispatcher_worker
from services.notify.handlers import make_handlers
from services.notify.handover import Handover
from services.notify.settings import NotifySettings
from shared.clock import Clock
from shared.service import ServiceSpec, create_service_app


def create_app(settings: NotifySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    handover = Handover()  # deliveries the handlers claim at insert, for this process's dispatcher
    spec = ServiceSpec(
        name="notify",
        metadata=store.metadata,
        inbox_table=store.inbox,
        outbox_table=store.outbox,
        handlers=make_handlers(settings, handover),
        routers=[router],
        workers=[dispatcher_worker(handover=handover)],
        title="Cầu Nối — notify",
        description="Email and Zalo OA messages from events, with retries, fallbacks and a delivery log.",
    )
    return create_service_app(spec, settings, clock=clock)
