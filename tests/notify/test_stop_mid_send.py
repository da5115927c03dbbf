"""Stop notify (SIGTERM, as when a node is drained) while it sends, with its outcome recorder full, and
start it again: a clean stop finishes what it handed to SMTP, records it and exits, so nothing is sent twice
(the companion of test_kill_mid_send.py, where a SIGKILL may repeat what was in flight).

The recorder's back-pressure is what made this hang: the deliveries in flight waited for the recorder to
make room, and stopping the dispatcher had cancelled the recorder with the rest of its workers.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from devtools.mailsink import free_port
from devtools.waiting import eventually
from services.notify.main import create_app
from tests.notify.conftest import (
    case_assigned,
    deliveries,
    holds,
    member,
    notify_env,
    publish,
    ready,
    settings_from,
    start_notify,
)
from tests.support.asgi import running

CASES = 60
CONCURRENCY = 4
RECORD_BATCH = 2  # small, so the senders wait on the recorder (back-pressure) while they are stopped


async def test_sigterm_mid_batch_exits_promptly_gives_back_its_queue_and_sends_nothing_twice(
    base_env, smtp, zalo, tmp_path: Path, database_url: str
):
    smtp.delay = 0.05
    env = notify_env(
        base_env,
        smtp,
        zalo,
        NOTIFY_CONCURRENCY=str(CONCURRENCY),
        NOTIFY_BATCH_SIZE="8",
        NOTIFY_RECORD_BATCH=str(RECORD_BATCH),
        NOTIFY_RECORD_INTERVAL="0.5",
        NOTIFY_SEND_LEASE_SECONDS="120",  # longer than the wait below: only a give-back lets the rows go again
    )
    port = free_port()
    log_path = tmp_path / "notify.log"
    with log_path.open("ab") as log:
        process = start_notify(env, port, log)
    try:
        await eventually(lambda: ready(port), timeout=30)
        await publish(env, *[case_assigned(member(f"Thành viên {i}", email=f"m{i}@x.vn")) for i in range(CASES)])
        await eventually(holds(lambda: len(smtp.messages) >= CASES // 4), timeout=30)
        process.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        try:
            code = await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no stop within 15 s of SIGTERM:\n{log_path.read_text()[-3000:]}") from None
        took = time.monotonic() - stopped_at
        at_stop = len(smtp.messages)
        with log_path.open("ab") as log:
            process = start_notify(env, port, log)
        await eventually(holds(lambda: len(set(smtp.message_ids())) == CASES), timeout=45)
        await asyncio.sleep(1.0)  # anything sent twice arrives now
    finally:
        process.kill()
        process.wait(timeout=10)
    duplicates = sum(n - 1 for n in Counter(smtp.message_ids()).values())
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT status, attempts FROM notify.deliveries"))).all()
    finally:
        await engine.dispose()
    given_back = re.search(r"gave back (\d+) claimed deliveries", log_path.read_text())
    print(
        f"\nstop-mid-send: stopped after {at_stop} of {CASES} emails in {took:.1f}s (exit {code}), "
        f"{given_back[1] if given_back else 0} claimed rows given back; duplicates={duplicates}"
    )
    assert given_back, "the stop came with claimed rows queued (the test's premise)"
    assert Counter(rows) == {("sent", 1): CASES}, "each sent at its first attempt: a given-back row's is not counted"
    # uvicorn handles SIGTERM, shuts down, then raises the signal again: a clean stop exits by it, not by SIGKILL
    assert code in (0, -signal.SIGTERM), log_path.read_text()[-3000:]
    assert "notify stopped" in log_path.read_text()
    assert duplicates == 0


async def test_a_stop_during_a_claim_lets_the_claim_finish_and_gives_its_rows_back(base_env, smtp, zalo):
    """The claim commits its leases before the rows reach this process: stopping then must not drop them (they
    would wait for their lease to run out, two minutes, while another replica could send them)."""
    smtp.delay = 0.05
    env = notify_env(
        base_env, smtp, zalo, NOTIFY_CONCURRENCY="2", NOTIFY_BATCH_SIZE="4", NOTIFY_SEND_LEASE_SECONDS="120"
    )
    app = create_app(settings_from(env))
    in_claim = asyncio.Event()
    async with running(app):
        dispatcher = await eventually(holds(lambda: app.state.runtime.extras.get("dispatcher")))
        claim = dispatcher.claim

        async def slow_claim(limit: int) -> list[Any]:
            rows = await claim(limit)
            if rows and len(smtp.messages) >= 4:
                in_claim.set()
                await asyncio.sleep(1.0)  # committed, the answer still on its way
            return rows

        dispatcher.claim = slow_claim
        await publish(env, *[case_assigned(member(f"Thành viên {i}", email=f"m{i}@x.vn")) for i in range(30)])
        await asyncio.wait_for(in_claim.wait(), 30)
    # stopped while the claim slept
    left = await deliveries(app.state.runtime.sessions, status="sending")
    assert left == [], f"{len(left)} rows left leased by a stopped process"
