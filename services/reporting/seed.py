"""Default reference data from `data/*.csv`: units of both structures, the 2025 successor mapping,
category names and the 2023–2027 roadmap.

Loaded at start (insert-if-absent, so what `unit.upserted` / `category.upserted` said wins) and at the
start of a rebuild (before the stored events replay over it).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import store


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def default_units(data_dir: Path) -> list[dict[str, object]]:
    """The 2023 districts (no contact: they ended on 2025-06-30) and the 2025 communes/wards with their
    Youth Union's contacts from `unit-contacts-2025.csv`."""
    units: list[dict[str, object]] = []
    for row in _rows(data_dir / "units-tay-ninh-2023.csv"):
        units.append(
            dict(
                code=row["code"],
                name_vi=row["name_vi"],
                kind=row["type"],
                valid_from=_date(row["valid_from"]),
                valid_to=_date(row["valid_to"]),
                contact_email=None,
                contact_zalo_user_id=None,
            )
        )
    contacts = {r["code"]: r for r in _rows(data_dir / "unit-contacts-2025.csv")}
    for row in _rows(data_dir / "units-tay-ninh-2025.csv"):
        contact = contacts.get(row["code"], {})
        units.append(
            dict(
                code=row["code"],
                name_vi=row["name_vi"],
                kind=row["type"],
                valid_from=_date(row["valid_from"]),
                valid_to=None,
                contact_email=contact.get("contact_email") or None,
                contact_zalo_user_id=contact.get("contact_zalo_user_id") or None,
            )
        )
    return units


def default_successors(data_dir: Path) -> list[dict[str, str]]:
    return [dict(old_unit=r["old_unit"], new_unit=r["new_unit"]) for r in _rows(data_dir / "unit-successors-2025.csv")]


def default_categories(data_dir: Path) -> list[dict[str, object]]:
    return [dict(code=r["code"], name_vi=r["name_vi"]) for r in _rows(data_dir / "case-categories.csv")]


def default_plan_items(data_dir: Path) -> list[dict[str, object]]:
    return [
        dict(
            item_id=f"{r['year']}-{r['kind']}",
            year=int(r["year"]),
            kind=r["kind"],
            title_vi=r["title_vi"],
            due_on=date.fromisoformat(r["due"]),
        )
        for r in _rows(data_dir / "roadmap-2023-2027.csv")
    ]


def special_circumstance_names(data_dir: Path) -> dict[str, str]:
    return {r["code"]: r["name_vi"] for r in _rows(data_dir / "special-circumstances.csv")}


async def seed_defaults(session: AsyncSession, data_dir: Path) -> None:
    """Insert the defaults that are not there yet; never overwrite what events or the club recorded."""
    for table, rows in (
        (store.units, default_units(data_dir)),
        (store.unit_successors, default_successors(data_dir)),
        (store.categories, default_categories(data_dir)),
        (store.plan_items, default_plan_items(data_dir)),
    ):
        if rows:
            await session.execute(insert(table).values(rows).on_conflict_do_nothing())
