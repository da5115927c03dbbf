"""The limit on anonymous counseling requests: per client, and for everyone together (a global cap, so a flood
from many addresses cannot bury the members), counted in PostgreSQL so every replica counts the same
attempts (table `counseling_attempts`, sliding window).

The client is the connecting address, or — when that address is a trusted proxy (TRUSTED_PROXIES) — the
nearest address in `X-Forwarded-For` that is not a trusted proxy (a client cannot choose its bucket by
sending the header itself). IPv6 clients are counted by /64, the block one subscriber usually holds.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
GLOBAL = "*"


def parse_networks(spec: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def bucket_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def client_bucket(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    """The bucket a request is counted in (see the module doc)."""
    address = _ip(peer or "")
    if address is None:
        return "unknown"
    if forwarded_for and any(address in network for network in trusted):
        for hop in reversed(forwarded_for.split(",")):
            candidate = _ip(hop)
            if candidate is None:
                break  # a malformed hop: stop trusting the header there
            address = candidate
            if not any(candidate in network for network in trusted):
                break
    return bucket_of(address)


@dataclass(frozen=True)
class CounselingLimiter:
    limit: int  # per client bucket, per window
    window: timedelta
    global_limit: int  # everyone together, per window
    trusted: tuple[Network, ...] = ()

    async def take(self, session: AsyncSession, bucket: str, now: datetime) -> tuple[bool, int]:
        """Count one attempt of `bucket` at `now` unless it is over its limit or the global cap: (allowed,
        seconds to wait). A refused attempt is not counted. Serialised across replicas (advisory lock)."""
        a = store.counseling_attempts.c
        since = now - self.window
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('intake:counseling-limit'))"))
        await session.execute(delete(store.counseling_attempts).where(a.at < since - self.window))
        for scope, limit in ((bucket, self.limit), (GLOBAL, self.global_limit)):
            where = [a.at > since] if scope == GLOBAL else [a.at > since, a.bucket == scope]
            count, oldest = (await session.execute(select(func.count(), func.min(a.at)).where(*where))).one()
            if count >= limit:
                wait = (oldest + self.window - now).total_seconds() if oldest else self.window.total_seconds()
                return False, max(1, int(wait) + 1)
        await session.execute(store.counseling_attempts.insert().values(at=now, bucket=bucket))
        return True, 0
