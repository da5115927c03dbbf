"""The Zalo OA inbox: the webhook (`api_zalo.py`) stores signed events; the worker here turns them into
effects (counseling requests, messages, `zalo.user_activity`).

Signature (DOMAIN.md §7): `X-ZEvent-Signature: mac=<hex>`, hex = SHA-256 (plain, not HMAC) of
`app_id + raw_body + timestamp + oa_secret_key`, `timestamp` being the body's string field. A mismatch is
a 401, logged without the body. Zalo retries, so events are stored once per `message.msg_id` (or, for
events without one, per digest of the raw body) and processed once.

Replays: an event whose `timestamp` is more than `TIMESTAMP_TOLERANCE` (5 minutes) from now (the injected
clock) is refused (401), so a captured request cannot be sent again later; the dedupe rows of processed
events are pruned once they are older than twice that (a replay of them would be refused anyway).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import domain, store
from services.intake.context import IntakeContext
from services.intake.counseling import add_message, open_request
from shared.events.intake import ZaloUserActivity
from shared.outbox import Outbox
from shared.service import ServiceRuntime
from shared.uow import unit_of_work
from shared.worker import run_worker

log = logging.getLogger(__name__)
HANDLED = ("user_send_text", "user_send_image", "follow", "unfollow")
MAX_ATTEMPTS = 5
TIMESTAMP_TOLERANCE = timedelta(minutes=5)
PRUNE_EVERY_SECONDS = 60.0
ZALO_INBOX = "zalo inbox"  # the worker, woken by the webhook when it stores an event


def _at(body: dict[str, Any], fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(body["timestamp"]) / 1000, UTC)
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        return fallback


async def process_event(
    session: AsyncSession, outbox: Outbox, context: IntakeContext, body: dict[str, Any], now: datetime
) -> None:
    """Apply one verified Zalo event."""
    name = body.get("event_name")
    at = _at(body, now)
    if name in ("follow", "unfollow"):
        user_id = str((body.get("follower") or {}).get("id", ""))[:64]
        if not user_id:
            return
        following = name == "follow"
        values = {"following": following, ("followed_at" if following else "unfollowed_at"): at}
        await session.execute(
            insert(store.zalo_users)
            .values(user_id=user_id, **values)
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )
        await outbox.add(session, ZaloUserActivity(zalo_user_id=user_id, activity=name, at=at), key=f"zalo:{user_id}")
        return
    if name not in ("user_send_text", "user_send_image"):
        return
    user_id = str((body.get("sender") or {}).get("id", ""))[:64]
    message = body.get("message") or {}
    if not user_id or not isinstance(message, dict):
        return
    if name == "user_send_text":
        kind, content = "text", str(message.get("text", ""))[: domain.COUNSELING_MESSAGE_MAX]
    else:
        urls = [
            str((a.get("payload") or {}).get("url", ""))
            for a in message.get("attachments") or []
            if isinstance(a, dict) and isinstance(a.get("payload"), dict)
        ]
        kind, content = "image", " ".join(u for u in urls if u)[:2000]
    content = content.replace("\x00", "")
    values = {"last_interaction_at": at}
    await session.execute(
        insert(store.zalo_users)
        .values(user_id=user_id, **values)
        .on_conflict_do_update(index_elements=["user_id"], set_=values)
    )
    r = store.counseling_requests.c
    request_id = (
        await session.execute(
            select(r.id)
            .where(r.zalo_user_id == user_id, r.channel == "zalo", r.status.in_(domain.OPEN_COUNSELING))
            .order_by(r.received_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if request_id is None:
        request_id, _ = await open_request(
            session, outbox, context, now=at, topic="free", channel="zalo", zalo_user_id=user_id
        )
    msg_id = message.get("msg_id")
    await add_message(
        session,
        context,
        request_id,
        now=at,
        kind=kind,
        body=content or "",
        zalo_msg_id=str(msg_id)[:100] if msg_id else None,
    )
    await outbox.add(session, ZaloUserActivity(zalo_user_id=user_id, activity="message", at=at), key=f"zalo:{user_id}")


async def process_pending(runtime: ServiceRuntime, context: IntakeContext) -> int:
    """Process stored events in arrival order; each in its own transaction. Returns how many were handled."""
    handled = 0
    z = store.zalo_events.c
    while True:
        async with unit_of_work(runtime) as uow:
            session = uow.session
            row = (
                await session.execute(
                    select(store.zalo_events)
                    .where(z.processed_at.is_(None), z.attempts < MAX_ATTEMPTS)
                    .order_by(z.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if row is None:
                return handled
            try:
                async with session.begin_nested():
                    body = json.loads(context.cipher.decrypt(row.raw, f"zalo:{row.dedupe_key}"))
                    await process_event(session, runtime.outbox, context, body, runtime.clock.now())  # type: ignore[arg-type]
                await session.execute(
                    store.zalo_events.update()
                    .where(z.id == row.id)
                    .values(processed_at=runtime.clock.now(), attempts=row.attempts + 1)
                )
            except Exception as exc:  # the event stays for a retry, up to MAX_ATTEMPTS
                log.exception("zalo event %s failed", row.id)
                await session.execute(
                    store.zalo_events.update()
                    .where(z.id == row.id)
                    .values(attempts=row.attempts + 1, error=type(exc).__name__)
                )
        handled += 1


async def prune_dedupe(runtime: ServiceRuntime) -> int:
    """Delete processed events received more than twice the timestamp tolerance ago. Returns how many."""
    z = store.zalo_events.c
    cutoff = runtime.clock.now() - 2 * TIMESTAMP_TOLERANCE
    async with unit_of_work(runtime) as uow:
        session = uow.session
        result = await session.execute(
            delete(store.zalo_events).where(z.processed_at.is_not(None), z.received_at < cutoff)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def zalo_worker(context: IntakeContext):
    """Background worker: wakes when the webhook stores an event, polls every second as a fallback; prunes
    the dedupe rows once a minute."""

    async def run(runtime: ServiceRuntime) -> None:
        pruned_at = 0.0

        async def step() -> int:
            nonlocal pruned_at
            handled = await process_pending(runtime, context)
            if time.monotonic() - pruned_at >= PRUNE_EVERY_SECONDS:
                pruned_at = time.monotonic()
                await prune_dedupe(runtime)
            return handled

        await run_worker(ZALO_INBOX, step, interval=1.0, signal=runtime.signals[ZALO_INBOX])

    run.__name__ = "zalo_worker"
    return run
