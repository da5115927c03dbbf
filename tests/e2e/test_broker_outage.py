"""Losing the broker while cases are being reported loses nothing and doubles nothing.

Every service reaches RabbitMQ through a TCP proxy. While 200 cases are posted, the proxy drops every
connection and refuses new ones for a few seconds, twice. Intake keeps accepting cases (they wait in
its outbox); afterwards every case is assigned exactly once and each assigned member got exactly one
email and one Zalo message per case.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
import pytest

from devtools.system import CODE_PATTERN, RunningSystem
from devtools.tap import email_recipients, zalo_recipients
from devtools.waiting import eventually
from tests.e2e.observe import dead_letters, settled

pytestmark = [pytest.mark.e2e, pytest.mark.fault]

CASES = 200
CUTS = {30: 4.0, 120: 4.0}  # after this many cases were posted: cut the broker for that many seconds
CATEGORIES = (("violence_physical", "high"), ("neglect", "medium"), ("school_violence", "high"))


async def test_two_broker_outages_while_200_cases_are_posted_lose_and_double_nothing(
    system_behind_proxy: RunningSystem,
):
    system = system_behind_proxy
    assert system.proxy is not None
    async with httpx.AsyncClient(timeout=30) as client:
        started = time.monotonic()
        codes = await _post_cases_while_cutting_the_broker(system, client)
        print(f"posted {len(codes)} cases in {time.monotonic() - started:.1f}s")
        assert len(set(codes)) == CASES, "every case got its own code"
        assert system.proxy.cuts == len(CUTS)

        async def all_assigned():
            by_case = system.tap.assigned_by_case()
            missing = [c for c in codes if c not in by_case]
            assert not missing, f"{len(missing)} cases not assigned yet, e.g. {missing[:3]}"
            return by_case

        by_case = await eventually(all_assigned, timeout=120, interval=0.5)
        print(f"all assigned at {time.monotonic() - started:.1f}s")
        doubled = {code: len(events) for code, events in by_case.items() if len(events) != 1}
        assert not doubled, f"cases assigned more than once (distinct case.assigned events): {doubled}"

        expected_email = Counter((to, code) for code in codes for to in email_recipients(by_case[code][0]))
        expected_zalo = Counter((uid, code) for code in codes for uid in zalo_recipients(by_case[code][0]))
        # Routing caps each member's open cases, so late cases may be assigned with `missing_fields` and no
        # member; those that name members must reach each of them exactly once.
        assert expected_email, "routing named members to email"

        async def all_delivered():
            emails = system.email_counts()
            missing = set(expected_email) - set(emails)
            assert not missing, f"{len(missing)} emails not arrived yet, e.g. {sorted(missing)[:3]}"
            zalo = _zalo_counts(system, codes)
            missing_zalo = set(expected_zalo) - set(zalo)
            assert not missing_zalo, f"{len(missing_zalo)} Zalo messages missing, e.g. {sorted(missing_zalo)[:3]}"
            return True

        await eventually(all_delivered, timeout=120, interval=0.5)
        print(f"all delivered at {time.monotonic() - started:.1f}s")
        namespace = system.env["BROKER_NAMESPACE"]
        await eventually(lambda: settled(system.tap.amqp_url, namespace), timeout=60, interval=1)

        emails = system.email_counts()
        assert {k: n for k, n in emails.items() if n != 1} == {}, "each member got exactly one email per case"
        assert set(emails) == set(expected_email), "no email to anyone routing did not assign"
        zalo = _zalo_counts(system, codes)
        assert {k: n for k, n in zalo.items() if n != 1} == {}, "each member got exactly one Zalo message per case"
        assert set(zalo) == set(expected_zalo)
        assert await dead_letters(system.tap.amqp_url, namespace) == {}, "nothing was dead-lettered"
        assert system.services.crashed() == [], "every service rode out the outages"

        async def reported_all():
            return await system.monthly_total(client, system.local_month()) == CASES

        await eventually(reported_all, timeout=30)


async def _post_cases_while_cutting_the_broker(system: RunningSystem, client: httpx.AsyncClient) -> list[str]:
    """Post the cases four at a time, paced so that posting spans both outages."""
    assert system.proxy is not None
    codes: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(CASES):
        queue.put_nowait(i)

    async def poster() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            category, urgency = CATEGORIES[i % len(CATEGORIES)]
            created = await system.post_case(client, category=category, urgency=urgency)
            codes.append(created["code"])
            if len(codes) in CUTS:
                system.proxy.cut(CUTS[len(codes)])  # type: ignore[union-attr]
            await asyncio.sleep(0.15)  # pacing the load generator, not waiting for a condition

    await asyncio.gather(*(poster() for _ in range(4)))
    return codes


def _zalo_counts(system: RunningSystem, codes: list[str]) -> Counter[tuple[str, str]]:
    wanted = set(codes)
    counts: Counter[tuple[str, str]] = Counter()
    for message in list(system.zalo.messages):
        for code in wanted & set(CODE_PATTERN.findall(message.get("text", ""))):
            counts[(message["user_id"], code)] += 1
    return counts
