"""The assigner's pool (`pool.load_covering_pool`): every unit a member covers, computed in SQL, the 2025
reorganisation both ways; the same answer as the one-unit pool's `covers` for every member and unit."""

from __future__ import annotations

from sqlalchemy import select, update

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
