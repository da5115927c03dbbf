"""The member registry: the demo club, CSV import (all or nothing), the API, and the taxonomy's fields
following `category.upserted`."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from devtools.waiting import eventually
from services.routing import store
from services.routing.registry import parse_areas, parse_csv
from services.routing.seed import import_file, seed
from shared.clock import FakeClock
from shared.events import Envelope
from shared.events.intake import CategoryUpserted
from tests.routing.support import (
    START,
    as_role,
    by_field,
    case_reported,
    emitted,
    member_id,
    publish,
    routing_app,
    routing_settings,
)

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo-club.csv"


def test_the_demo_club_has_the_plans_shape_and_every_field_twice():
    members = parse_csv(DEMO)
    club = [m for m in members if m.club_role != "committee"]
    assert len(club) == 19
    kinds = [m.organisation_kind for m in club]
    # after 2025-07-01 there are no district Youth Unions: members come from commune/ward Youth Unions
    assert (kinds.count("provincial"), kinds.count("department"), kinds.count("commune")) == (3, 3, 13)
    assert "district" not in kinds and not any(m.organisation.startswith(("Huyện đoàn", "Thị đoàn")) for m in club)
    assert [m.club_role for m in club if m.organisation_kind == "provincial"][:2] == ["chair", "vice_chair"]
    for field in ("law", "psychology", "medicine", "education", "social_work"):
        assert sum(field in m.fields for m in club) >= 2
    assert all(m.email.endswith("@club.example") and m.zalo_user_id for m in club)
    assert any(m.club_role == "committee" for m in members)


def test_every_commune_of_the_merged_province_is_covered_by_a_member_from_the_areas_file():
    data = DEMO.parent
    with (data / "units-tay-ninh-2025.csv").open(encoding="utf-8") as handle:
        units = {row["code"]: row["former_province"] for row in csv.DictReader(handle)}
    areas = parse_areas(data / "member-areas-2025.csv")
    covered = {unit for communes in areas.values() for unit in communes}
    assert covered == set(units)  # all 96, none unknown
    assert {units[u] for u in covered} == {"Tây Ninh", "Long An"}
    club = {m.key for m in parse_csv(DEMO)}
    assert set(areas) <= club
    assert "xa-ben-cau" in areas["dd-ben-cau"] and "xa-duc-hoa" in areas["la-duc-hoa"]


async def test_seeding_twice_leaves_one_copy_of_each_member(base_env):
    settings = routing_settings(base_env)
    await seed(settings)
    await seed(settings)
    app_clock = FakeClock(START)
    async with routing_app(settings, app_clock) as (app, client):
        async with app.state.runtime.sessions() as session:
            assert (await session.execute(select(func.count()).select_from(store.members))).scalar_one() == 21
        listed = (await client.get("/v1/members", headers=await as_role(app, "committee"))).json()
        assert len(listed) == 21 and any(m["display_name"] == "Dương Thị Thanh Tuyền" for m in listed)


async def test_a_csv_with_a_bad_row_imports_nothing_and_names_the_line_and_field(base_env, tmp_path: Path):
    settings = routing_settings(base_env)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "key,display_name,organisation,organisation_kind,club_role,fields,email\n"
        "a-1,Nguyễn Văn A,Sở Y tế,department,member,medicine,a@club.example\n"
        "a-2,Trần Văn B,Sở Y tế,department,member,surgery,b@club.example\n",
        encoding="utf-8",
    )
    try:
        await import_file(settings, bad)
    except ValueError as exc:
        assert "line 3: fields.0" in str(exc)
    else:
        raise AssertionError("a bad row must be refused")
    async with routing_app(settings, FakeClock(START)) as (app, _client), app.state.runtime.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(store.members))).scalar_one() == 0


async def test_the_chair_manages_members_over_the_api_with_field_level_errors(base_env):
    settings = routing_settings(base_env)
    async with routing_app(settings, FakeClock(START)) as (app, client):
        chair = await as_role(app, "chair")
        member = {
            "key": "bac-si-hoa",
            "display_name": "Hoà",  # decomposed accent, stored as NFC
            "organisation": "Sở Y tế",
            "organisation_kind": "department",
            "fields": ["medicine"],
            "email": "hoa@club.example",
        }
        created = await client.post("/v1/members", json=member, headers=chair)
        assert created.status_code == 201 and created.json()["display_name"] == "Hoà"
        assert (await client.post("/v1/members", json=member, headers=chair)).status_code == 409
        wrong = await client.post("/v1/members", json=member | {"key": "x-1", "fields": ["surgery"]}, headers=chair)
        assert wrong.status_code == 422 and wrong.json()["detail"][0]["loc"][-2:] == ["fields", 0]
        reporter = await as_role(app, "reporter")
        assert (await client.post("/v1/members", json=member | {"key": "x-2"}, headers=reporter)).status_code == 403
        url = f"/v1/members/{created.json()['member_id']}"
        changed = await client.put(
            url, json=member | {"capacity": 2, "fields": ["medicine", "psychology"]}, headers=chair
        )
        assert changed.json()["capacity"] == 2 and changed.json()["fields"] == ["medicine", "psychology"]


async def test_a_category_upserted_event_changes_the_fields_new_cases_need(base_env):
    settings = routing_settings(base_env)
    await seed(settings)
    async with routing_app(settings, FakeClock(START)) as (app, _client):
        change = CategoryUpserted(
            code="injury", name_vi="Tai nạn thương tích", name_en="Injury", fields=("law",), suggested_urgency="medium"
        )
        await publish(settings, Envelope.wrap(change, producer="intake"))

        async def updated() -> bool:
            async with app.state.runtime.sessions() as session:
                row = (await session.execute(select(store.categories).where(store.categories.c.code == "injury"))).one()
                return row.fields == ["law"]

        await eventually(updated)
        await publish(settings, case_reported("injury", "phuong-tan-ninh", "low", level="prevention"))
        (assigned,) = await eventually(lambda: emitted(app, "case.assigned"))
        assert list(by_field(assigned)) == ["law"]


async def test_a_case_in_a_former_long_an_commune_goes_to_the_member_covering_it_by_area(base_env):
    settings = routing_settings(base_env)
    await seed(settings)
    async with routing_app(settings, FakeClock(START)) as (app, _client):
        # the unit criterion: Lê Văn Nhân (Đoàn xã Cần Giuộc) covers xa-can-giuoc and has medicine and law
        await publish(settings, case_reported("injury", "xa-can-giuoc", "low", level="prevention"))
        (assigned,) = await eventually(lambda: emitted(app, "case.assigned"))
        holders = {a["member"]["member_id"] for a in by_field(assigned).values()}
        assert str(await member_id(app, "la-can-giuoc")) in holders


async def test_a_case_filed_for_a_former_district_goes_to_the_member_covering_its_successor_communes(base_env):
    settings = routing_settings(base_env)
    await seed(settings)
    async with routing_app(settings, FakeClock(START)) as (app, _client):
        async with app.state.runtime.sessions() as session:
            units = (
                await session.execute(select(store.members.c.units).where(store.members.c.key == "dd-tan-chau"))
            ).scalar_one()
        assert set(units) == {"xa-tan-dong", "xa-tan-chau", "xa-tan-phu", "xa-tan-hoi", "xa-tan-thanh", "xa-tan-hoa"}
        # Dương Thị Thanh Tuyền (law, psychology) covers Tân Châu's successor communes; without the unit
        # criterion members whose keys sort first (dd-chau-thanh, dd-duong-minh-chau) would take both fields
        await publish(settings, case_reported("school_violence", "tan-chau", "low", level="prevention"))
        (assigned,) = await eventually(lambda: emitted(app, "case.assigned"))
        fields = by_field(assigned)
        tuyen = str(await member_id(app, "dd-tan-chau"))
        assert fields["law"]["member"]["member_id"] == tuyen and fields["psychology"]["member"]["member_id"] == tuyen
