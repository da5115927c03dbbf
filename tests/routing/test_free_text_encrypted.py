"""The free text routing keeps about a child (opinions, the chair's proposal, the outcome, the answer to a
counseling request) is stored encrypted and padded, and each read is written to routing's audit log."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from devtools.waiting import eventually
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import CounselingRequestReceived
from tests.routing.support import (
    START,
    as_assignee,
    as_role,
    by_field,
    case_reported,
    emitted,
    publish,
    routing_app,
    routing_settings,
    seeded,
)

OPINION = "Em Đỗ Minh Khang (lớp 6A, trường THCS Trảng Bàng) cần tư vấn tâm lý."
PROPOSAL = "Đề xuất: đưa em Khang về nhà bà ngoại ở ấp Lộc Thành."
OUTCOME = "Em Khang đã an toàn tại nhà bà ngoại."
ANSWER = "Chào em Thư, em hãy gọi 111."


async def _rows(app, sql: str, **params: object) -> list:
    async with app.state.runtime.sessions() as session:
        return list((await session.execute(text(sql), params)).mappings())


async def test_opinions_proposal_outcome_and_answers_are_encrypted_and_their_reads_audited(base_env):
    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("violence_emotional", "phuong-tan-ninh", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        case_id = uuid.UUID(assigned["case_id"])
        case_url = f"/v1/cases/{case_id}"
        chair = await as_role(app, "chair")
        psychologist = await as_assignee(app, by_field(assigned)["psychology"])
        accept = f"/v1/assignments/{by_field(assigned)['psychology']['assignment_id']}/accept"
        assert (await client.post(accept, headers=psychologist)).status_code == 200
        opinion = {"text": OPINION, "recommended_level": "support"}
        assert (await client.post(f"{case_url}/opinions", json=opinion, headers=psychologist)).status_code == 201
        assert (await client.post(f"{case_url}/forward", json={"proposal": PROPOSAL}, headers=chair)).status_code == 200
        closed = await client.post(f"{case_url}/close", json={"outcome": OUTCOME}, headers=chair)
        assert closed.status_code == 200 and closed.json()["outcome"] == OUTCOME

        [case] = await _rows(app, "SELECT proposal, outcome FROM routing.cases WHERE case_id = :c", c=case_id)
        [stored] = await _rows(app, "SELECT text FROM routing.opinions WHERE case_id = :c", c=case_id)
        for value in (case["proposal"], case["outcome"], stored["text"]):
            assert value.startswith("v2:") and "Khang" not in value
        assert len(case["outcome"]) == len(stored["text"])  # padded: lengths do not tell the texts apart

        read = (await client.get(case_url, headers=chair)).json()
        assert (read["proposal"], read["outcome"], read["opinions"][0]["text"]) == (PROPOSAL, OUTCOME, OPINION)
        audit = await _rows(
            app, "SELECT role, action, fields FROM routing.audit_log WHERE case_id = :c ORDER BY id", c=case_id
        )
        assert audit[-1] == {"role": "chair", "action": "read_case", "fields": ["opinions", "outcome", "proposal"]}

        request = CounselingRequestReceived(
            request_id=uuid.uuid4(),
            code="TV-2026-000099",
            topic="ap-luc-thi-cu",
            channel="web",
            age_band="11-15",
            received_at=START,
        )
        await publish(settings, Envelope.wrap(request, producer="intake"))
        (given,) = await eventually(lambda: emitted(app, "counseling_request.assigned"))
        holder = await as_assignee(app, given["assignment"])
        url = f"/v1/counseling-requests/{request.request_id}"
        assert (await client.post(f"{url}/answer", json={"text": ANSWER}, headers=holder)).status_code == 200
        [row] = await _rows(
            app, "SELECT answer_text FROM routing.counseling_requests WHERE request_id = :r", r=request.request_id
        )
        assert row["answer_text"].startswith("v2:") and "Thư" not in row["answer_text"]
        assert (await client.get(url, headers=chair)).json()["answer_text"] == ANSWER
        [entry] = await _rows(
            app, "SELECT role, fields FROM routing.audit_log WHERE case_id = :r", r=request.request_id
        )
        assert entry == {"role": "chair", "fields": ["answer_text"]}


async def test_consent_withdrawn_erases_routings_part_of_the_case(base_env):
    from datetime import timedelta

    from shared.events.intake import CaseConsentWithdrawn

    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("violence_emotional", "phuong-tan-ninh", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        case_id = uuid.UUID(assigned["case_id"])
        url = f"/v1/cases/{case_id}"
        chair = await as_role(app, "chair")
        psychologist = await as_assignee(app, by_field(assigned)["psychology"])
        accept = f"/v1/assignments/{by_field(assigned)['psychology']['assignment_id']}/accept"
        assert (await client.post(accept, headers=psychologist)).status_code == 200
        assert (await client.post(f"{url}/opinions", json={"text": OPINION}, headers=psychologist)).status_code == 201
        assert (await client.post(f"{url}/forward", json={"proposal": PROPOSAL}, headers=chair)).status_code == 200
        [stored] = await _rows(app, "SELECT text FROM routing.opinions WHERE case_id = :c", c=case_id)
        assert stored["text"].startswith("v2:case:")  # under the case's own key

        withdrawn = CaseConsentWithdrawn(
            case_id=case_id, code=assigned["code"], withdrawn_at=START + timedelta(hours=1)
        )
        await publish(settings, Envelope.wrap(withdrawn, producer="intake"))

        async def erased() -> bool:
            rows = await _rows(app, "SELECT wrapped FROM routing.case_keys WHERE case_id = :c", c=case_id)
            return bool(rows) and rows[0]["wrapped"] is None

        await eventually(erased)
        read = (await client.get(url, headers=chair)).json()
        assert read["proposal"] is None and [o["text"] for o in read["opinions"]] == [""]
        assert read["status"] == "forwarded"  # the case itself, and what is counted, stay


async def test_rotating_the_master_key_rewraps_case_keys_and_reencrypts_answers_leaving_case_values(base_env):
    import base64

    from services.routing import rotation
    from shared.crypto import DEV_CHILD_DATA_KEYS, FieldCipher, parse_keys

    settings = routing_settings(base_env)
    await seeded(settings)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        await publish(settings, case_reported("violence_emotional", "phuong-tan-ninh", "medium"))
        assigned = (await eventually(lambda: emitted(app, "case.assigned")))[0]
        case_id = uuid.UUID(assigned["case_id"])
        psychologist = await as_assignee(app, by_field(assigned)["psychology"])
        accept = f"/v1/assignments/{by_field(assigned)['psychology']['assignment_id']}/accept"
        assert (await client.post(accept, headers=psychologist)).status_code == 200
        url = f"/v1/cases/{case_id}/opinions"
        assert (await client.post(url, json={"text": OPINION}, headers=psychologist)).status_code == 201
        [before] = await _rows(app, "SELECT text FROM routing.opinions WHERE case_id = :c", c=case_id)

        both = FieldCipher(parse_keys(f"{DEV_CHILD_DATA_KEYS},k2:{base64.b64encode(bytes(range(32))).decode()}"), "k2")
        counts = await rotation.rotate_all(app.state.runtime.sessions, both)
        assert counts["case_keys.wrapped"] >= 1 and counts["opinions.text"] == 0
        [key] = await _rows(app, "SELECT wrapped FROM routing.case_keys WHERE case_id = :c", c=case_id)
        [after] = await _rows(app, "SELECT text FROM routing.opinions WHERE case_id = :c", c=case_id)
        assert key["wrapped"].startswith("v2:k2:") and after == before  # the case's values untouched
        assert (await rotation.rotate_all(app.state.runtime.sessions, both))["case_keys.wrapped"] == 0
