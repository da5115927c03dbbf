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

import asyncio
import hmac
import time
from typing import Any

from fastapi import Request
from sqlalchemy import Table, bindparam, select

from shared.auth import TOKEN_PREFIX, Authenticator, Principal, _unauthorized, clock_of, hash_token

MAX_TTL_SECONDS = 5.0
MAX_ENTRIES = 10_000


class CachingAuthenticator(Authenticator):
    def __init__(self, table: Table, ttl_seconds: float = MAX_TTL_SECONDS) -> None:
        super().__init__(table)
        self.ttl = min(ttl_seconds, MAX_TTL_SECONDS)
        self._rows: dict[str, tuple[float, Any]] = {}  # key_id → (fetched at, row or None)
        self._reads: dict[str, asyncio.Future[Any]] = {}  # key_id → the read in flight
        self._generation = 0
        self._select = select(table).where(table.c.key_id == bindparam("key_id"))  # built once

    def forget(self, key_id: str | None = None) -> None:
        """Drop one credential (or all, with None) so the next request reads it again."""
        self._generation += 1
        if key_id is None:
            self._rows.clear()
            self._reads.clear()
        else:
            self._rows.pop(key_id, None)
            self._reads.pop(key_id, None)

    async def _row(self, request: Request, key_id: str) -> Any:
        cached = self._rows.get(key_id)
        if cached is not None and time.monotonic() - cached[0] <= self.ttl:
            return cached[1]
        # One read per credential at a time: the requests that miss meanwhile (every request in flight when the
        # entry expires, under load) wait for it instead of each reading the row. A read that `forget` drops
        # serves only the requests that came before the forgetting.
        read = self._reads.get(key_id)
        if read is None:
            read = asyncio.ensure_future(self._read(request, key_id))
            self._reads[key_id] = read
            read.add_done_callback(lambda done: self._read_done(key_id, done))
        return await asyncio.shield(read)  # a request that goes away does not cancel the others' read

    def _read_done(self, key_id: str, read: asyncio.Future[Any]) -> None:
        if self._reads.get(key_id) is read:
            del self._reads[key_id]
        if not read.cancelled():
            read.exception()  # each waiting request has raised it; nothing left unretrieved

    async def _read(self, request: Request, key_id: str) -> Any:
        generation = self._generation
        async with request.app.state.runtime.sessions() as session:
            row = (await session.execute(self._select, {"key_id": key_id})).first()
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
