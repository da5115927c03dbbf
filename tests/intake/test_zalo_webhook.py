"""The Zalo OA webhook with real-format payloads: signature as DOMAIN.md §7, store first, dedupe on
`message.msg_id`, text → counseling request (joining the user's open one), follow/unfollow recorded."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from devtools.waiting import eventually
from tests.intake.conftest import ZALO_APP_ID, ZALO_OA_SECRET

pytestmark = pytest.mark.asyncio(loop_scope="package")
OA_ID = "579745863508352884"


def signed(body: dict, *, secret: str = ZALO_OA_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False).encode()
    mac = hashlib.sha256(ZALO_APP_ID.encode() + raw + body["timestamp"].encode() + secret.encode()).hexdigest()
    return raw, {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}


def user_send_text(user_id: str, text: str, msg_id: str | None = None) -> dict:
    return {
        "app_id": ZALO_APP_ID,
        "user_id_by_app": "552177279717587730",
        "event_name": "user_send_text",
        "timestamp": "1764300000000",
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
    assert "bắt nạt" not in received and json.loads(received)["payload"]["reply_zalo_user_id"] == user
    assert len(await intake.events("zalo.user_activity", user)) == 2
    stored = await intake.rows("SELECT body FROM intake.counseling_messages WHERE request_id = :r", r=request["id"])
    assert all("bắt nạt" not in row["body"] for row in stored)  # the child's words are encrypted


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
        "timestamp": "1764300001000",
        "oa_id": OA_ID,
        "source": "testing_webhook",
        "follower": {"id": user},
        "user_id_by_app": "1",
    }
    image = {
        **user_send_text(user, ""),
        "event_name": "user_send_image",
        "timestamp": "1764300002000",
        "message": {
            "msg_id": uuid.uuid4().hex,
            "text": "",
            "attachments": [{"type": "image", "payload": {"thumbnail": "https://t/1.jpg", "url": "https://z/1.jpg"}}],
        },
    }
    unfollow = {**follow, "event_name": "unfollow", "timestamp": "1764300003000"}
    for body in (follow, image, unfollow):
        raw, headers = signed(body)
        assert (await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)).status_code == 200

    async def recorded() -> list:
        rows = await intake.rows(
            "SELECT * FROM intake.zalo_users WHERE user_id = :u AND unfollowed_at IS NOT NULL", u=user
        )
        return rows if rows and len(await intake.events("zalo.user_activity", user)) == 3 else []

    [row] = await eventually(recorded)
    assert row["following"] is False and row["followed_at"] is not None and row["last_interaction_at"] is not None
    [request] = await requests_of(intake, user)
    [message] = await intake.rows(
        "SELECT kind, body FROM intake.counseling_messages WHERE request_id = :r", r=request["id"]
    )
    assert message["kind"] == "image" and "https://z/1.jpg" not in message["body"]
    activities = [json.loads(e)["payload"]["activity"] for e in await intake.events("zalo.user_activity", user)]
    assert activities == ["follow", "message", "unfollow"]
