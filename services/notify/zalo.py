"""Zalo OA (DOMAIN.md §7): consultation messages and the access-token pair.

The refresh token is single-use, so refreshing is a critical section across replicas: lock the token row
(SELECT … FOR UPDATE), check nobody refreshed meanwhile, call Zalo, store the new pair, commit. A replica that
waited on the lock finds a new token and uses it instead of burning the refresh token a second time.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify import store
from services.notify.metrics import ZALO_TOKEN_REFRESHES
from services.notify.settings import NotifySettings
from services.notify.zalo_http import LightHttp
from shared.clock import Clock

log = logging.getLogger(__name__)

# The token row is read at most this often (it was one query per message). A token another replica replaced
# meanwhile is answered -216/-220, and `refresh` then finds the new one in the row: one extra call, no harm.
TOKEN_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class ZaloOutcome:
    code: int | None  # Zalo's `error` (0 = accepted); None when the call itself failed (network, HTTP status)
    detail: str
    message_id: str | None = None


class ZaloClient:
    def __init__(
        self,
        settings: NotifySettings,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.http = http
        self.clock = clock
        self._cached: tuple[float, tuple[str, datetime | None] | None] | None = None
        self._message_url = f"{settings.zalo_api_base.rstrip('/')}/v3.0/oa/message/cs"
        self._message_path = urlsplit(self._message_url).path
        # Messages go through the light client unless a proxy applies (see zalo_http.py); the refresh uses httpx.
        self.light = LightHttp.for_url(self._message_url, settings.zalo_timeout)

    async def aclose(self) -> None:
        if self.light is not None:
            await self.light.aclose()

    async def seed(self) -> None:
        """Store the pair from the environment the first time; afterwards the table is the truth."""
        if not self.settings.zalo_configured():
            return
        async with self.sessions() as session, session.begin():
            await session.execute(
                insert(store.zalo_tokens)
                .values(
                    id=1,
                    access_token=self.settings.zalo_access_token,
                    refresh_token=self.settings.zalo_refresh_token,
                    expires_at=None,
                )
                .on_conflict_do_nothing()
            )

    async def _token(self) -> tuple[str, datetime | None] | None:
        if self._cached is not None and time.monotonic() - self._cached[0] < TOKEN_CACHE_SECONDS:
            return self._cached[1]
        async with self.sessions() as session:
            row = (await session.execute(select(store.zalo_tokens).where(store.zalo_tokens.c.id == 1))).first()
        token = (row.access_token, row.expires_at) if row else None
        self._cached = (time.monotonic(), token)
        return token

    async def refresh(self, stale: str) -> str | None:
        """A fresh access token, refreshing it unless another replica already replaced `stale`."""
        t = store.zalo_tokens
        self._cached = None
        async with self.sessions() as session, session.begin():
            row = (await session.execute(select(t).where(t.c.id == 1).with_for_update())).first()
            if row is None:
                return None
            if row.access_token != stale:
                ZALO_TOKEN_REFRESHES.labels("reused").inc()
                return str(row.access_token)
            try:
                response = await self.http.post(
                    f"{self.settings.zalo_oauth_base.rstrip('/')}/v4/oa/access_token",
                    data={
                        "refresh_token": row.refresh_token,
                        "app_id": self.settings.zalo_app_id,
                        "grant_type": "refresh_token",
                    },
                    headers={"secret_key": self.settings.zalo_app_secret},
                    timeout=self.settings.zalo_timeout,
                )
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                ZALO_TOKEN_REFRESHES.labels("error").inc()
                log.warning("Zalo token refresh failed: %r", exc)
                return None
            if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
                ZALO_TOKEN_REFRESHES.labels("refused").inc()
                log.error("Zalo refused the token refresh: %s", {k: body.get(k) for k in ("error", "error_name")})
                return None
            expires_in = int(str(body.get("expires_in") or "90000"))  # a string on the wire
            await session.execute(
                t.update()
                .where(t.c.id == 1)
                .values(
                    access_token=body["access_token"],
                    refresh_token=body["refresh_token"],
                    expires_at=self.clock.now() + timedelta(seconds=expires_in),
                    generation=t.c.generation + 1,
                    refreshed_at=self.clock.now(),
                )
            )
            ZALO_TOKEN_REFRESHES.labels("ok").inc()
            log.info("Zalo access token refreshed (expires in %ss)", expires_in)
            return str(body["access_token"])

    async def send(self, user_id: str, text: str) -> ZaloOutcome:
        current = await self._token()
        if current is None:
            return ZaloOutcome(None, "zalo_not_configured")
        token, expires_at = current
        margin = timedelta(seconds=self.settings.zalo_refresh_margin_seconds)
        if expires_at is not None and expires_at - self.clock.now() <= margin:
            token = await self.refresh(token) or token
        outcome = await self._post(token, user_id, text)
        if outcome.code in (-216, -220):
            fresh = await self.refresh(token)
            if fresh is not None:
                outcome = await self._post(fresh, user_id, text)
        return outcome

    async def _post(self, token: str, user_id: str, text: str) -> ZaloOutcome:
        payload = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        try:
            if self.light is not None:
                status, content = await self.light.post_json(self._message_path, payload, {"access_token": token})
            else:
                response = await self.http.post(
                    self._message_url, json=payload, headers={"access_token": token}, timeout=self.settings.zalo_timeout
                )
                status, content = response.status_code, response.content
        except (httpx.HTTPError, OSError, TimeoutError, ValueError) as exc:
            return ZaloOutcome(None, f"{type(exc).__name__}: {exc}"[:300])
        if status != 200:
            return ZaloOutcome(None, f"HTTP {status}")
        try:
            body = json.loads(content)
            code = int(body.get("error", -1))
        except (ValueError, AttributeError, TypeError):
            return ZaloOutcome(None, "unreadable answer")
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        return ZaloOutcome(code, str(body.get("message", ""))[:300], data.get("message_id"))
