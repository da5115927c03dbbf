"""The scheduler worker: reminders of missing monthly reports and of plan items coming due.

Exactly once with several replicas: each run claims the job's row in `scheduler_jobs` with
`FOR UPDATE SKIP LOCKED` (a replica that finds it locked or not yet due does nothing), and every
reminder is recorded in `reminders_sent` under a unique key in the same transaction as its outbox
row, so a reminder is emitted once even if two runs overlap or a run is retried.

Time comes from the runtime's clock, so tests move a `FakeClock` instead of waiting for a month.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import figures, plan, store
from services.reporting.domain import VN, Month, parse_period
from services.reporting.settings import ReportingSettings
from shared.events.common import Recipient
from shared.events.reporting import MonthlyReportReminder, PlanItemReminder
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork, unit_of_work
from shared.worker import run_worker

log = logging.getLogger(__name__)
JOB = "reminders"
REMINDERS_WITHOUT_CONTACT = Counter(
    "caunoi_unit_reminders_without_contact",
    "Monthly report reminders for a unit that has neither an email nor a Zalo contact (they reach nobody).",
)


async def _first_time(session: AsyncSession, kind: str, subject: str, period: str, stage: str, now: datetime) -> bool:
    inserted = await session.execute(
        insert(store.reminders_sent)
        .values(kind=kind, subject=subject, period=period, stage=stage, sent_at=now)
        .on_conflict_do_nothing()
        .returning(store.reminders_sent.c.kind)
    )
    return inserted.first() is not None


def report_due_on(month: Month, due_day: int) -> date:
    """A month's report is due on `due_day` of the following month."""
    following = month.next()
    return date(following.year, following.month, due_day)


async def monthly_report_reminders(uow: UnitOfWork) -> int:
    session, now, settings = uow.session, uow.now, uow.settings
    today = now.astimezone(VN).date()
    month = Month.of(today).previous()
    due_on = report_due_on(month, settings.monthly_report_due_day)
    if today > due_on:
        stage = "overdue"
    elif today >= due_on - timedelta(days=settings.monthly_report_remind_days):
        stage = "due"
    else:
        return 0
    missing = await figures.missing_reports(session, month.key)
    if not missing:
        return 0
    u = store.units.c
    contacts = {
        row.code: row
        for row in await session.execute(
            select(u.code, u.name_vi, u.contact_email, u.contact_zalo_user_id).where(u.code.in_(missing))
        )
    }
    sent = 0
    for unit in missing:
        if not await _first_time(session, "monthly_report", unit, month.key, stage, now):
            continue
        row = contacts.get(unit)
        name = row.name_vi if row else unit
        email, zalo = (row.contact_email, row.contact_zalo_user_id) if row else (None, None)
        recipients = unit_recipients(name, email, zalo)
        if not recipients:
            # Not silently skipped: the operator sees the unit at GET /v1/units/without-contact and on
            # the caunoi_units_without_contact gauge; the reminder is still recorded (and emitted, to nobody).
            REMINDERS_WITHOUT_CONTACT.inc()
            log.warning("monthly report reminder for unit %s (%s) reaches nobody: the unit has no contact", unit, stage)
        await uow.emit(
            MonthlyReportReminder(
                unit=unit, unit_name=name, period=month.key, due_on=due_on, stage=stage, recipients=recipients, at=now
            ),
            key=f"report:{unit}",
        )
        sent += 1
    return sent


def unit_recipients(name: str, email: str | None, zalo_user_id: str | None) -> tuple[Recipient, ...]:
    """A unit's Youth Union as the addressee of its reminders, on every channel it has a contact for."""
    channels = tuple(ch for ch, value in (("zalo", zalo_user_id), ("email", email)) if value)
    if not channels:
        return ()
    return (Recipient(display_name=name, email=email, zalo_user_id=zalo_user_id, channels=channels),)  # type: ignore[arg-type]


def _plan_recipients(settings: ReportingSettings) -> tuple[Recipient, ...]:
    emails = [e.strip() for e in settings.plan_reminder_emails.split(",") if e.strip()]
    return tuple(Recipient(display_name="Chủ nhiệm Câu lạc bộ", email=e, channels=("email",)) for e in emails)


async def plan_reminders(uow: UnitOfWork) -> int:
    session, now, settings = uow.session, uow.now, uow.settings
    today = now.astimezone(VN).date()
    period = parse_period(f"{today.year - 1}..{today.year}")
    tracker = await plan.tracker(session, period, today)
    candidates = [
        *[(r["item_id"], r["kind"], r) for r in tracker["items"]],
        *[(r["item_id"], "board_meeting", r) for r in tracker["board_meetings"]],
        *[(r["item_id"], "club_meeting", r) for r in tracker["club_meetings"]],
    ]
    sent = 0
    for item_id, kind, row in candidates:
        if row["status"] == "done":
            continue
        days_left = (row["due_on"] - today).days
        if 0 <= days_left <= settings.plan_remind_days:
            stage = "due"
        elif 0 < -days_left <= settings.plan_overdue_window_days:
            stage = "overdue"
        else:
            continue
        if not await _first_time(session, "plan", item_id, row["due_on"].isoformat(), stage, now):
            continue
        await uow.emit(
            PlanItemReminder(
                item_id=item_id,
                kind=kind,
                title_vi=row["title_vi"],
                due_on=row["due_on"],
                stage=stage,
                recipients=_plan_recipients(settings),
                at=now,
            ),
            key=f"plan:{item_id}",
        )
        sent += 1
    return sent


async def run_once(runtime: ServiceRuntime) -> int | None:
    """Claim the reminders job if it is due and nobody holds it; run it. None if not claimed."""
    j = store.scheduler_jobs.c
    async with unit_of_work(runtime) as uow:
        await uow.session.execute(
            insert(store.scheduler_jobs).values(name=JOB, next_run_at=uow.now).on_conflict_do_nothing()
        )
    async with unit_of_work(runtime) as uow:
        now, settings = uow.now, uow.settings
        claimed = (
            await uow.session.execute(
                select(j.name).where(j.name == JOB, j.next_run_at <= now).with_for_update(skip_locked=True)
            )
        ).first()
        if claimed is None:
            return None
        sent = await monthly_report_reminders(uow)
        sent += await plan_reminders(uow)
        await uow.session.execute(
            update(store.scheduler_jobs)
            .where(j.name == JOB)
            .values(last_run_at=now, next_run_at=now + timedelta(seconds=settings.scheduler_interval))
        )
    if sent:
        log.info("scheduler emitted %d reminders", sent)
    return sent


async def scheduler_worker(runtime: ServiceRuntime) -> None:
    """Background worker (ServiceSpec.workers): try the job every interval; never dies on an error."""
    settings: ReportingSettings = runtime.settings
    await run_worker(
        "scheduler",
        lambda: run_once(runtime),
        interval=min(settings.scheduler_interval, 60.0),
    )
