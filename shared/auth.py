"""Authentication, the same in every service.

Intake owns accounts and issues credentials: a bearer token `cn_<key_id>_<secret>` sent as
`Authorization: Bearer <token>`. Every service stores only the token's SHA-256 in its own
`credentials` table (intake writes it directly; the others from `credential.issued` /
`credential.revoked` events), so each can authenticate and authorise on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.clock import Clock, SystemClock
from shared.consumer import HandlerContext
from shared.errors import Forbidden, Unauthorized
from shared.events.intake import CredentialIssued, CredentialRevoked

# `web`: the web service's own credential (WEB_SERVICE_TOKEN); it may vouch for the client address of a
# sign-in and nothing else that names a role.
ROLES = ("reporter", "member", "chair", "committee", "operator", "admin", "web")
TOKEN_PREFIX = "cn"  # noqa: S105 - a prefix, not a secret
TOMBSTONE_HASH = ""  # a revoked credential whose issue has not arrived yet: no token hashes to it


def credentials_table(metadata: MetaData) -> Table:
    return Table(
        "credentials",
        metadata,
        Column("key_id", String(32), primary_key=True),
        Column("token_sha256", String(64), nullable=False),
        Column("account_id", UUID(as_uuid=True), nullable=False),
        Column("role", String(20), nullable=False),
        Column("unit", String(100), nullable=True),
        Column("member_id", UUID(as_uuid=True), nullable=True),
        Column("issued_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=True),
        Column("revoked_at", DateTime(timezone=True), nullable=True),
    )


def new_token() -> tuple[str, str, str]:
    """A fresh credential: (key_id, token, sha256 of the token). Show the token once; store the hash."""
    key_id = secrets.token_hex(8)
    token = f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return key_id, token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    key_id: str
    account_id: uuid.UUID
    role: str
    unit: str | None
    member_id: uuid.UUID | None


class Authenticator:
    """FastAPI dependency factory bound to one service's credentials table."""

    def __init__(self, table: Table, sessions: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.table = table
        self.sessions = sessions

    async def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        parts = token.strip().split("_", 2)
        if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise _unauthorized()
        sessions = self.sessions or request.app.state.runtime.sessions
        async with sessions() as session:
            row = (await session.execute(select(self.table).where(self.table.c.key_id == parts[1]))).first()
        now = clock_of(request).now()
        if (
            row is None
            or not hmac.compare_digest(row.token_sha256, hash_token(token.strip()))
            or row.revoked_at is not None
            or (row.expires_at is not None and row.expires_at <= now)
        ):
            raise _unauthorized()
        return Principal(row.key_id, row.account_id, row.role, row.unit, row.member_id)

    def require(self, *roles: str):
        """Dependency: an authenticated principal with one of `roles` (any role when none given)."""
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {unknown}")

        async def dependency(request: Request) -> Principal:
            principal = await self.principal(request)
            if roles and principal.role not in roles:
                raise Forbidden("Your role may not do this.", "Vai trò của đồng chí không được làm việc này.")
            return principal

        return dependency

    async def on_issued(self, event: CredentialIssued, ctx: HandlerContext) -> None:
        """Store the credential; a revocation already recorded (a tombstone, see `on_revoked`) is kept."""
        values = event.model_dump(
            include={"key_id", "token_sha256", "account_id", "role", "unit", "member_id", "issued_at", "expires_at"}
        )
        await ctx.session.execute(
            insert(self.table).values(**values).on_conflict_do_update(index_elements=["key_id"], set_=values)
        )

    async def on_revoked(self, event: CredentialRevoked, ctx: HandlerContext) -> None:
        """Mark the credential revoked. If its `credential.issued` has not arrived yet (a replayed dead letter,
        two replicas), a tombstone row — revoked, with a hash no token has — takes its place, and the late
        `credential.issued` fills in the rest but never clears `revoked_at`: revocation cannot be undone by
        the order events arrive in."""
        tombstone = {
            "key_id": event.key_id,
            "token_sha256": TOMBSTONE_HASH,
            "account_id": uuid.UUID(int=0),
            "role": "revoked",
            "issued_at": event.revoked_at,
            "revoked_at": event.revoked_at,
        }
        revoked_at = func.least(func.coalesce(self.table.c.revoked_at, event.revoked_at), event.revoked_at)
        await ctx.session.execute(
            insert(self.table)
            .values(**tombstone)
            .on_conflict_do_update(index_elements=["key_id"], set_={"revoked_at": revoked_at})
        )


def clock_of(request: Request) -> Clock:
    """The service's injected clock (a test's `FakeClock`), so expiry is judged on the same time as the rest."""
    runtime = getattr(request.app.state, "runtime", None)
    clock: Clock = getattr(runtime, "clock", None) or SystemClock()
    return clock


def _unauthorized() -> Unauthorized:
    return Unauthorized(
        "Missing, unknown, expired or revoked credential.",
        "Chưa đăng nhập, hoặc thông tin đăng nhập không đúng, đã hết hạn hay đã bị thu hồi.",
        headers={"WWW-Authenticate": "Bearer"},
    )
