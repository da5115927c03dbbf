"""Sessions: a random cookie value opens a row of `web.sessions` that holds the person's intake session
token encrypted (AES-256-GCM keyed from WEB_SESSION_KEY, the row id as associated data); CSRF tokens are an
HMAC of a per-browser nonce under a key derived from the same secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.web import store
from services.web.domain import Lifetime

SESSION_COOKIE = "cn_session"
CSRF_COOKIE = "cn_csrf"
CSRF_FIELD = "csrf"


def _derive(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


class Keys:
    def __init__(self, secret: str) -> None:
        self.aead = AESGCM(_derive(secret, "web-session-token"))
        self.csrf = _derive(secret, "web-csrf")

    def seal(self, token: str, session_id: str) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self.aead.encrypt(nonce, token.encode(), session_id.encode())).decode()

    def open(self, sealed: str, session_id: str) -> str:
        raw = base64.b64decode(sealed)
        return self.aead.decrypt(raw[:12], raw[12:], session_id.encode()).decode()

    def csrf_token(self, nonce: str) -> str:
        return hmac.new(self.csrf, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, nonce: str | None, given: str | None) -> bool:
        if not nonce or not given:
            return False
        return hmac.compare_digest(self.csrf_token(nonce), given)


def session_id(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def new_cookie() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Session:
    id: str
    token: str
    account: dict[str, Any]
    created_at: datetime

    @property
    def role(self) -> str:
        return str(self.account.get("role", ""))

    @property
    def unit(self) -> str | None:
        return self.account.get("unit")

    @property
    def name(self) -> str:
        return str(self.account.get("name", ""))


async def start(
    db: AsyncSession,
    keys: Keys,
    lifetime: Lifetime,
    *,
    token: str,
    account: dict[str, Any],
    token_expires_at: datetime | None,
    now: datetime,
) -> str:
    """Store a new session; returns the cookie value (shown to the browser only)."""
    cookie = new_cookie()
    sid = session_id(cookie)
    await db.execute(
        store.sessions.insert().values(
            id=sid,
            token=keys.seal(token, sid),
            account=account,
            created_at=now,
            last_seen_at=now,
            expires_at=lifetime.expires_at(now, token_expires_at),
        )
    )
    return cookie


async def load(db: AsyncSession, keys: Keys, lifetime: Lifetime, cookie: str | None, now: datetime) -> Session | None:
    """The live session for a cookie (touching its last use), or None; an ended one is deleted."""
    if not cookie or len(cookie) > 100:
        return None
    sid = session_id(cookie)
    s = store.sessions.c
    row = (await db.execute(select(store.sessions).where(s.id == sid))).first()
    if row is None:
        return None
    if not lifetime.alive(now, row.last_seen_at, row.expires_at):
        await db.execute(delete(store.sessions).where(s.id == sid))
        return None
    await db.execute(update(store.sessions).where(s.id == sid).values(last_seen_at=now))
    return Session(id=sid, token=keys.open(row.token, sid), account=dict(row.account), created_at=row.created_at)


async def end(db: AsyncSession, sid: str) -> None:
    await db.execute(delete(store.sessions).where(store.sessions.c.id == sid))


async def sweep(db: AsyncSession, lifetime: Lifetime, now: datetime) -> int:
    """Delete sessions past their absolute end or idle too long."""
    s = store.sessions.c
    result = await db.execute(
        delete(store.sessions).where((s.expires_at <= now) | (s.last_seen_at <= now - lifetime.idle))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
