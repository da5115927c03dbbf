"""Intake throughput and latency: `POST /v1/cases` under closed-loop load on loopback, against the bare
reference (`bench.bare_intake`: FastAPI + asyncpg, same body validation, one case row and one outbox row in
one transaction), both as single uvicorn processes in the same scratch database.

Rounds alternate (bare, ours, bare, ours) after a warm-up of each; the round with the best throughput of
each side is reported, with its latencies.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from bench import intake_setup, profile
from bench.cpu import CpuMeter
from bench.load import LoadResult, run_load
from bench.options import Options
from bench.procs import LOG_DIR, BareIntake, rss_mib
from bench.results import RESULTS_DIR, Figure
from devtools.infra import REPO, scratch

CONNECTIONS = 32


def intake_built() -> bool:
    return (REPO / "services" / "intake" / "main.py").exists()


def bare_body() -> dict:
    """The same fields as intake's body, `__N__` replaced per request by the load generator."""
    body = intake_setup.case_body()
    return {k: body[k] for k in ("unit", "category", "urgency", "summary")}


@dataclass(frozen=True)
class Round:
    load: LoadResult
    server_cpu_ms: float  # CPU of the server process per request (its event loop, relay and workers included)
    postgres_cpu_ms: float  # CPU of PostgreSQL's backends of the benchmark's database per request


async def _round(url: str, body: dict, headers: dict[str, str], seconds: float, pid: int, database: str) -> Round:
    """One load round, with the CPU the server process and PostgreSQL spent on it (`/proc`): a single-process
    server is bound by its one core, so its throughput ratio is the inverse of its CPU-per-request ratio."""
    meter = CpuMeter({"server": pid}, database=database)
    meter.start()
    load = await run_load(url, "/v1/cases", body, headers, duration=seconds, connections=CONNECTIONS)
    cpu = meter.stop()
    per_request = 1000 / max(load.requests, 1)
    return Round(load, cpu.get("server", 0.0) * per_request, cpu.get("PostgreSQL", 0.0) * per_request)


async def run(opts: Options) -> list[Figure]:
    seconds = opts.seconds(full=12, quick=4)
    rounds = 1 if opts.quick else 2
    bare_results: list[Round] = []
    our_results: list[Round] = []
    rss: dict[str, float] = {}
    profiles: dict[str, dict] = {}
    async with scratch("intake") as res:
        from devtools.processes import ServiceProcess, free_port

        bare = BareIntake(res.pg_dsn, free_port())
        ours = None
        try:
            await bare.start()
            rss["bare idle"] = rss_mib(bare.process.pid)  # type: ignore[union-attr]
            if intake_built():
                env = await intake_setup.prepare(res)
                ours = ServiceProcess("intake", env, Path(LOG_DIR))
                ours.start()
                await ours.wait_ready()
                headers = await intake_setup.reporter_headers(res)
                rss["ours idle"] = rss_mib(ours.process.pid)  # type: ignore[union-attr]
                ours_pid = ours.process.pid  # type: ignore[union-attr]
                await _round(ours.url, intake_setup.case_body(), headers, 2, ours_pid, res.database)  # warm-up
            bare_pid = bare.process.pid  # type: ignore[union-attr]
            await _round(bare.url, bare_body(), {}, 2, bare_pid, res.database)
            for i in range(rounds):
                bare_results.append(await _round(bare.url, bare_body(), {}, seconds, bare_pid, res.database))
                if ours is not None:
                    spy = None
                    if i == rounds - 1:  # where intake's time goes, under the same load
                        spy = asyncio.create_task(
                            profile.record("intake", ours.process.pid, seconds - 1, "POST /v1/cases under load")  # type: ignore[union-attr]
                        )
                    our_results.append(
                        await _round(ours.url, intake_setup.case_body(), headers, seconds, ours_pid, res.database)
                    )
                    if spy is not None:
                        profiles["intake"] = await spy
            rss["bare loaded"] = rss_mib(bare.process.pid)  # type: ignore[union-attr]
            if ours is not None:
                rss["ours loaded"] = rss_mib(ours.process.pid)  # type: ignore[union-attr]
        finally:
            bare.stop()
            if ours is not None:
                ours.stop()
            await asyncio.sleep(0)
    if profiles:
        (RESULTS_DIR / "intake-profile.json").write_text(json.dumps(profiles, indent=2, ensure_ascii=False))
    best_bare = max(bare_results, key=lambda r: r.load.requests_per_s)
    best_ours = max(our_results, key=lambda r: r.load.requests_per_s) if our_results else None
    b, o = best_bare.load, best_ours and best_ours.load
    for side, result in (("bare", b), ("ours", o)):
        if result is not None and result.errors:
            raise RuntimeError(f"{side}: {result.errors} of {result.requests} requests failed")
    ref = f"bare FastAPI + asyncpg ({b.tool}, {CONNECTIONS} connections)"
    note = f"{seconds:.0f} s, best of {rounds}; target ratio ≥ 0.7" + ("" if o else "; intake not built yet")
    return [
        Figure(
            "intake", "intake POST /v1/cases throughput", "req/s", o and o.requests_per_s, b.requests_per_s, ref, note
        ),
        Figure("intake", "intake POST /v1/cases p50", "ms", o and o.p50_ms, b.p50_ms, ref),
        Figure("intake", "intake POST /v1/cases p99", "ms", o and o.p99_ms, b.p99_ms, ref, "target ratio ≤ 2"),
        Figure(
            "intake",
            "intake CPU per request: the server process",
            "ms",
            best_ours and best_ours.server_cpu_ms,
            best_bare.server_cpu_ms,
            "bare endpoint process",
            "the rounds above; ours relays its events too",
        ),
        Figure(
            "intake",
            "intake CPU per request: PostgreSQL",
            "ms",
            best_ours and best_ours.postgres_cpu_ms,
            best_bare.postgres_cpu_ms,
            "bare endpoint's statements",
        ),
        Figure("intake", "intake RSS idle", "MiB", rss.get("ours idle"), rss["bare idle"], "bare endpoint process"),
        Figure("intake", "intake RSS after load", "MiB", rss.get("ours loaded"), rss["bare loaded"], "bare process"),
    ]
