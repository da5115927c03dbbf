"""What a run was asked to do, and the benchmarks it can choose from (in the order they run)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

BENCHMARKS = {
    # Reports first: a report takes a few milliseconds, so its p95 is one busy moment, and the load steps after
    # them leave PostgreSQL checkpointing and vacuuming for minutes (the month's p95 ratio was 0.53 after them,
    # 0.33 before them, on the same commit).
    "reports": "monthly, annual and 5-year reports with 1,000,000 cases",
    "relay": "outbox relay throughput vs raw aio-pika with confirms",
    "intake": "POST /v1/cases throughput and latency vs a bare FastAPI + asyncpg endpoint",
    "e2e": "POST accepted -> email and Zalo received at 10, 50, 200 cases/s; footprint; profile of the slowest hop",
}


@dataclass(frozen=True)
class Options:
    only: tuple[str, ...] = tuple(BENCHMARKS)
    quick: bool = False
    write: bool = False
    duration: float | None = None
    cases: int | None = None
    rates: tuple[int, ...] = ()  # e2e steps in cases/s (default 10, 50, 200)
    service_env: tuple[tuple[str, str], ...] = ()  # extra settings for the e2e services (--env KEY=VALUE)
    replicas: int = 1  # e2e: instances of every service (the second and later ones beside the first)
    at: datetime | None = None  # the instant the e2e system lives at (default: the e2e tests' weekday morning)

    def seconds(self, full: float, quick: float) -> float:
        """Duration of one load step: --duration if given, else the quick or the full default."""
        if self.duration is not None:
            return self.duration
        return quick if self.quick else full
