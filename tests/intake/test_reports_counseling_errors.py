"""Monthly reports (revisions, timeliness, unit validity), counseling requests (tracking code and
secret, the club's answer, per-address limit) and the error contract (422 per field by language, 413,
415)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import aio_pika
import pytest

from devtools.waiting import eventually
from shared.events import Envelope
from shared.events.routing import CounselingRequestAnswered
from shared.topology import Topology
from tests.intake.conftest import MINIMAL_CASE
from tests.support.sealed import answer_for

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_monthly_report_revisions_are_kept_and_each_is_on_time_or_late(intake):
    path = "/v1/units/phuong-tan-ninh/monthly-reports/2026-09"
    headers = intake.headers["reporter"]
    intake.clock.set(datetime(2026, 10, 5, 16, 0, tzinfo=UTC))  # 23:00 on the 5th in Vietnam: on time
    first = await intake.client.put(
        path, json={"cases_by_category": {"neglect": 1}, "notes": "Tháng 9"}, headers=headers
    )
    assert first.status_code == 201 and first.json()["on_time"] is True and first.json()["due_on"] == "2026-10-05"
    intake.clock.set(datetime(2026, 10, 5, 17, 30, tzinfo=UTC))  # 00:30 on the 6th in Vietnam: late
    second = await intake.client.put(
        path, json={"cases_by_category": {"neglect": 2}, "activities_held": 3}, headers=headers
    )
    assert second.status_code == 200 and second.json()["revision"] == 2 and second.json()["on_time"] is False
    history = (await intake.client.get(path, headers=intake.headers["chair"])).json()
    assert [r["cases_by_category"] for r in history["revisions"]] == [{"neglect": 1}, {"neglect": 2}]
    assert history["latest"]["revision"] == 2
    events = [json.loads(e)["payload"] for e in await intake.events("monthly_report.submitted", "2026-09")]
    assert [(e["revision"], e["on_time"]) for e in events if e["unit"] == "phuong-tan-ninh"] == [(1, True), (2, False)]
    unknown = await intake.client.put(path, json={"cases_by_category": {"nope": 1}}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "body.cases_by_category"


async def test_a_report_for_a_month_the_unit_did_not_exist_in_is_refused(intake):
    response = await intake.client.put(
        "/v1/units/phuong-tan-ninh/monthly-reports/2025-05",
        json={},
        headers={**intake.headers["reporter"], "Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["message"] == "Phường Tân Ninh is valid only from 1/7/2025."
    vietnamese = await intake.client.put(
        "/v1/units/phuong-tan-ninh/monthly-reports/2025-05",
        json={},
        headers={**intake.headers["reporter"], "Accept-Language": "vi"},
    )
    assert vietnamese.json()["detail"][0]["message"] == "Phường Tân Ninh chỉ có hiệu lực từ ngày 1/7/2025."


async def test_a_counseling_request_is_read_back_only_with_its_secret_and_shows_the_clubs_answer(intake):
    async with intake.client_from("10.0.0.1") as client:
        created = await client.post(
            "/v1/counseling-requests", json={"topic": "school_violence", "message": "Em bị bắt nạt.", "age": 12}
        )
    assert created.status_code == 201
    code, secret = created.json()["code"], created.json()["secret"]
    assert (
        await intake.client.get(f"/v1/counseling-requests/{code}", headers={"X-Tracking-Secret": "wrong"})
    ).status_code == 404
    [request] = await intake.rows("SELECT id FROM intake.counseling_requests WHERE code = :c", c=code)
    answered = CounselingRequestAnswered(
        request_id=request["id"],
        code=code,
        answer=answer_for(request["id"], "Chào em, em hãy nói với thầy cô chủ nhiệm nhé."),
        answered_by=uuid.uuid4(),
        answered_at=datetime.now(UTC),
    )
    connection = await aio_pika.connect(intake.env["RABBITMQ_URL"])
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(intake.env["BROKER_NAMESPACE"]).events_exchange)
        await exchange.publish(
            aio_pika.Message(Envelope.wrap(answered, producer="routing").model_dump_json().encode()),
            routing_key=answered.TYPE,
        )

    async def answer() -> dict:
        body = (
            await intake.client.get(f"/v1/counseling-requests/{code}", headers={"X-Tracking-Secret": secret})
        ).json()
        return body if body["status"] == "answered" else {}

    body = await eventually(answer)
    assert body["answer"].startswith("Chào em") and set(body) == {
        "code",
        "status",
        "topic",
        "received_at",
        "answer",
        "answered_at",
    }
    [event] = await intake.events("counseling_request.received", code)
    assert "bắt nạt" not in event and json.loads(event)["payload"]["age_band"] == "11-15"


async def test_counseling_requests_are_limited_per_client_address(intake):
    body = {"message": "Cho em hỏi"}
    async with intake.client_from("10.0.0.2") as client:
        statuses = [(await client.post("/v1/counseling-requests", json=body)).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    async with intake.client_from("10.0.0.3") as other:
        assert (await other.post("/v1/counseling-requests", json=body)).status_code == 201


async def test_errors_name_each_bad_field_in_the_requested_language(intake):
    bad = {**MINIMAL_CASE, "urgency": "soon", "summary": "x" * 5001, "extra": 1}
    english = await intake.client.post(
        "/v1/cases", json=bad, headers={**intake.headers["reporter"], "Accept-Language": "en-US,en;q=0.9"}
    )
    vietnamese = await intake.client.post(
        "/v1/cases", json=bad, headers={**intake.headers["reporter"], "Accept-Language": "vi"}
    )
    assert english.status_code == vietnamese.status_code == 422
    fields = {e["field"] for e in english.json()["detail"]}
    assert fields == {"body.urgency", "body.summary", "body.extra"}
    by_field = {e["field"]: e["message"] for e in vietnamese.json()["detail"]}
    assert by_field["body.summary"] == "Quá dài (tối đa 5000 ký tự)."
    assert "should be" in {e["field"]: e["message"] for e in english.json()["detail"]}["body.urgency"]


async def test_oversize_wrong_type_and_malformed_bodies_are_4xx(intake):
    headers = intake.headers["reporter"]
    huge = json.dumps({**MINIMAL_CASE, "summary": "x" * 300_000})
    assert (
        await intake.client.post("/v1/cases", content=huge, headers={**headers, "Content-Type": "application/json"})
    ).status_code == 413
    big_request = json.dumps({"message": "x" * 20_000})
    async with intake.client_from("10.0.0.4") as client:
        assert (
            await client.post(
                "/v1/counseling-requests", content=big_request, headers={"Content-Type": "application/json"}
            )
        ).status_code == 413
    form = await intake.client.post(
        "/v1/cases", content=b"unit=x", headers={**headers, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 415
    broken = await intake.client.post(
        "/v1/cases", content=b'{"unit": ', headers={**headers, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422
    nul = await intake.client.post("/v1/cases", json={**MINIMAL_CASE, "summary": "a\x00b"}, headers=headers)
    assert nul.status_code == 422 and nul.json()["detail"][0]["field"] == "body.summary"
