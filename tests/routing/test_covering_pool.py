"""The assigner's pool (`pool.load_covering_pool`): every unit a member covers, computed in SQL, the 2025
reorganisation both ways; the same answer as the one-unit pool's `covers` for every member and unit."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from services.routing import store
from services.routing.pool import load_covering_pool, load_pool
from services.routing.seed import seed
from shared.db import make_engine, make_session_factory
from tests.routing.support import START, routing_settings


async def test_the_covering_pool_gives_each_member_every_unit_they_cover_as_the_one_unit_pool_does(base_env):
    settings = routing_settings(base_env)
    await seed(settings)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            m = store.members.c
            # One member still lists a former district (its successor communes are covered), another a commune
            # that succeeded two former districts (cases filed for either are covered).
            await session.execute(update(store.members).where(m.key == "dd-tan-chau").values(units=["tan-chau"]))
            await session.execute(update(store.members).where(m.key == "dd-tay-ninh").values(units=["xa-tan-dong"]))
            pool = await load_covering_pool(session, START)
            keys = {row.member_id: row.key for row in pool.rows.values()}
            covered = {keys[c.member_id]: c.units for c in pool.candidates}
            tan_chau = {"xa-tan-dong", "xa-tan-chau", "xa-tan-phu", "xa-tan-hoi", "xa-tan-thanh", "xa-tan-hoa"}
            assert covered["dd-tan-chau"] == {"tan-chau", *tan_chau}
            assert covered["dd-tay-ninh"] == {"xa-tan-dong", "tan-chau"}

            # Every unit named anywhere: the former districts (rows of `units`), their successors, members' own.
            u = store.units.c
            units: set[str] = set()
            for row in await session.execute(select(u.code, u.successors)):
                units |= {row.code, *row.successors}
            units |= {unit for row in pool.rows.values() for unit in row.units}
            assert len(units) > 40
            for unit in sorted(units):
                one = await load_pool(session, START, unit)
                assert {keys[c.member_id] for c in one.candidates if c.units} == {
                    key for key, theirs in covered.items() if unit in theirs
                }, unit
            # Everything else about a candidate is the same in both pools.
            plain = await load_pool(session, START)
            assert [c.member_id for c in plain.candidates] == [c.member_id for c in pool.candidates]
            assert [(c.fields, c.load, c.capacity, c.available) for c in plain.candidates] == [
                (c.fields, c.load, c.capacity, c.available) for c in pool.candidates
            ]
    finally:
        await engine.dispose()


def _expected_cover(units: list[str], unit_map: dict[str, list[str]]) -> set[str]:
    """A member's units, the successors of a former district they list, the former districts succeeded by a
    unit they list (the definition, as the pool queries computed it before migration 0011)."""
    listed = set(units)
    covered = set(listed)
    for code, successors in unit_map.items():
        if code in listed:
            covered |= set(successors)
        if listed & set(successors):
            covered.add(code)
    return covered


async def _check_every_member(session) -> None:
    u, m = store.units.c, store.members.c
    unit_map = {row.code: list(row.successors) for row in await session.execute(select(u.code, u.successors))}
    rows = list(await session.execute(select(m.key, m.units, m.covered)))
    assert rows
    for row in rows:
        assert set(row.covered) == _expected_cover(list(row.units), unit_map), row.key
    pool = await load_covering_pool(session, START)
    for cand in pool.candidates:
        assert cand.units == _expected_cover(list(pool.rows[cand.member_id].units), unit_map)


async def test_what_a_member_covers_follows_every_change_of_their_units_and_of_the_unit_map(base_env):
    """`members.covered` is kept by the database (routing migration 0011's triggers) whoever writes: a member's
    units set by the registry or by SQL, a unit added, its successors changed, a unit removed; the pool reads it."""
    settings = routing_settings(base_env)
    await seed(settings)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            m, u = store.members.c, store.units.c
            await _check_every_member(session)  # as seeded (import, then the areas file)
            await session.execute(update(store.members).where(m.key == "dd-tan-chau").values(units=["tan-chau"]))
            await session.execute(update(store.members).where(m.key == "dd-tay-ninh").values(units=["xa-tan-dong"]))
            await _check_every_member(session)
            # A new former district succeeded by a commune a member lists: they now cover it too.
            await session.execute(
                insert(store.units).values(code="old-x", name_vi="Huyện X", successors=["xa-tan-dong", "xa-moi"])
            )
            await _check_every_member(session)
            covered = (await session.execute(select(m.covered).where(m.key == "dd-tay-ninh"))).scalar_one()
            assert "old-x" in covered
            # The map changes (`unit.upserted`'s upsert): the former successor's member no longer covers it.
            await session.execute(
                insert(store.units)
                .values(code="old-x", name_vi="Huyện X", successors=["xa-moi"])
                .on_conflict_do_update(index_elements=["code"], set_={"successors": ["xa-moi"]})
            )
            await _check_every_member(session)
            covered = (await session.execute(select(m.covered).where(m.key == "dd-tay-ninh"))).scalar_one()
            assert "old-x" not in covered
            # A member who lists the former district covers its successors; then the district is removed.
            await session.execute(update(store.members).where(m.key == "dd-tan-chau").values(units=["old-x"]))
            await _check_every_member(session)
            pool = await load_pool(session, START, "xa-moi")
            assert {pool.rows[c.member_id].key for c in pool.candidates if c.units} == {"dd-tan-chau"}
            await session.execute(delete(store.units).where(u.code == "old-x"))
            await _check_every_member(session)
            pool = await load_pool(session, START, "xa-moi")
            assert not [c for c in pool.candidates if c.units]
    finally:
        await engine.dispose()
