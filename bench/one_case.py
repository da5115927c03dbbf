"""End-to-end time of one case: from `POST /v1/cases` answered 201 to the first email at the SMTP server.

`python -m bench.one_case [--cases 50]` starts the system exactly as the end-to-end tests do (four real
service processes, aiosmtpd, the Zalo stub, a fresh database and vhost on the local servers), posts the
cases one at a time (each waits for its email before the next is posted), and prints the median and the
worst time, and the same for the last of the case's emails.

With `--stages` it also prints where each case's time went, from PostgreSQL's transaction start times
(`now()`: an outbox row's `created_at` and `published_at`, an inbox row's `received_at`) and the envelopes'
`occurred_at` (the services' clocks, shifted back by their offset), one line per stage: the median of each.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from devtools import infra
from devtools.system import RunningSystem, email_text, email_to, running_system
from devtools.tap import email_recipients


async def measure(
    cases: int, log_dir: Path, stages: dict[str, list[float]] | None = None
) -> tuple[list[float], list[float]]:
    database = infra.unique("caunoi_bench")
    vhost = infra.unique("caunoi-bench")
    # infra's helpers run their own event loop: call them from a thread.
    await asyncio.to_thread(infra.create_database, database)
    amqp_url = await asyncio.to_thread(infra.create_vhost, vhost)
    try:
        await asyncio.to_thread(infra.migrate_all, infra.sqlalchemy_url(database))
        base_env = {
            "DATABASE_URL": infra.sqlalchemy_url(database),
            "RABBITMQ_URL": amqp_url,
            "BROKER_NAMESPACE": infra.unique("bench"),
            "OUTBOX_POLL_INTERVAL": "1.0",
        }
        system_running = running_system(base_env, log_dir, show_logs=False)
        async with system_running as system, httpx.AsyncClient(timeout=30) as client:
            await system.post_case(client)  # warm-up: connections, caches, first-use imports
            await _first_email(system, system.codes[-1], within=60)
            await asyncio.sleep(1)  # the warm-up's Zalo messages and outcomes are done
            first, last = [], []
            for _ in range(cases):
                since = len(system.smtp.messages)
                created = await system.post_case(client)
                accepted = time.perf_counter()
                wall_accepted = time.time()
                got_first, got_all = await _first_email(system, created["code"], within=60, since=since)
                first.append(got_first - accepted)
                last.append(got_all - accepted)
                if stages is not None:
                    email_at = wall_accepted + (got_first - accepted)
                    await _stages(system, created["code"], wall_accepted, email_at, stages)
            return first, last
    finally:
        await asyncio.to_thread(infra.delete_vhost, vhost)
        await asyncio.to_thread(infra.drop_database, database)


async def _first_email(system: RunningSystem, code: str, *, within: float, since: int = 0) -> tuple[float, float]:
    """Times (`time.perf_counter()`) at which the first email, and every assigned member's email, arrived at the
    SMTP server (its own arrival times; polled every 2 ms, each message read once)."""
    deadline = time.perf_counter() + within
    messages = system.smtp.messages
    shift = time.perf_counter() - time.monotonic()  # the sink times arrivals with time.monotonic()
    first: float | None = None
    seen: set[str] = set()
    checked = since  # messages before it belong to earlier cases
    while time.perf_counter() < deadline:
        arrived = len(messages)  # the sink appends from its own thread
        for i in range(checked, arrived):
            if code in email_text(messages[i]):
                first = messages.times[i] + shift if first is None else first
                seen.update(email_to(messages[i]))
        checked = arrived
        assigned = system.tap.assigned_by_case().get(code)
        if first is not None and assigned and seen >= email_recipients(assigned[0]):
            return first, messages.times[checked - 1] + shift
        await asyncio.sleep(0.002)
    raise TimeoutError(f"no email for {code} within {within}s")


async def _stages(
    system: RunningSystem, code: str, accepted: float, email_at: float, into: dict[str, list[float]]
) -> None:
    """Add one case's moments (ms after the 201) to `into`, by stage."""
    import asyncpg

    from shared.db import asyncpg_dsn

    offset = system.clock.offset.total_seconds()
    reported = next(e for e in system.tap.of_type("case.reported") if e.payload.get("code") == code)
    assigned = system.tap.assigned_by_case()[code][0]
    conn = await asyncpg.connect(asyncpg_dsn(system.env["DATABASE_URL"]))
    try:
        intake = await conn.fetchrow(
            "SELECT created_at, published_at FROM intake.outbox WHERE event_id = $1", reported.event_id
        )
        routing_in = await conn.fetchval("SELECT received_at FROM routing.inbox WHERE event_id = $1", reported.event_id)
        routing = await conn.fetchrow(
            "SELECT created_at, published_at FROM routing.outbox WHERE event_id = $1", assigned.event_id
        )
        notify_in = await conn.fetchval("SELECT received_at FROM notify.inbox WHERE event_id = $1", assigned.event_id)
    finally:
        await conn.close()
    moments = {
        "intake: POST transaction began": intake["created_at"].timestamp(),
        "intake: case.reported occurred_at": reported.occurred_at.timestamp() - offset,
        "201 received by the client": accepted,
        "intake relay: claim transaction began": intake["published_at"].timestamp(),
        "routing consumer: transaction began": routing_in.timestamp(),
        "routing assigner: transaction began (occurred_at)": assigned.occurred_at.timestamp() - offset,
        "routing relay: claim transaction began": routing["published_at"].timestamp(),
        "notify consumer: transaction began": notify_in.timestamp(),
        "first email at the SMTP server": email_at,
    }
    for name, at in moments.items():
        into.setdefault(name, []).append((at - accepted) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--stages", action="store_true", help="also print when each stage began (median)")
    args = parser.parse_args()
    stages: dict[str, list[float]] | None = {} if args.stages else None
    with tempfile.TemporaryDirectory(prefix="caunoi-bench-") as tmp:
        first, last = asyncio.run(measure(args.cases, Path(tmp), stages))
    print(f"{len(first)} cases, one at a time, POST accepted → email received at the SMTP server")
    print(f"  first email: median {statistics.median(first) * 1000:.0f} ms, worst {max(first) * 1000:.0f} ms")
    print(f"  all emails:  median {statistics.median(last) * 1000:.0f} ms, worst {max(last) * 1000:.0f} ms")
    if stages:
        print("stages, ms after the 201 (median, p90):")
        for name, values in stages.items():
            ordered = sorted(values)
            p90 = ordered[int(0.9 * (len(ordered) - 1))]
            print(f"  {statistics.median(values):7.1f} {p90:7.1f}  {name}")


if __name__ == "__main__":
    main()
