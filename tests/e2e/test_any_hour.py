"""The whole system at the instants where the wall clock could fool it: late at night (quiet hours), the last
minute of a month, New Year's Day in Tây Ninh while it is still the old year in UTC, and the middle of Tết.

Each run starts the four real service processes living at that instant (`running_system(at=…)`), posts a
high-urgency and a critical case, and checks what a person would see: the case code carries the local
year, the monthly figures count it in the local month, the 5-working-day support-plan deadline skips
weekends and holidays, a critical case reaches every member at once, and a routine one waits for the end
of each member's quiet hours (and no longer).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from devtools.system import VN, RunningSystem, email_to, running_system
from devtools.tap import email_recipients
from devtools.waiting import eventually

pytestmark = pytest.mark.e2e

UTC = ZoneInfo("UTC")

# instant → the local date the support plan is due (5 working days later, from the calendar by hand).
INSTANTS = {
    "23:00 in Tây Ninh": (datetime(2026, 12, 1, 23, 0, tzinfo=VN), date(2026, 12, 8)),
    "23:59 on the last day of a month": (datetime(2026, 11, 30, 23, 59, tzinfo=VN), date(2026, 12, 7)),
    "06:59 UTC on 1 January": (datetime(2027, 1, 1, 6, 59, tzinfo=UTC), date(2027, 1, 8)),
    "00:30 on 1 January, 31 December in UTC": (datetime(2026, 12, 31, 17, 30, tzinfo=UTC), date(2027, 1, 8)),
    "the middle of Tết": (datetime(2027, 2, 7, 10, 0, tzinfo=VN), date(2027, 2, 17)),
}


@pytest.mark.parametrize("instant", list(INSTANTS))
async def test_cases_are_coded_counted_timed_and_told_by_local_time(
    instant: str, base_env: dict[str, str], tmp_path: Path
) -> None:
    at, plan_due = INSTANTS[instant]
    async with running_system(base_env, tmp_path / "logs", at=at) as system, httpx.AsyncClient(timeout=10) as client:
        local = system.local_now()
        period = system.local_month()
        routine = await system.post_case(client, urgency="high")
        critical = await system.post_case(client, urgency="critical")
        assert system.local_month() == period, "the test posted within the minute it names"

        for created in (routine, critical):
            assert created["code"].startswith(f"TN-{local.year}-"), "the code carries the local year"
        assigned = await eventually(lambda: _assigned(system, routine["code"], critical["code"]), timeout=30)

        # A critical case reaches every member at once, quiet hours or not.
        everyone = email_recipients(assigned[critical["code"]])
        await eventually(lambda: _emailed(system, critical["code"], everyone), timeout=30)

        # A routine one goes at once to those outside their quiet hours; the others' wait until it ends.
        deferred, now_ = _split_by_quiet_hours(assigned[routine["code"]], system.local_now())
        assert deferred or now_, "the routine case is emailed to somebody"
        if time(6, 30) <= local.time() < time(21, 30):
            assert not deferred, "by day nobody's quiet hours hold"
        else:  # the demo club's member for Tân Ninh (Tây Ninh's successor) keeps quiet hours 21:30–06:30
            assert deferred, "at night somebody's email waits for the morning"
        await eventually(lambda: _emailed(system, routine["code"], now_), timeout=30)
        pending = await eventually(lambda: _pending_emails(system, routine["code"], len(deferred)), timeout=30)
        assert {row["email"].lower(): row["next_attempt_at"] for row in pending[0]} == deferred
        assert not {to for m in system.emails_for(routine["code"]) for to in email_to(m)} & deferred.keys()

        # Counted in the local month; the support plan is due 5 working days later by the local calendar.
        async def counted() -> bool:
            return await system.monthly_total(client, period) == 2

        await eventually(counted, timeout=30)
        due = await _support_plan_due(system, routine["code"])
        assert due.astimezone(VN).date() == plan_due
        assert system.services.crashed() == []


async def _assigned(system: RunningSystem, *codes: str) -> dict[str, Any] | None:
    by_code = system.tap.assigned_by_case()
    if not all(len(by_code.get(code, [])) == 1 for code in codes):
        return None
    return {code: by_code[code][0] for code in codes}


async def _emailed(system: RunningSystem, code: str, expected: set[str]) -> bool:
    got = {to for m in system.emails_for(code) for to in email_to(m)}
    return got >= expected


def _split_by_quiet_hours(assigned: Any, local_now: datetime) -> tuple[dict[str, datetime], set[str]]:
    """The members emailed for `assigned` whose quiet hours hold now (→ when they end), and the others."""
    deferred: dict[str, datetime] = {}
    at_once: set[str] = set()
    people = [a["member"] for a in assigned.payload["assignments"]] + list(assigned.payload.get("chair", []))
    for person in people:
        if not person.get("email") or "email" not in person.get("channels", ["email"]):
            continue
        start, end = person.get("quiet_start"), person.get("quiet_end")
        ends = _quiet_end(local_now, time.fromisoformat(start), time.fromisoformat(end)) if start and end else None
        if ends is None:
            at_once.add(person["email"].lower())
        else:
            deferred[person["email"].lower()] = ends
    return deferred, at_once


def _quiet_end(local_now: datetime, start: time, end: time) -> datetime | None:
    """When quiet hours holding at `local_now` end (None when they do not hold), written out for the test."""
    t = local_now.timetz().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local_now.date() if t < end else local_now.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=VN)


async def _pending_emails(system: RunningSystem, code: str, count: int) -> tuple[list[asyncpg.Record]] | None:
    """The case's email deliveries waiting for a later time, once there are `count` (wrapped: [] is an answer)."""
    rows = await _fetch(
        system,
        "SELECT email, next_attempt_at FROM notify.deliveries "
        "WHERE code = $1 AND channel = 'email' AND status = 'pending'",
        code,
    )
    return (rows,) if len(rows) == count else None


async def _support_plan_due(system: RunningSystem, code: str) -> datetime:
    rows = await _fetch(
        system,
        "SELECT DISTINCT t.due_at FROM routing.timers t JOIN routing.cases c USING (case_id) "
        "WHERE c.code = $1 AND t.deadline = 'support_plan'",
        code,
    )
    assert len(rows) == 1, f"one support-plan deadline, got {rows}"
    due: datetime = rows[0]["due_at"]
    return due


async def _fetch(system: RunningSystem, sql: str, *args: Any) -> list[asyncpg.Record]:
    dsn = system.env["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()
