"""Key rotation as docs/intake.md tells an operator to do it: data written under key A stays readable once
key B is added and made active, `rotate-keys` re-encrypts every encrypted column under B, and after A is
removed everything still reads.

The running intake's keys are swapped in place (what a restart with new settings would give it); the
rotation itself is the real command, run as a process against the same database. Afterwards the shared
test database is rotated back to A.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid

import pytest

from devtools.waiting import eventually
from services.intake import rotation, store
from shared.case_keys import case_cipher
from shared.crypto import DEV_CHILD_DATA_KEYS, FieldCipher, parse_keys
from tests.intake.conftest import MINIMAL_CASE
from tests.intake.test_cli import cli
from tests.intake.test_zalo_webhook import signed, user_send_text

pytestmark = pytest.mark.asyncio(loop_scope="package")

KEY_A = DEV_CHILD_DATA_KEYS  # the key the test intake runs with
KEY_B = "k2:" + base64.b64encode(bytes(range(32))).decode()
CHILD = {"name": "Trần Thị Mỹ Duyên", "date_of_birth": "2016-05-06", "address": "Ấp Tân Hòa, Tân Biên"}
CONSENT = {
    "child": {"recorded_by": "Cán bộ Đoàn", "recorded_at": "2026-11-19T08:00:00+07:00"},
    "guardian": {"recorded_by": "Cán bộ Đoàn", "recorded_at": "2026-11-19T08:05:00+07:00"},
}


async def _stored(intake, case_id: str, request_id: uuid.UUID, zalo_user: str) -> list[str]:
    """Every value under the master key written for this test's case (its wrapped data key: the case's own
    values are under that key), counseling request and Zalo event."""
    rows = await intake.rows(
        "SELECT wrapped AS v FROM intake.case_keys WHERE case_id = :c "
        "UNION ALL SELECT contact FROM intake.counseling_requests WHERE id = :r "
        "UNION ALL SELECT body FROM intake.counseling_messages WHERE request_id = :r "
        "UNION ALL SELECT raw FROM intake.zalo_events WHERE strpos(dedupe_key, :z) > 0",
        c=uuid.UUID(case_id),
        r=request_id,
        z=zalo_user,
    )
    return [row["v"] for row in rows]


async def test_data_under_key_a_reads_after_rotating_to_b_and_after_a_is_removed(intake):
    context = intake.app.state.intake
    original = context.cipher
    both_keys = f"{KEY_A},{KEY_B}"
    body = {**MINIMAL_CASE, "child": CHILD, "consent": CONSENT, "reporter_contact": {"phone": "0987654321"}}
    case = (await intake.client.post("/v1/cases", json=body, headers=intake.headers["reporter"])).json()
    async with intake.client_from("198.51.100.77") as client:
        counseling = await client.post(
            "/v1/counseling-requests",
            json={"topic": "free", "message": "Con bị bạn bè bắt nạt.", "contact": {"phone": "0911222333"}},
        )
    assert counseling.status_code == 201, counseling.text
    [request] = await intake.rows(
        "SELECT id FROM intake.counseling_requests WHERE code = :c", c=counseling.json()["code"]
    )
    zalo_user = f"rot{uuid.uuid4().hex[:12]}"
    raw, headers = signed(user_send_text(zalo_user, "Em cần giúp đỡ", msg_id=zalo_user))
    assert (await intake.client.post("/v1/zalo/webhook", content=raw, headers=headers)).status_code == 200
    await eventually(
        lambda: intake.rows("SELECT 1 FROM intake.counseling_requests WHERE zalo_user_id = :u", u=zalo_user)
    )

    before = await _stored(intake, case["id"], request["id"], zalo_user)
    assert len(before) == 4 and all(value.startswith("v2:dev1:") for value in before), before
    try:
        # B added and active: A's values still read, new values are written under B.
        context.cipher = FieldCipher(parse_keys(both_keys), "k2")
        child = await intake.client.get(f"/v1/cases/{case['id']}/child", headers=intake.headers["reporter"])
        assert child.status_code == 200 and child.json()["child"]["name"] == CHILD["name"]
        newer = (await intake.client.post("/v1/cases", json=body, headers=intake.headers["reporter"])).json()
        [row] = await intake.rows("SELECT wrapped FROM intake.case_keys WHERE case_id = :c", c=uuid.UUID(newer["id"]))
        assert row["wrapped"].startswith("v2:k2:")
        case_values = await intake.rows(
            "SELECT name FROM intake.case_children WHERE case_id = :c", c=uuid.UUID(case["id"])
        )

        rotating = {**intake.env, "CHILD_DATA_KEYS": both_keys, "CHILD_DATA_ACTIVE_KEY": "k2"}
        code, output = await cli(dataclasses.replace(intake, env=rotating), "rotate-keys")
        assert code == 0, output
        after = await _stored(intake, case["id"], request["id"], zalo_user)
        assert len(after) == 4 and all(value.startswith("v2:k2:") for value in after), after

        # A removed: everything still reads, through the API and for each column.
        only_b = FieldCipher(parse_keys(KEY_B))
        context.cipher = only_b
        child = await intake.client.get(f"/v1/cases/{case['id']}/child", headers=intake.headers["reporter"])
        assert child.status_code == 200
        assert child.json()["child"]["address"] == CHILD["address"]
        [stored] = await intake.rows(
            "SELECT c.reporter_contact, r.contact, m.body FROM intake.cases c, intake.counseling_requests r "
            "JOIN intake.counseling_messages m ON m.request_id = r.id WHERE c.id = :c AND r.id = :r",
            c=uuid.UUID(case["id"]),
            r=request["id"],
        )
        async with intake.sessions() as session:
            own = await case_cipher(session, store.case_keys, only_b, uuid.UUID(case["id"]))
        assert json.loads(own.decrypt(stored["reporter_contact"], f"case:{case['id']}:reporter_contact")) == {
            "phone": "0987654321"
        }
        # The case's own values were not rewritten: only their key was re-wrapped.
        after_values = await intake.rows(
            "SELECT name FROM intake.case_children WHERE case_id = :c", c=uuid.UUID(case["id"])
        )
        assert after_values == case_values
        assert json.loads(only_b.decrypt(stored["contact"], f"counseling:{request['id']}:contact"))["phone"] == (
            "0911222333"
        )
        assert only_b.decrypt(stored["body"], f"counseling:{request['id']}:message") == "Con bị bạn bè bắt nạt."
        [event] = await intake.rows(
            "SELECT raw, dedupe_key FROM intake.zalo_events WHERE dedupe_key = :d", d=f"msg:{zalo_user}"
        )
        assert json.loads(only_b.decrypt(event["raw"], f"zalo:{event['dedupe_key']}"))["sender"]["id"] == zalo_user
    finally:
        # The package's database is shared: put every value back under A, as the other tests' intakes expect.
        context.cipher = original
        await rotation.rotate_all(intake.sessions, FieldCipher(parse_keys(both_keys), original.active))
