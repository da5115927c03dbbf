"""The chair's rules without a server: the suggestion's order and reasons follow the assignment policy, what
a case still lacks, when a case has every opinion, and reading a member CSV into a preview."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from services.routing.domain import Candidate, choose, missing_fields, opinions_complete, suggest
from services.routing.member_import import compare, read
from services.routing.registry import MemberIn


def _c(fields: str, load: int = 0, capacity: int = 5, units: str = "", available: bool = True, at=None) -> Candidate:
    return Candidate(
        member_id=uuid.uuid4(),
        fields=frozenset(fields.split(",")),
        units=frozenset(u for u in units.split(",") if u),
        load=load,
        capacity=capacity,
        last_assigned_at=at,
        available=available,
    )


def test_the_suggestion_ranks_as_the_policy_picks_and_says_why_the_others_are_skipped():
    local = _c("law", load=3, units="go-dau")
    idle = _c("law", load=0)
    busy = _c("law", load=1, at=datetime(2026, 11, 1, tzinfo=UTC))
    full = _c("law", load=2, capacity=2)
    away = _c("law", available=False)
    declined = _c("law")
    other = _c("medicine")
    pool = [local, idle, busy, full, away, declined, other]
    ranked = suggest("law", "go-dau", pool, excluded=[declined.member_id])
    assert [s.member_id for s in ranked[:3]] == [local.member_id, idle.member_id, busy.member_id]
    assert [s.rank for s in ranked] == [1, 2, 3, None, None, None]
    assert ranked[0].covers_unit and not ranked[1].covers_unit
    assert ranked[0].member_id == choose(["law"], "go-dau", pool, excluded={"law": {declined.member_id}}).picks["law"]
    skipped = {s.member_id: s for s in ranked if not s.eligible}
    assert skipped[declined.member_id].excluded and not skipped[away.member_id].available
    assert skipped[full.member_id].load == skipped[full.member_id].capacity
    assert other.member_id not in {s.member_id for s in ranked}
    on_case = suggest("law", None, [full], on_case=[full.member_id])
    assert on_case[0].eligible, "another field of the same case costs no capacity"


def test_what_a_case_lacks_and_when_every_opinion_is_in():
    a, b = uuid.uuid4(), uuid.uuid4()
    assert missing_fields(["law", "psychology", "law"], ["law", None]) == ("psychology",)
    assert missing_fields([], []) == ()
    assert opinions_complete([a, b], 0, [a, b, a])
    assert not opinions_complete([a, b], 0, [a])
    assert not opinions_complete([a], 1, [a]), "someone still to answer"
    assert not opinions_complete([], 0, []), "nobody accepted yet"


HEADER = "key,display_name,organisation,organisation_kind,fields,email,capacity,quiet_start,leave_periods\n"


def test_a_csv_is_read_row_by_row_with_field_errors_in_vietnamese_and_compared_with_the_registry():
    text = (
        "\ufeff" + HEADER + "a-1,Nguyễn Văn A,Sở Y tế,department,medicine,a@club.example,4,,\n"
        "a-2,Trần Thị B,Sở Y tế,department,medicine;law,b@club.example,5,,2026-12-01..2026-12-05\n"
        "a-3,Lê C,Sở Y tế,department,surgery,c,-1,22:00,\n"
        "a-1,Trùng,Sở Y tế,department,law,d@club.example,1,,\n"
        "a-4,Phạm D,Sở Y tế,department,law,e@club.example,1,22:00,\n"
        ",,,,,,,,\n"
    )
    rows, problems = read(text)
    assert problems == [] and [r.line for r in rows] == [2, 3, 4, 5, 6]
    bad = {e.field: e for e in rows[2].errors}
    assert set(bad) >= {"fields", "email", "capacity"}
    assert bad["capacity"].vi == "Phải lớn hơn hoặc bằng 0."
    (pair,) = rows[4].errors  # a rule across fields is checked once every field is valid
    assert pair.field == "quiet_end" and pair.vi.startswith("Giờ yên lặng")
    assert any(e.field == "key" and "dòng 2" in e.vi for e in rows[3].errors)
    registry = {"a-1": rows[0].member, "a-2": MemberIn.model_validate(rows[1].member.model_dump() | {"capacity": 9})}
    registry["a-1"] = MemberIn.model_validate(rows[0].member.model_dump())
    compare(rows, registry)
    assert [r.status for r in rows] == ["unchanged", "changed", "error", "error", "error"]
    assert rows[1].changes == [("capacity", 9, 5)]
    compare(rows, {})
    assert rows[0].status == "added"


def test_a_file_without_a_key_column_or_with_unknown_columns_is_refused_whole():
    assert read("ten,tuoi\nA,3\n")[1][0].field == "csv"
    assert "mau_sac" in read("key,mau_sac\na,x\n")[1][0].vi
    assert read(HEADER)[1][0].vi == "Tệp không có dòng thành viên nào."
