"""Authentication with a small in-process cache of credential rows, keyed by key id.

The credential lookup was a database round trip (and a pool checkout) on every request. The cache keeps
the row — hash, expiry, revocation — for at most `CREDENTIAL_CACHE_TTL_SECONDS` (default 5, never more).
The token itself is still compared with the stored hash and the expiry with the service's injected clock
(`runtime.clock`) on every request.

Revocation bound: a revoked credential is refused
- at once when revoked through this process (the admin API calls `forget(key_id)` after its commit);
- as soon as the `intake_credentials` notification arrives (a trigger on `credentials`), normally
  milliseconds, for revocations by the CLI or another process;
- in any case within the TTL (≤ 5 s), should a notification be lost.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from fastapi import Request
from sqlalchemy import Table, select

from shared.auth import TOKEN_PREFIX, Authenticator, Principal, _unauthorized, clock_of, hash_token

MAX_TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


class CachingAuthenticator(Authenticator):
    def __init__(self, table: Table, ttl_seconds: float = MAX_TTL_SECONDS) -> None:
        super().__init__(table)
        self.ttl = min(ttl_seconds, MAX_TTL_SECONDS)
        self._rows: dict[str, tuple[float, Any]] = {}  # key_id → (fetched at, row or None)
        self._generation = 0

    def forget(self, key_id: str | None = None) -> None:
        """Drop one credential (or all, with None) so the next request reads it again."""
        self._generation += 1
        if key_id is None:
            self._rows.clear()
        else:
            self._rows.pop(key_id, None)

    async def _row(self, request: Request, key_id: str) -> Any:
        cached = self._rows.get(key_id)
        if cached is not None and time.monotonic() - cached[0] <= self.ttl:
            return cached[1]
        generation = self._generation
        async with request.app.state.runtime.sessions() as session:
            row = (await session.execute(select(self.table).where(self.table.c.key_id == key_id))).first()
        if row is not None and generation == self._generation:  # unknown ids are not cached: no flooding
            if len(self._rows) >= MAX_ENTRIES:
                self._rows.clear()
            self._rows[key_id] = (time.monotonic(), row)
        return row

    async def principal(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        parts = token.split("_", 2)
        if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise _unauthorized()
        row = await self._row(request, parts[1])
        if (
            row is None
            or not hmac.compare_digest(row.token_sha256, hash_token(token))
            or row.revoked_at is not None
            or (row.expires_at is not None and row.expires_at <= clock_of(request).now())
        ):
            raise _unauthorized()
        return Principal(row.key_id, row.account_id, row.role, row.unit, row.member_id)
