"""Wiring of the reporting service."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting import store
from services.reporting.api import auth, router
from services.reporting.handlers import HANDLERS
from services.reporting.settings import ReportingSettings
from shared.clock import Clock
from shared.events.intake import CredentialIssued, CredentialRevoked
from shared.service import ServiceSpec, create_service_app


def create_app(settings: ReportingSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    spec = ServiceSpec(
        name="reporting",
        metadata=store.metadata,
        inbox_table=store.inbox,
        outbox_table=store.outbox,
        handlers={**HANDLERS, CredentialIssued: auth.on_issued, CredentialRevoked: auth.on_revoked},
        routers=[router],
        title="Cầu Nối — reporting",
    )
    return create_service_app(spec, settings or ReportingSettings(), clock=clock)
