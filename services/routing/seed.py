"""Loading data from files on the command line: `seed` and `members import`."""

from __future__ import annotations

from pathlib import Path

from services.routing.registry import (
    apply_areas,
    import_members,
    load_default_categories,
    load_default_units,
    parse_areas,
    parse_csv,
)
from services.routing.settings import RoutingSettings
from shared.db import make_engine, make_session_factory


async def import_file(settings: RoutingSettings, path: Path) -> int:
    """Parse the whole file first, so a bad row imports nothing."""
    members = parse_csv(path)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            return await import_members(session, members)
    finally:
        await engine.dispose()


async def seed(settings: RoutingSettings) -> dict[str, int]:
    members = parse_csv(settings.demo_club_file)
    areas = parse_areas(settings.member_areas_file)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            return {
                "categories": await load_default_categories(session, settings.categories_file),
                "units": await load_default_units(session, settings.units_file, settings.unit_successors_file),
                "members": await import_members(session, members),
                "communes_covered": await apply_areas(session, areas),
            }
    finally:
        await engine.dispose()
