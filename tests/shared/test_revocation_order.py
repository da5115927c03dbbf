"""Revocation cannot be undone by the order events arrive in: in every service that keeps a copy of the
credentials, a `credential.revoked` handled before its `credential.issued` (a replayed dead letter, two
replicas) leaves the credential revoked, and so does a `credential.issued` delivered again later."""

from __future__ import annotations

import importlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request

from shared.auth import Authenticator, new_token
from shared.clock import FakeClock
from shared.consumer import HandlerContext
from shared.db import make_engine, make_session_factory
from shared.errors import Unauthorized
from shared.events import Envelope
from shared.events.intake import CredentialIssued, CredentialRevoked

CONSUMERS = {"routing": "RoutingSettings", "notify": "NotifySettings", "reporting": "ReportingSettings"}
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def request_with(token: str, app: Any) -> Request:
    headers = [(b"authorization", f"Bearer {token}".encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "app": app})


@pytest.mark.parametrize("service", sorted(CONSUMERS))
async def test_a_revocation_arriving_before_its_issue_leaves_the_credential_revoked(service: str, base_env) -> None:
    settings_module = importlib.import_module(f"services.{service}.settings")
    settings = getattr(settings_module, CONSUMERS[service])(**{k.lower(): v for k, v in base_env.items()})
    app = importlib.import_module(f"services.{service}.main").create_app(settings)
    handlers = app.state.spec.handlers  # the service's real wiring of the credential events
    table = importlib.import_module(f"services.{service}.store").credentials
    engine = make_engine(base_env["DATABASE_URL"])
    sessions = make_session_factory(engine)
    authenticator = Authenticator(table, sessions)

    async def handle(event: CredentialIssued | CredentialRevoked) -> None:
        envelope = Envelope.wrap(event, producer="intake")
        async with sessions() as session, session.begin():
            await handlers[type(event)](
                event, HandlerContext(session, outbox=None, clock=FakeClock(NOW), caused_by=envelope)
            )

    def issued(key_id: str, digest: str) -> CredentialIssued:
        return CredentialIssued(
            key_id=key_id,
            token_sha256=digest,
            account_id=uuid.uuid4(),
            role="admin",
            issued_at=NOW - timedelta(hours=1),
        )

    try:
        # In order, the credential works until it is revoked (so the check below can fail).
        key_id, token, digest = new_token()
        await handle(issued(key_id, digest))
        assert (await authenticator.principal(request_with(token, app))).role == "admin"

        # Out of order: revoked first, issued afterwards, then the issue once more (a replay).
        key_id, token, digest = new_token()
        await handle(CredentialRevoked(key_id=key_id, revoked_at=NOW))
        await handle(issued(key_id, digest))
        await handle(issued(key_id, digest))
        with pytest.raises(Unauthorized) as refused:
            await authenticator.principal(request_with(token, app))
        assert refused.value.status == 401
        async with sessions() as session:
            row = (await session.execute(table.select().where(table.c.key_id == key_id))).one()
        assert row.revoked_at == NOW and row.role == "admin" and row.token_sha256 == digest

        # A tombstone alone authenticates nobody, whatever the token.
        key_id, token, _ = new_token()
        await handle(CredentialRevoked(key_id=key_id, revoked_at=NOW))
        with pytest.raises(Unauthorized):
            await authenticator.principal(request_with(token, app))
    finally:
        await engine.dispose()
