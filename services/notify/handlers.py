"""Event handlers of notify: each consumed event becomes delivery rows, in the consumer's transaction.

Nothing is sent here. A row is unique per (source event, recipient, channel), so a redelivered event (or a
replayed one that slipped past the inbox) inserts nothing new; the dispatcher sends rows afterwards.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.notify import store
from services.notify.api import auth
from services.notify.catalog import load_catalog
from services.notify.domain import after_quiet_hours, choose_channels
from services.notify.handover import Handover
from services.notify.messages import SECRET, Planned, Planner
from services.notify.metrics import NOTIFICATIONS
from services.notify.settings import NotifySettings
from services.notify.store import FOLLOWING
from services.notify.wakeup import DISPATCHER
from shared.consumer import HandlerContext
from shared.db import fetch_rows_in_transaction
from shared.events import Event
from shared.events.intake import AccountLinkIssued, CredentialIssued, CredentialRevoked, ZaloUserActivity
from shared.events.reporting import MonthlyReportReminder, PlanItemReminder
from shared.events.routing import (
    CaseAssigned,
    CaseDecided,
    CaseEscalated,
    CaseForwarded,
    CaseMembersChanged,
    CounselingRequestAnswered,
    CounselingRequestAssigned,
    DeadlineReminder,
    TaskAssigned,
)
from shared.sealed import SEALED, ZALO_USER_CONTEXT, Sealer, delivery_context

log = logging.getLogger(__name__)

Handler = Callable[[Any, HandlerContext], Awaitable[None]]

# The planned rows' columns and their types: one INSERT per event, its rows as arrays (`unnest`), sent as written on
# the consumer's transaction (`fetch_rows_in_transaction`; through SQLAlchemy, building a 6-row statement of 138
# parameters and its result was 8 % of notify's CPU under load). The inserted rows come back whole, as the
# dispatcher's claim returns them (with whether a Zalo recipient still follows the OA): those inserted already
# claimed go straight to the dispatcher (`handover.py`).
_COLUMNS = {
    "id": "uuid",
    "source_event_id": "uuid",
    "correlation_id": "uuid",
    "source_type": "text",
    "template": "text",
    "channel": "text",
    "recipient_key": "text",
    "member_id": "uuid",
    "recipient_name": "text",
    "email": "text",
    "zalo_user_id": "text",
    "case_id": "uuid",
    "request_id": "uuid",
    "code": "text",
    "urgency": "text",
    "context": "jsonb",
    "status": "text",
    "attempts": "int",
    "next_attempt_at": "timestamptz",
    "lease_until": "timestamptz",
    "reason": "text",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}
_INSERT_ROWS = f"""INSERT INTO notify.deliveries ({", ".join(_COLUMNS)})
    SELECT * FROM unnest({", ".join(f"${i}::{kind}[]" for i, kind in enumerate(_COLUMNS.values(), 1))})
    ON CONFLICT (source_event_id, recipient_key, channel) DO NOTHING
    RETURNING notify.deliveries.*, {FOLLOWING.name} AS following"""
_CONTEXT = list(_COLUMNS).index("context")


def _insert_parameters(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """One array per column; the context as JSON text (the connection's `jsonb` codec takes text, as SQLAlchemy's
    JSONB type sends it)."""
    columns: list[list[Any]] = [[row[name] for row in rows] for name in _COLUMNS]
    columns[_CONTEXT] = [json.dumps(value) for value in columns[_CONTEXT]]
    return columns


def make_handlers(settings: NotifySettings, handover: Handover | None = None) -> dict[type[Event], Handler]:
    """Every event notify consumes (the catalogue's `CONSUMERS`), by type; with `handover`, the deliveries this
    process's dispatcher has room for are inserted claimed and given to it."""
    notify_handlers = NotifyHandlers(settings, handover or Handover())
    return {**notify_handlers.mapping(), CredentialIssued: auth.on_issued, CredentialRevoked: auth.on_revoked}


class NotifyHandlers:
    def __init__(self, settings: NotifySettings, handover: Handover) -> None:
        self.settings = settings
        self.handover = handover
        self.lease = timedelta(seconds=settings.notify_send_lease_seconds)
        self.sealer = Sealer.from_settings(settings)
        self.planner = Planner(load_catalog(settings.notify_data_dir), settings.public_base_url, self.sealer)
        self.tz = ZoneInfo(settings.notify_timezone)

    def mapping(self) -> dict[type[Event], Handler]:
        p = self.planner
        planners: dict[type[Event], Callable[[Any], list[Planned]]] = {
            CaseAssigned: p.case_assigned,
            CaseMembersChanged: p.members_changed,
            DeadlineReminder: p.deadline_reminder,
            CaseEscalated: p.case_escalated,
            CaseForwarded: p.case_forwarded,
            CaseDecided: p.case_decided,
            CounselingRequestAssigned: p.counseling_assigned,
            CounselingRequestAnswered: p.counseling_answered,
            MonthlyReportReminder: p.monthly_report_reminder,
            PlanItemReminder: p.plan_reminder,
            TaskAssigned: p.task_assigned,
            AccountLinkIssued: p.account_link,
        }
        handlers: dict[type[Event], Handler] = {cls: self._planning(plan) for cls, plan in planners.items()}
        handlers[ZaloUserActivity] = self.on_zalo_activity
        return handlers

    def _planning(self, plan: Callable[[Any], list[Planned]]) -> Handler:
        async def handle(event: Any, ctx: HandlerContext) -> None:
            rows: list[dict[str, Any]] = []
            for planned in plan(event):
                rows.extend(await self.rows(planned, ctx))
            if not rows:
                return
            # The rows due now that the dispatcher has room for are inserted claimed (`handover.py`).
            now = ctx.clock.now()
            due = [row for row in rows if row["status"] == "pending" and row["next_attempt_at"] <= now]
            reservation = self.handover.reserve(len(due))
            for row in due[: reservation.count if reservation else 0]:
                row.update(status="sending", attempts=1, lease_until=now + self.lease)
            # One INSERT per event (a case.assigned makes 6-8 rows).
            fresh = await fetch_rows_in_transaction(
                await ctx.session.connection(), _INSERT_ROWS, _insert_parameters(rows)
            )
            claimed = [delivery for delivery in fresh if delivery.status == "sending"]
            pending = [delivery for delivery in fresh if delivery.status == "pending"]
            for delivery in fresh:
                if delivery.status == "skipped":
                    NOTIFICATIONS.labels(delivery.channel, delivery.template, "skipped").inc()
                    log.info("notification %s to %s skipped", delivery.template, delivery.channel)
            if reservation is not None:
                ctx.after_commit(lambda: self.handover.give(reservation, claimed))
            if pending:
                # Left for the claimer: wake this process's dispatcher once the consumer commits (other replicas
                # hear of them from the table's NOTIFY).
                if any(delivery.next_attempt_at <= now for delivery in pending):
                    self.handover.behind()
                ctx.wake(DISPATCHER)

        handle.__name__ = f"on_{plan.__name__}"
        return handle

    async def rows(self, planned: Planned, ctx: HandlerContext) -> list[dict[str, Any]]:
        """The rows of one planned message, one per chosen channel (a row already there is left alone)."""
        now = ctx.clock.now()
        r = planned.recipient
        critical = planned.urgency == "critical"
        channels = choose_channels(
            r, fan_out=planned.fan_out, critical=critical, zalo_enabled=self.settings.zalo_configured()
        )
        if planned.channels is not None:
            channels = [c for c in channels if c.channel in planned.channels]
        due = now if critical else after_quiet_hours(now, r.quiet_start, r.quiet_end, self.tz)
        status, reason = "pending", None
        if not channels:
            # Nothing to send on: keep a trace in the log of deliveries (so an operator sees it), send nothing.
            status, reason = "skipped", "no_reachable_channel"
            channels_to_write = [r.channels[0] if r.channels else "email"]
        else:
            channels_to_write = [c.channel for c in channels]
        outside_window = planned.extra.get("reply_window") and status == "pending"
        if outside_window and not await self._in_zalo_window(ctx, r.zalo_user_id, now):
            status, reason = "skipped", "outside_zalo_window: the answer waits for the tracking-code lookup"
        secret = planned.context.get(SECRET)
        context = {
            "club_name": self.settings.club_name,
            **{k: v for k, v in planned.context.items() if k != SECRET},
            # bearer links, a child's answer: sealed for notify itself, opened by the dispatcher to render
            **(
                {
                    SEALED: self.sealer.seal(
                        "notify", secret, delivery_context(ctx.envelope.event_id, planned.recipient_key)
                    )
                }
                if secret
                else {}
            ),
            # kept so retries and fallbacks later still respect the recipient's quiet hours
            "_quiet_start": r.quiet_start.isoformat() if r.quiet_start else None,
            "_quiet_end": r.quiet_end.isoformat() if r.quiet_end else None,
        }
        return [
            {
                "id": uuid.uuid4(),
                "attempts": 0,
                "lease_until": None,
                "source_event_id": ctx.envelope.event_id,
                "correlation_id": ctx.envelope.correlation_id,
                "source_type": ctx.envelope.type,
                "template": planned.template,
                "channel": channel,
                "recipient_key": planned.recipient_key,
                "member_id": r.member_id,
                "recipient_name": r.display_name,
                "email": r.email,
                "zalo_user_id": r.zalo_user_id,
                "case_id": planned.case_id,
                "request_id": planned.request_id,
                "code": planned.code,
                "urgency": planned.urgency,
                "context": context,
                "status": status,
                "reason": reason,
                "next_attempt_at": due,
                "created_at": now,
                "updated_at": now,
            }
            for channel in channels_to_write
        ]

    async def _in_zalo_window(self, ctx: HandlerContext, zalo_user_id: str | None, now: Any) -> bool:
        if not zalo_user_id:
            return False
        u = store.zalo_users.c
        row = (
            await ctx.session.execute(select(u.following, u.last_interaction_at).where(u.zalo_user_id == zalo_user_id))
        ).first()
        if row is None or row.last_interaction_at is None or not row.following:
            return False
        return now - row.last_interaction_at <= timedelta(days=self.settings.zalo_interaction_window_days)

    async def on_zalo_activity(self, event: ZaloUserActivity, ctx: HandlerContext) -> None:
        """Keep who follows the OA and when they last wrote (the 7-day window); events may come out of order."""
        if event.user is None:
            return  # a version-1 event: its Zalo id did not travel
        u = store.zalo_users
        user_id = self.sealer.open("notify", event.user, ZALO_USER_CONTEXT)
        values: dict[str, Any] = {"zalo_user_id": user_id, "updated_at": event.at}
        if event.activity == "unfollow":
            values["following"] = False
        else:
            values["following"] = True
        if event.activity in ("message", "follow"):
            values["last_interaction_at"] = event.at
        stmt = insert(u).values(**values)
        update = {"following": stmt.excluded.following, "updated_at": stmt.excluded.updated_at}
        if "last_interaction_at" in values:
            update["last_interaction_at"] = stmt.excluded.last_interaction_at
        await ctx.session.execute(
            stmt.on_conflict_do_update(index_elements=["zalo_user_id"], set_=update, where=u.c.updated_at <= event.at)
        )
