"""The Zalo OA webhook with real-format payloads: signature as DOMAIN.md §7, store first, dedupe on
`message.msg_id`, text → counseling request (joining the user's open one), follow/unfollow recorded."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from devtools.waiting import eventually
from shared.sealed import ZALO_USER_CONTEXT as ZALO
from tests.intake.conftest import NOW, ZALO_APP_ID, ZALO_OA_SECRET
from tests.support.sealed import opened

pytestmark = pytest.mark.asyncio(loop_scope="package")
OA_ID = "579745863508352884"
NOW_MS = int(NOW.timestamp() * 1000)  # Zalo timestamps must be within 5 minutes of the (fake) clock


def signed(body: dict, *, secret: str = ZALO_OA_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    mac = hashlib.sha256(ZALO_APP_ID.encode() + raw + body["timestamp"].encode() + secret.encode()).hexdigest()
    return raw, {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}


def user_send_text(user_id: str, text: str, msg_id: str | None = None) -> dict:
    return {
        "app_id": ZALO_APP_ID,
        "user_id_by_app": "552177279717587730",
        "event_name": "user_send_text",
        "timestamp": str(NOW_MS),
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "message": {"text": text, "msg_id": msg_id or uuid.uuid4().hex},
    }


async def requests_of(intake, user_id: str) -> list:
    return await intake.rows(
        "SELECT r.id, r.code, count(m.id) AS messages FROM intake.counseling_requests r "
        "LEFT JOIN intake.counseling_messages m ON m.request_id = r.id WHERE r.zalo_user_id = :u GROUP BY r.id",
        u=user_id,
    )


async def test_a_signed_text_becomes_one_counseling_request_even_when_zalo_retries(intake):
    user = f"u{uuid.uuid4().int % 10**18}"
    raw, headers = signed(user_send_text(user, "Em bị bạn bắt nạt ở trường, em sợ lắm."))
    first = await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)
    replay = await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)
    assert first.status_code == replay.status_code == 200
    assert replay.json()["duplicate"] is True

    async def one_request() -> list:
        rows = await requests_of(intake, user)
        return rows if rows and rows[0]["messages"] == 1 else []

    [request] = await eventually(one_request)
    raw2, headers2 = signed(user_send_text(user, "Em cần giúp đỡ."))
    assert (await intake.client.post("/v1/zalo/webhook", content=raw2, headers=headers2)).status_code == 200

    async def joined() -> list:
        rows = await requests_of(intake, user)
        return rows if rows and rows[0]["messages"] == 2 else []

    [same] = await eventually(joined)
    assert same["id"] == request["id"]
    [received] = await intake.events("counseling_request.received", str(request["id"]))
    payload = json.loads(received)["payload"]
    assert "bắt nạt" not in received and user not in received  # the Zalo id travels sealed for notify
    assert opened("notify", payload["reply_to"], f"counseling:{request['id']}:reply_to") == user
    activity = await intake.rows("SELECT key, envelope FROM intake.outbox WHERE type = 'zalo.user_activity'")
    mine = [a for a in activity if opened("notify", json.loads(a["envelope"])["payload"]["user"], ZALO) == user]
    assert len(mine) == 2 and all(user not in a["key"] and user not in a["envelope"] for a in mine)
    stored = await intake.rows("SELECT body FROM intake.counseling_messages WHERE request_id = :r", r=request["id"])
    assert all("bắt nạt" not in row["body"] for row in stored)  # the child's words are encrypted


async def activities(intake, user: str) -> list[dict]:
    """Payloads of the `zalo.user_activity` events about `user` in intake's outbox (its id sealed for notify)."""
    rows = await intake.rows("SELECT envelope FROM intake.outbox WHERE type = 'zalo.user_activity' ORDER BY id")
    payloads = [json.loads(row["envelope"])["payload"] for row in rows]
    return [p for p in payloads if opened("notify", p["user"], ZALO) == user]


async def test_a_tampered_or_unsigned_event_is_refused_and_not_stored(intake):
    user = f"u{uuid.uuid4().int % 10**18}"
    body = user_send_text(user, "Xin chào")
    raw, headers = signed(body)
    tampered = raw.replace("Xin chào".encode(), b"Xin chao")
    assert (await intake.client.post("/v1/zalo/webhook", content=tampered, headers=headers)).status_code == 401
    _, wrong_secret = signed(body, secret="not-the-secret")
    assert (await intake.client.post("/v1/zalo/webhook", content=raw, headers=wrong_secret)).status_code == 401
    no_header = {"Content-Type": "application/json"}
    assert (await intake.client.post("/v1/zalo/webhook", content=raw, headers=no_header)).status_code == 401
    assert (await intake.client.post("/v1/zalo/webhook", content=b"{not json", headers=headers)).status_code == 401
    assert (
        await intake.rows(
            "SELECT id FROM intake.zalo_events WHERE dedupe_key = :k", k=f"msg:{body['message']['msg_id']}"
        )
        == []
    )


async def test_follow_unfollow_and_images_are_recorded(intake):
    user = f"u{uuid.uuid4().int % 10**18}"
    follow = {
        "app_id": ZALO_APP_ID,
        "event_name": "follow",
        "timestamp": str(NOW_MS + 1000),
        "oa_id": OA_ID,
        "source": "testing_webhook",
        "follower": {"id": user},
        "user_id_by_app": "1",
    }
    image = {
        **user_send_text(user, ""),
        "event_name": "user_send_image",
        "timestamp": str(NOW_MS + 2000),
        "message": {
            "msg_id": uuid.uuid4().hex,
            "text": "",
            "attachments": [{"type": "image", "payload": {"thumbnail": "https://t/1.jpg", "url": "https://z/1.jpg"}}],
        },
    }
    unfollow = {**follow, "event_name": "unfollow", "timestamp": str(NOW_MS + 3000)}
    for body in (follow, image, unfollow):
        raw, headers = signed(body)
        assert (await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)).status_code == 200

    async def recorded() -> list:
        rows = await intake.rows(
            "SELECT * FROM intake.zalo_users WHERE user_id = :u AND unfollowed_at IS NOT NULL", u=user
        )
        return rows if rows and len(await activities(intake, user)) == 3 else []

    [row] = await eventually(recorded)
    assert row["following"] is False and row["followed_at"] is not None and row["last_interaction_at"] is not None
    [request] = await requests_of(intake, user)
    [message] = await intake.rows(
        "SELECT kind, body FROM intake.counseling_messages WHERE request_id = :r", r=request["id"]
    )
    assert message["kind"] == "image" and "https://z/1.jpg" not in message["body"]
    assert [a["activity"] for a in await activities(intake, user)] == ["follow", "message", "unfollow"]


async def test_timestamps_more_than_five_minutes_from_now_are_refused_and_not_stored(intake):
    user = f"u{uuid.uuid4().int % 10**18}"
    for offset_ms, status in ((-6 * 60_000, 401), (6 * 60_000, 401), (-4 * 60_000, 200), (4 * 60_000, 200)):
        body = {**user_send_text(user, "Em cần giúp đỡ"), "timestamp": str(NOW_MS + offset_ms)}
        raw, headers = signed(body)
        response = await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)
        assert response.status_code == status, (offset_ms, response.text)
        stored = await intake.rows(
            "SELECT 1 FROM intake.zalo_events WHERE dedupe_key = :k", k=f"msg:{body['message']['msg_id']}"
        )
        assert bool(stored) == (status == 200)


async def test_a_non_ascii_signature_is_refused_not_a_server_error(intake):
    raw, headers = signed(user_send_text(f"u{uuid.uuid4().int % 10**18}", "Xin chào"))
    headers = {**headers, "X-ZEvent-Signature": "mac=chữ-ký-giả".encode()}
    assert (await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)).status_code == 401


async def test_dedupe_rows_of_processed_events_are_pruned_and_a_late_replay_is_refused(intake):
    from datetime import timedelta

    from services.intake.zalo import prune_dedupe

    user = f"u{uuid.uuid4().int % 10**18}"
    body = user_send_text(user, "Em bị bắt nạt")
    raw, headers = signed(body)
    assert (await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)).status_code == 200
    key = f"msg:{body['message']['msg_id']}"
    await eventually(
        lambda: intake.rows(
            "SELECT 1 FROM intake.zalo_events WHERE dedupe_key = :k AND processed_at IS NOT NULL", k=key
        )
    )
    runtime = intake.app.state.runtime
    intake.clock.advance(timedelta(minutes=9))
    await prune_dedupe(runtime)
    assert await intake.rows("SELECT 1 FROM intake.zalo_events WHERE dedupe_key = :k", k=key)  # still needed
    intake.clock.advance(timedelta(minutes=2))
    assert await prune_dedupe(runtime) >= 1
    assert await intake.rows("SELECT 1 FROM intake.zalo_events WHERE dedupe_key = :k", k=key) == []
    replay = await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)
    assert replay.status_code == 401
    assert await intake.rows("SELECT 1 FROM intake.zalo_events WHERE dedupe_key = :k", k=key) == []
