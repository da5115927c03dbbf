"""The Zalo OA webhook: verify the signature, store the event once, answer fast (`zalo.py` processes it).

Signature (DOMAIN.md §7): `X-ZEvent-Signature: mac=<hex>`, hex = SHA-256 (plain, not HMAC) of
`app_id + raw_body + timestamp + oa_secret_key`, `timestamp` being the body's string field. A mismatch is
a 401, logged without the body. So is an event whose `timestamp` is more than 5 minutes from now (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.dialects.postgresql import insert

from services.intake import store
from services.intake.context import intake_context
from services.intake.zalo import TIMESTAMP_TOLERANCE, ZALO_INBOX
from shared.errors import Unauthorized
from shared.http_errors import ErrorBody
from shared.service import runtime_of
from shared.uow import unit_of_work

log = logging.getLogger(__name__)
router = APIRouter(tags=["zalo"])


def signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret: str) -> str:
    return hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + oa_secret.encode()).hexdigest()


def verify(app_id: str, oa_secret: str, raw_body: bytes, header: str | None) -> dict[str, Any] | None:
    """The parsed body if the signature matches, else None."""
    if not app_id or not oa_secret or not header:
        return None
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("timestamp"), str):
        return None
    given = header.strip()
    given = given[4:] if given.startswith("mac=") else given
    if not given.isascii():  # compare_digest raises on non-ASCII text: not a signature of ours (401)
        return None
    expected = signature(app_id, raw_body, body["timestamp"], oa_secret)
    return body if hmac.compare_digest(given.lower(), expected) else None


def _unauthorized() -> Unauthorized:
    return Unauthorized("Bad or missing X-ZEvent-Signature.", "Thiếu hoặc sai chữ ký X-ZEvent-Signature.")


def timestamp_of(body: dict[str, Any]) -> datetime | None:
    """The event's `timestamp` (milliseconds since the epoch, as a string), None if it is not one."""
    text = body.get("timestamp")
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 15:
        return None
    return datetime.fromtimestamp(int(text) / 1000, UTC)


def fresh(body: dict[str, Any], now: datetime) -> bool:
    at = timestamp_of(body)
    return at is not None and abs(at - now) <= TIMESTAMP_TOLERANCE


@router.post(
    "/v1/zalo/webhook",
    summary="Zalo OA events (signed by Zalo)",
    responses={401: {"model": ErrorBody}},
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}, "required": True}},
)
async def webhook(request: Request) -> JSONResponse:
    context = intake_context(request)
    raw = await request.body()
    body = verify(
        context.settings.zalo_app_id, context.settings.zalo_oa_secret, raw, request.headers.get("x-zevent-signature")
    )
    if body is None:
        log.warning("zalo webhook refused: signature mismatch (%d bytes)", len(raw))
        raise _unauthorized()
    runtime = runtime_of(request)
    if not fresh(body, runtime.clock.now()):
        log.warning("zalo webhook refused: timestamp more than %s from now (%d bytes)", TIMESTAMP_TOLERANCE, len(raw))
        raise Unauthorized(
            "Stale or missing timestamp (more than 5 minutes from now).",
            "Thời điểm của sự kiện thiếu hoặc lệch quá 5 phút so với hiện tại.",
        )
    event_name = str(body.get("event_name", ""))[:64]
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    msg_id = message.get("msg_id")
    dedupe = f"msg:{msg_id}"[:130] if isinstance(msg_id, str) and msg_id else f"sha:{hashlib.sha256(raw).hexdigest()}"
    async with unit_of_work(runtime) as uow:
        session = uow.session
        result = await session.execute(
            insert(store.zalo_events)
            .values(
                dedupe_key=dedupe,
                event_name=event_name,
                raw=context.cipher.encrypt(raw.decode("utf-8", "replace"), f"zalo:{dedupe}"),
                received_at=runtime.clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(store.zalo_events.c.id)
        )
        stored = result.first() is not None
    if stored:
        runtime.signals.set(ZALO_INBOX)
    return JSONResponse({"status": "ok", "duplicate": not stored})
