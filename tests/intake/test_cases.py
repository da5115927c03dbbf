"""Cases: the minimal body, defaults, codes, status from routing, idempotency, encryption, audit,
consent, possible duplicates, unit validity and NFC."""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
import uuid
from datetime import UTC, datetime, timedelta

import aio_pika
import pytest
from sqlalchemy import text

from devtools.waiting import eventually
from shared.events import Envelope
from shared.events.routing import CaseStatusChanged
from shared.topology import Topology
from tests.intake.conftest import MINIMAL_CASE

pytestmark = pytest.mark.asyncio(loop_scope="package")

CHILD = {
    "name": "Nguyễn Thị Hòa",
    "date_of_birth": "2015-03-04",
    "sex": "female",
    "address": "12 Đường Cách Mạng Tháng Tám, Tân Ninh",
    "school": "Trường Tiểu học Kim Đồng",
    "guardian": "Nguyễn Văn Bình (cha)",
    "contact": "0912345678",
}
CONSENT = {
    "child": {"recorded_by": "Cán bộ Đoàn", "recorded_at": "2026-11-19T08:00:00+07:00"},
    "guardian": {"recorded_by": "Cán bộ Đoàn", "recorded_at": "2026-11-19T08:05:00+07:00"},
}


def with_child(**extra: object) -> dict:
    return {**MINIMAL_CASE, "child": CHILD, "consent": CONSENT, **extra}


async def test_minimal_case_is_accepted_with_a_yearly_code_and_sensible_defaults(intake):
    response = await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["reporter"])
    assert response.status_code == 201, response.text
    created = response.json()
    assert re.fullmatch(r"TN-2026-\d{6}", created["code"]) and created["status"] == "reported"
    second = (await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["reporter"])).json()
    assert int(second["code"][-6:]) == int(created["code"][-6:]) + 1

    case = (await intake.client.get(f"/v1/cases/{created['id']}", headers=intake.headers["reporter"])).json()
    assert case["protection_level"] == "support"  # from urgency high
    assert case["learned_at"] == case["reported_at"] == "2026-11-20T03:00:00Z"
    assert case["has_child_data"] is False and case["age_band"] == "unknown"
    [stored] = await intake.events("case.reported", created["id"])
    event = json.loads(stored)
    assert event["payload"]["case_id"] == created["id"] and event["payload"]["protection_level"] == "support"
    # The code is made by the statement that writes the case and spliced into the envelope: the same code.
    assert Envelope.model_validate_json(stored).event().code == created["code"]  # type: ignore[attr-defined]


async def test_case_status_follows_routings_status_changed_events(intake):
    created = (await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=intake.headers["reporter"])).json()
    moved = CaseStatusChanged(
        case_id=uuid.UUID(created["id"]),
        code=created["code"],
        from_status="reported",
        to_status="assigned",
        changed_at=datetime.now(UTC),
    )
    connection = await aio_pika.connect(intake.env["RABBITMQ_URL"])
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(intake.env["BROKER_NAMESPACE"]).events_exchange)
        envelope = Envelope.wrap(moved, producer="routing")
        await exchange.publish(aio_pika.Message(envelope.model_dump_json().encode()), routing_key=moved.TYPE)

    async def assigned() -> bool:
        case = (await intake.client.get(f"/v1/cases/{created['id']}", headers=intake.headers["reporter"])).json()
        return case["status"] == "assigned"

    await eventually(assigned)


async def test_same_idempotency_key_returns_the_first_answer_and_another_body_is_a_conflict(intake):
    headers = {**intake.headers["reporter"], "Idempotency-Key": f"report-{uuid.uuid4()}"}
    first = await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=headers)
    again = await intake.client.post("/v1/cases", json=MINIMAL_CASE, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other = await intake.client.post("/v1/cases", json={**MINIMAL_CASE, "urgency": "low"}, headers=headers)
    assert other.status_code == 409
    assert len(await intake.rows("SELECT id FROM intake.cases WHERE code = :c", c=first.json()["code"])) == 1
    assert len(await intake.events("case.reported", first.json()["id"])) == 1
    refused = await intake.rows(
        "SELECT id FROM intake.cases WHERE urgency = 'low' AND reported_at = :t", t=intake.clock.now()
    )
    assert refused == []


async def test_two_requests_racing_with_one_idempotency_key_make_one_case_and_get_the_same_answer(intake):
    """Both pass the replay lookup before either writes: the loser's write fails on the key (the whole statement,
    so nothing of it is kept) and it answers what the winner stored."""
    key = f"race-{uuid.uuid4()}"
    headers = {**intake.headers["reporter"], "Idempotency-Key": key}
    key_id = headers["Authorization"].split("_")[1]
    [account] = await intake.rows("SELECT account_id FROM intake.credentials WHERE key_id = :k", k=key_id)
    body = {**MINIMAL_CASE, "summary": f"Hai lần gửi cùng lúc {key}"}
    async with intake.sessions() as blocker:
        # An uncommitted row with the same key: neither request sees it, and both writes wait on it.
        await blocker.execute(
            text(
                "INSERT INTO intake.idempotency_keys (account_id, key, request_sha256, status_code, response) "
                "VALUES (:a, :k, 'x', 201, '{}')"
            ),
            {"a": account["account_id"], "k": key},
        )
        posts = [asyncio.create_task(intake.client.post("/v1/cases", json=body, headers=headers)) for _ in range(2)]

        async def both_wait() -> bool:
            waiting = await intake.rows(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database() AND query LIKE '%idempotency_keys%'"
            )
            return waiting[0]["n"] == 2

        await eventually(both_wait)
        await blocker.rollback()
    first, second = await asyncio.gather(*posts)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json() == second.json()
    assert "idempotent-replayed" in first.headers or "idempotent-replayed" in second.headers
    cases = await intake.rows("SELECT code FROM intake.cases WHERE code = :c", c=first.json()["code"])
    assert len(cases) == 1
    assert len(await intake.events("case.reported", first.json()["id"])) == 1


async def test_child_fields_are_encrypted_at_rest_and_never_in_events(intake):
    response = await intake.client.post("/v1/cases", json=with_child(), headers=intake.headers["reporter"])
    assert response.status_code == 201, response.text
    case_id = response.json()["id"]
    [raw] = await intake.rows("SELECT * FROM intake.case_children WHERE case_id = :id", id=uuid.UUID(case_id))
    dump = json.dumps([str(v) for v in raw.values()], ensure_ascii=False)
    for value in [*CHILD.values(), "Hòa", "0912345678", "2015"]:
        assert value not in dump
    assert all(str(raw[f]).startswith("v2:case:") for f in CHILD)  # under the case's own key
    [case_row] = await intake.rows("SELECT * FROM intake.cases WHERE id = :id", id=uuid.UUID(case_id))
    assert "Hòa" not in json.dumps({k: str(v) for k, v in case_row.items()}, ensure_ascii=False)
    events = "".join(await intake.events("case.reported", case_id))
    for value in CHILD.values():
        assert value not in events
    assert json.loads(events)["payload"]["age_band"] == "11-15"


async def test_reading_the_childs_data_is_audited_and_the_audit_log_is_for_admins(intake):
    case_id = (await intake.client.post("/v1/cases", json=with_child(), headers=intake.headers["reporter"])).json()[
        "id"
    ]
    assert (await intake.rows("SELECT id FROM intake.audit_log WHERE case_id = :id", id=uuid.UUID(case_id))) == []
    child = await intake.client.get(f"/v1/cases/{case_id}/child", headers=intake.headers["chair"])
    assert child.status_code == 200
    assert child.json()["child"]["name"] == "Nguyễn Thị Hòa"
    assert (await intake.client.get(f"/v1/cases/{case_id}", headers=intake.headers["chair"])).status_code == 200
    log = await intake.client.get("/v1/audit-log", params={"case_id": case_id}, headers=intake.headers["admin"])
    entries = {e["action"]: e for e in log.json()}
    assert set(entries) == {"read_child", "read_case"}  # the case's summary is free text about the child too
    entry = entries["read_child"]
    assert entry["role"] == "chair" and set(entry["fields"]) == set(CHILD)
    assert entries["read_case"]["fields"] == ["summary"]
    assert (await intake.client.get("/v1/audit-log", headers=intake.headers["chair"])).status_code == 403


async def test_consent_is_required_unless_the_child_is_under_seven_or_it_is_an_emergency(intake):
    headers = intake.headers["reporter"]
    before = len(await intake.rows("SELECT id FROM intake.cases"))
    no_consent = await intake.client.post("/v1/cases", json={**MINIMAL_CASE, "child": {"age": 12}}, headers=headers)
    assert no_consent.status_code == 422
    assert {e["field"] for e in no_consent.json()["detail"]} == {"body.consent.guardian", "body.consent.child"}
    guardian_only = {"guardian": CONSENT["guardian"]}
    young = {**MINIMAL_CASE, "child": {"age": 5}, "consent": guardian_only}
    assert (await intake.client.post("/v1/cases", json=young, headers=headers)).status_code == 201
    older = {**MINIMAL_CASE, "child": {"age": 7}, "consent": guardian_only}
    assert (await intake.client.post("/v1/cases", json=older, headers=headers)).status_code == 422
    emergency = {
        **MINIMAL_CASE,
        "child": CHILD,
        "legal_basis": "emergency_protection_of_life_or_health",
        "emergency_reason": "Trẻ cần cấp cứu ngay.",
    }
    assert (await intake.client.post("/v1/cases", json=emergency, headers=headers)).status_code == 201
    assert len(await intake.rows("SELECT id FROM intake.cases")) == before + 2  # refused cases left nothing behind


async def test_a_second_report_about_the_same_child_within_30_days_is_linked_for_the_chair(intake):
    headers = intake.headers["reporter"]
    child = {**CHILD, "name": "Trần Thị Lụa", "date_of_birth": "2013-01-02"}
    first = (await intake.client.post("/v1/cases", json=with_child(child=child), headers=headers)).json()
    intake.clock.advance(timedelta(days=10))
    spelled_differently = {**child, "name": "  trần thị  LỤA "}
    second = (await intake.client.post("/v1/cases", json=with_child(child=spelled_differently), headers=headers)).json()
    intake.clock.advance(timedelta(days=31))
    third = (await intake.client.post("/v1/cases", json=with_child(child=child), headers=headers)).json()

    seen_by_chair = (await intake.client.get(f"/v1/cases/{second['id']}", headers=intake.headers["chair"])).json()
    assert seen_by_chair["possible_duplicate_of"] == first["id"]
    assert (await intake.client.get(f"/v1/cases/{second['id']}", headers=headers)).json()[
        "possible_duplicate_of"
    ] is None
    linked = await intake.client.get(f"/v1/cases/{first['id']}/possible-duplicates", headers=intake.headers["chair"])
    assert [c["id"] for c in linked.json()] == [second["id"]]
    assert (await intake.client.get(f"/v1/cases/{third['id']}", headers=intake.headers["chair"])).json()[
        "possible_duplicate_of"
    ] is None  # 31 days after the latest report about the child: not linked
    hashes = await intake.rows("SELECT identity_hash FROM intake.cases")
    assert all(child["name"] not in str(h["identity_hash"]) for h in hashes)


async def test_a_unit_outside_its_validity_is_refused_naming_its_successors(intake):
    body = {**MINIMAL_CASE, "unit": "tay-ninh"}
    response = await intake.client.post(
        "/v1/cases", json=body, headers={**intake.headers["chair"], "Accept-Language": "en"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "body.unit" and "30/6/2025" in error["message"] and "Phường Tân Ninh" in error["message"]
    vietnamese = await intake.client.post(
        "/v1/cases", json=body, headers={**intake.headers["chair"], "Accept-Language": "vi"}
    )
    assert "Đơn vị kế thừa" in vietnamese.json()["detail"][0]["message"]


async def test_an_expired_units_error_speaks_vietnamese_to_a_person(intake):
    body = {**MINIMAL_CASE, "unit": "ben-cau"}
    response = await intake.client.post(
        "/v1/cases", json=body, headers={**intake.headers["chair"], "Accept-Language": "vi"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "body.unit"
    assert error["message"] == (
        "Huyện Bến Cầu chỉ có hiệu lực đến ngày 30/6/2025. Đơn vị kế thừa: Xã Bến Cầu, Xã Long Chữ, Xã Long Thuận."
    )
    assert await intake.rows("SELECT id FROM intake.cases WHERE unit = 'ben-cau'") == []


async def test_decomposed_vietnamese_is_stored_and_emitted_in_nfc(intake):
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    body = {**MINIMAL_CASE, "summary": nfd("Trẻ bị bạo lực ở trường"), "reporter_contact": {"name": nfd("Lê Hòa")}}
    case_id = (await intake.client.post("/v1/cases", json=body, headers=intake.headers["reporter"])).json()["id"]
    stored = (await intake.client.get(f"/v1/cases/{case_id}", headers=intake.headers["chair"])).json()["summary"]
    assert stored == unicodedata.normalize("NFC", "Trẻ bị bạo lực ở trường") != body["summary"]
    unit = {"name_vi": nfd("Phường Hòa Thành Mới"), "kind": nfd("phường"), "valid_from": "2026-01-01"}
    assert (
        await intake.client.put("/v1/units/phuong-hoa-thanh-moi", json=unit, headers=intake.headers["admin"])
    ).status_code == 200
    [event] = [json.loads(e) for e in await intake.events("unit.upserted", "phuong-hoa-thanh-moi")]
    assert (
        event["payload"]["name_vi"]
        == "Phường Hòa Thành Mới"
        == unicodedata.normalize("NFC", event["payload"]["name_vi"])
    )
    assert unicodedata.is_normalized("NFC", event["payload"]["name_vi"]) and not unicodedata.is_normalized(
        "NFC", unit["name_vi"]
    )


async def test_an_emergency_category_below_its_suggested_urgency_needs_a_reason_which_the_chair_reads(intake):
    body = {**MINIMAL_CASE, "category": "sexual_abuse", "urgency": "high"}
    refused = await intake.client.post(
        "/v1/cases", json=body, headers={**intake.headers["reporter"], "Accept-Language": "vi"}
    )
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["detail"]
    assert error["field"] == "body.urgency_reason" and error["type"] == "reason_required"
    expected = "Loại vụ việc “Xâm hại tình dục” được pháp luật coi là khẩn cấp: "
    assert error["message"] == expected + "ghi mức độ thấp hơn “Khẩn cấp” cần nêu lý do."
    blank = await intake.client.post(
        "/v1/cases", json={**body, "urgency_reason": "   "}, headers=intake.headers["reporter"]
    )
    assert blank.status_code == 422
    assert await intake.rows("SELECT id FROM intake.cases WHERE category = 'sexual_abuse'") == []

    reason = "Trẻ đã được gia đình đưa đi khám và đang ở nơi an toàn."
    created = await intake.client.post(
        "/v1/cases", json={**body, "urgency_reason": reason}, headers=intake.headers["reporter"]
    )
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    as_chair = (await intake.client.get(f"/v1/cases/{case_id}", headers=intake.headers["chair"])).json()
    assert as_chair["urgency_reason"] == reason and as_chair["suggested_urgency"] == "critical"
    as_reporter = (await intake.client.get(f"/v1/cases/{case_id}", headers=intake.headers["reporter"])).json()
    assert as_reporter["urgency_reason"] is None
    [event] = [json.loads(e) for e in await intake.events("case.reported", case_id)]
    assert event["version"] == 2 and event["payload"]["suggested_urgency"] == "critical"
    assert reason not in json.dumps(event)  # free text stays in intake

    # At or above the floor, and for categories whose suggestion is not an emergency, no reason is asked.
    critical = await intake.client.post(
        "/v1/cases", json={**body, "urgency": "critical"}, headers=intake.headers["reporter"]
    )
    assert critical.status_code == 201
    [event] = [json.loads(e) for e in await intake.events("case.reported", critical.json()["id"])]
    assert event["payload"]["suggested_urgency"] is None
    low = {**MINIMAL_CASE, "category": "violence_physical", "urgency": "low"}  # suggested high: not a floor
    assert (await intake.client.post("/v1/cases", json=low, headers=intake.headers["reporter"])).status_code == 201


async def test_a_minor_of_16_or_17_is_accepted_with_the_16_17_band_and_18_is_refused(intake):
    sixteen = with_child(child={**CHILD, "date_of_birth": "2010-01-15"})
    created = await intake.client.post("/v1/cases", json=sixteen, headers=intake.headers["reporter"])
    assert created.status_code == 201, created.text
    case = (await intake.client.get(f"/v1/cases/{created.json()['id']}", headers=intake.headers["chair"])).json()
    assert case["age_band"] == "16-17"
    [event] = [json.loads(e) for e in await intake.events("case.reported", created.json()["id"])]
    assert event["payload"]["age_band"] == "16-17"
    adult = with_child(child={**CHILD, "date_of_birth": "2008-01-15"})
    refused = await intake.client.post(
        "/v1/cases", json=adult, headers={**intake.headers["reporter"], "Accept-Language": "vi"}
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "body.child.date_of_birth"


async def test_form_01_of_decree_56_is_filled_from_the_case_and_its_read_is_audited(intake):
    import io

    import docx

    body = with_child(
        category="sexual_abuse",
        urgency="critical",
        special_circumstances=["l"],
        learned_at="2026-11-20T08:30:00+07:00",
        reporter_contact={"name": "Lê Thị Hòa", "phone": "0987654321"},
    )
    created = await intake.client.post("/v1/cases", json=body, headers=intake.headers["reporter"])
    assert created.status_code == 201, created.text
    case_id, code = created.json()["id"], created.json()["code"]
    url = f"/v1/cases/{case_id}/form-01"
    assert (await intake.client.get(url)).status_code == 401
    response = await intake.client.get(url, headers=intake.headers["chair"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["cache-control"] == "no-store"
    document = docx.Document(io.BytesIO(response.content))
    text = "\n".join(p.text for p in document.paragraphs)
    header = "\n".join(cell.text for cell in document.tables[0].rows[0].cells)
    assert "Mẫu số 01" in text
    assert "CÂU LẠC BỘ TƯ VẤN, GIÚP ĐỠ TRẺ EM TỈNH TÂY NINH" in header and f"Số: {code}/BC-CLB" in header
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header and "Tây Ninh, ngày 20 tháng 11 năm 2026" in header
    assert "BÁO CÁO\nTIẾP NHẬN THÔNG TIN TRẺ EM BỊ XÂM HẠI" in text
    assert "A. Thông tin chung" in text and "1. Nguồn nhận thông tin" in text
    assert "Họ và tên trẻ em: Nguyễn Thị Hòa" in text and "Ngày tháng năm sinh: 04/03/2015" in text
    assert "Giới tính: Nữ" in text and "Địa điểm xảy ra vụ việc: trên địa bàn Phường Tân Ninh" in text
    assert "Hiện ai là người chăm sóc trẻ em (nếu biết): Nguyễn Văn Bình (cha)" in text
    assert "Hoàn cảnh gia đình: Trẻ em bị xâm hại tình dục" in text
    assert "3. Thông tin người cung cấp thông tin (nếu đồng ý cung cấp)" in text
    assert "Họ và tên: Lê Thị Hòa" in text and "Số điện thoại: 0987654321" in text
    assert "Người báo tin biết sự việc lúc 8 giờ 30 ngày 20/11/2026" in text
    assert "Cán bộ tiếp nhận thông tin" in document.tables[-1].rows[0].cells[1].text
    [audit] = await intake.rows(
        "SELECT action, fields FROM intake.audit_log WHERE case_id = :id AND action = 'form_01'", id=uuid.UUID(case_id)
    )
    assert "name" in audit["fields"] and "reporter_contact" in audit["fields"]
    unknown = await intake.client.get(f"/v1/cases/{uuid.uuid4()}/form-01", headers=intake.headers["reporter"])
    assert unknown.status_code == 404
