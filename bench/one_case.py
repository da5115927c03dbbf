"""End-to-end time of one case: from `POST /v1/cases` answered 201 to the first email at the SMTP server.

`python -m bench.one_case [--cases 50]` starts the system exactly as the end-to-end tests do (four real
service processes, aiosmtpd, the Zalo stub, a fresh database and vhost on the local servers), posts the
cases one at a time (each waits for its email before the next is posted), and prints the median and the
worst time, and the same for the last of the case's emails.
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
from devtools.system import RunningSystem, email_to, running_system
from devtools.tap import email_recipients


async def measure(cases: int, log_dir: Path) -> tuple[list[float], list[float]]:
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
            first, last = [], []
            for _ in range(cases):
                created = await system.post_case(client)
                accepted = time.perf_counter()
                got_first, got_all = await _first_email(system, created["code"], within=60)
                first.append(got_first - accepted)
                last.append(got_all - accepted)
            return first, last
    finally:
        await asyncio.to_thread(infra.delete_vhost, vhost)
        await asyncio.to_thread(infra.drop_database, database)


async def _first_email(system: RunningSystem, code: str, *, within: float) -> tuple[float, float]:
    """Times at which the first email, and every assigned member's email, arrived (polling every 2 ms)."""
    deadline = time.perf_counter() + within
    first: float | None = None
    while time.perf_counter() < deadline:
        messages = system.emails_for(code)
        now = time.perf_counter()
        if messages and first is None:
            first = now
        assigned = system.tap.assigned_by_case().get(code)
        if first is not None and assigned:
            expected = email_recipients(assigned[0])
            if {to for m in messages for to in email_to(m)} >= expected:
                return first, now
        await asyncio.sleep(0.002)
    raise TimeoutError(f"no email for {code} within {within}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="caunoi-bench-") as tmp:
        first, last = asyncio.run(measure(args.cases, Path(tmp)))
    print(f"{len(first)} cases, one at a time, POST accepted → email received at the SMTP server")
    print(f"  first email: median {statistics.median(first) * 1000:.0f} ms, worst {max(first) * 1000:.0f} ms")
    print(f"  all emails:  median {statistics.median(last) * 1000:.0f} ms, worst {max(last) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
