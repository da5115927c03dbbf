"""Wiring of the notify service."""

from __future__ import annotations

from fastapi import FastAPI

from services.notify import store
from services.notify.api import auth, router
from services.notify.dispatcher import dispatcher_worker
from services.notify.handlers import NotifyHandlers
from services.notify.settings import NotifySettings
from services.notify.wakeup import Wakeup
from shared.clock import Clock
from shared.events.intake import CredentialIssued, CredentialRevoked
from shared.service import ServiceSpec, create_service_app


def create_app(settings: NotifySettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    wakeup = Wakeup()  # the consumer's handlers set it after their commit; the dispatcher waits on it
    handlers = NotifyHandlers(settings, wakeup).mapping()
    spec = ServiceSpec(
        name="notify",
        metadata=store.metadata,
        inbox_table=store.inbox,
        outbox_table=store.outbox,
        handlers={**handlers, CredentialIssued: auth.on_issued, CredentialRevoked: auth.on_revoked},
        routers=[router],
        workers=[dispatcher_worker(wakeup=wakeup)],
        title="Cầu Nối — notify",
        description="Email and Zalo OA messages from events, with retries, fallbacks and a delivery log.",
    )
    return create_service_app(spec, settings, clock=clock)
