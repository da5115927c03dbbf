"""Two replicas of every service against one PostgreSQL and one RabbitMQ; cases are posted through both
intakes, and halfway through one replica of each service goes away (intake, routing and reporting killed
with SIGKILL, as when a machine is lost; notify stopped with SIGTERM, as when a node is drained: a SIGKILL
of notify may repeat the messages it had handed to the provider but not yet recorded, the window
tests/notify/test_kill_mid_send.py measures). Counted at the end: every case posted is assigned exactly once,
every member routing chose is told exactly once by email and once by Zalo, and the monthly figures count
every case once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest

from devtools.processes import ServiceGroup
from devtools.system import (
    CATEGORY,
    CHILD,
    CODE_PATTERN,
    REPORTER_UNIT,
    SUMMARY,
    RunningSystem,
    running_system,
)
from devtools.tap import email_recipients, zalo_recipients
from devtools.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.fault]

CASES = 40
BATCH = 4


async def test_two_replicas_of_everything_lose_one_each_mid_run_and_nothing_is_lost_or_doubled(
    base_env: dict[str, str], tmp_path: Path
):
    async with running_system(base_env, tmp_path / "logs") as system:
        second = ServiceGroup(system.env, tmp_path / "logs-second")
        await second.start()
        try:
            await _run(system, second)
        finally:
            await asyncio.to_thread(second.stop)
            print(second.tails(30))


async def _run(system: RunningSystem, second: ServiceGroup) -> None:
    first = system.services
    period = system.local_month()
    async with httpx.AsyncClient(timeout=15) as client:
        before = await system.monthly_total(client, period)
        intakes = [first.url("intake"), second.url("intake")]
        codes: list[str] = []
        for start in range(0, CASES, BATCH):
            if start == CASES // 2:  # halfway: one replica of each service goes away
                second["intake"].kill()
                first["routing"].kill()
                await asyncio.to_thread(second["notify"].stop)
                first["reporting"].kill()
                intakes = [first.url("intake")]
            posted = await asyncio.gather(
                *(_post(client, system, intakes[i % len(intakes)]) for i in range(start, start + BATCH))
            )
            codes.extend(posted)

        waiting: dict[str, object] = {}

        async def everyone_told() -> bool:
            assigned = system.tap.assigned_by_case()
            emails, zalo = _emails(system), _zalo(system)
            waiting.clear()
            for code in codes:
                if code not in assigned:
                    waiting[code] = "not assigned"
                    continue
                no_email = email_recipients(assigned[code][0]) - {to for to, c in emails if c == code}
                no_zalo = zalo_recipients(assigned[code][0]) - {user for user, c in zalo if c == code}
                if no_email or no_zalo:
                    waiting[code] = {"email": sorted(no_email), "zalo": sorted(no_zalo)}
            return not waiting

        try:
            await eventually(everyone_told, timeout=180, interval=0.5)
        except AssertionError:
            raise AssertionError(f"{len(waiting)} cases still waiting: {dict(list(waiting.items())[:5])}") from None
        await asyncio.sleep(3)  # anything sent twice would arrive now

        assigned = system.tap.assigned_by_case()
        assert len(set(codes)) == CASES
        assert {code: len(assigned[code]) for code in codes} == dict.fromkeys(codes, 1), "each case assigned once"
        emails, zalo = _emails(system), _zalo(system)
        expected_emails = Counter((to, code) for code in codes for to in email_recipients(assigned[code][0]))
        expected_zalo = Counter((user, code) for code in codes for user in zalo_recipients(assigned[code][0]))
        assert emails == expected_emails, "every member emailed once about each case"
        assert zalo == expected_zalo, "every member messaged on Zalo once about each case"

        async def counted() -> bool:  # by the reporting replica still running
            response = await client.get(
                f"{second.url('reporting')}/v1/reports/monthly", params={"period": period}, headers=system.committee
            )
            return response.status_code == 200 and int(response.json()["total"]) == before + CASES

        await eventually(counted, timeout=60)
        survivors = [first["intake"], second["routing"], first["notify"], second["reporting"]]
        assert all(s.running for s in survivors), "the surviving replicas kept running"
        print(
            f"replicas: {CASES} cases through 2 intakes, one replica of each service lost at case {CASES // 2}; "
            f"{len(codes)} assigned once each, {sum(emails.values())} emails and {sum(zalo.values())} Zalo "
            f"messages, none twice"
        )


async def _post(client: httpx.AsyncClient, system: RunningSystem, intake: str) -> str:
    body = {
        "unit": REPORTER_UNIT,
        "category": CATEGORY,
        "urgency": "critical",  # told at once at any hour (quiet hours defer the others)
        "summary": SUMMARY,
        "child": CHILD,
        "consent": {"child": system.consent(), "guardian": system.consent()},
    }
    response = await client.post(f"{intake}/v1/cases", json=body, headers=system.reporter)
    assert response.status_code == 201, f"{intake}: {response.status_code} {response.text}"
    return str(response.json()["code"])


def _emails(system: RunningSystem) -> Counter[tuple[str, str]]:
    """(recipient, case code) → emails."""
    return Counter({key: n for key, n in system.email_counts().items() if n})


def _zalo(system: RunningSystem) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for message in list(system.zalo.messages):
        for code in set(CODE_PATTERN.findall(str(message.get("text", "")))):
            counts[(message["user_id"], code)] += 1
    return counts
