"""A counseling request nobody available can take after a decline goes to the chair at once, as a
`case.escalated` with `reason=nobody_available` (notify delivers it), not at the answer deadline."""

from __future__ import annotations

import uuid
from pathlib import Path

from devtools.waiting import eventually
from services.routing.seed import import_file
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import CounselingRequestReceived
from tests.routing.support import START, as_assignee, emitted, publish, routing_app, routing_settings
from tests.support.sealed import reply_to

ONE_PSYCHOLOGIST = """key,display_name,organisation,organisation_kind,club_role,fields,units,email,zalo_user_id,capacity
chu-nhiem,Nguyễn Văn An,Tỉnh đoàn,provincial,chair,,,an@club.example,111,3
tam-ly,Đỗ Thị Hoa,Sở GD&ĐT,department,member,psychology,,hoa@club.example,444,3
"""


async def test_after_the_only_psychologist_declines_the_chair_is_told_nobody_can_take_the_request(
    base_env, tmp_path: Path
):
    settings = routing_settings(base_env)
    club = tmp_path / "club.csv"
    club.write_text(ONE_PSYCHOLOGIST, encoding="utf-8")
    assert await import_file(settings, club) == 2
    async with routing_app(settings, FakeClock(START)) as (app, client):
        request = CounselingRequestReceived(
            request_id=uuid.uuid4(),
            code="TV-2026-000011",
            topic="ap-luc-thi-cu",
            channel="zalo",
            age_band="11-15",
            received_at=START,
        )
        request = request.model_copy(update={"reply_to": reply_to(request.request_id, "8800000000000000456")})
        await publish(settings, Envelope.wrap(request, producer="intake"))
        (assigned,) = await eventually(lambda: emitted(app, "counseling_request.assigned"))
        assert await emitted(app, "case.escalated") == []

        info = assigned["assignment"]
        response = await client.post(
            f"/v1/assignments/{info['assignment_id']}/decline", headers=await as_assignee(app, info)
        )
        assert response.status_code == 200

        (told,) = await emitted(app, "case.escalated")
        assert told["request_id"] == str(request.request_id) and told["case_id"] is None
        assert told["reason"] == "nobody_available" and told["level"] == "chair"
        assert [r["display_name"] for r in told["recipients"]] == ["Nguyễn Văn An"]
        assert len(await emitted(app, "counseling_request.assigned")) == 1  # nobody else was given it
