"""Reference data: reporting units (with validity dates and successors) and the case taxonomy.

Loaded from `data/*.csv` by `python -m services.intake seed` and changed at run time through the admin
API. Every new or changed unit or category is announced (`unit.upserted`, `category.upserted`) through
the outbox, so routing and reporting keep their own copies; an unchanged row emits nothing, which makes
seeding idempotent.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from shared.events.intake import CategoryUpserted, UnitUpserted
from shared.outbox import Outbox
from shared.text import nfc

DATA = Path(__file__).resolve().parents[2] / "data"
OLD_UNITS_VALID_TO = date(2025, 6, 30)
NEW_UNITS_VALID_FROM = date(2025, 7, 1)


@dataclass(frozen=True)
class Unit:
    code: str
    name_vi: str
    kind: str
    valid_from: date | None = None
    valid_to: date | None = None
    successors: tuple[str, ...] = ()
    contact_email: str | None = None
    note: str | None = None
    contact_zalo_user_id: str | None = None


@dataclass(frozen=True)
class Category:
    code: str
    name_vi: str
    name_en: str
    fields: tuple[str, ...] = field(default_factory=tuple)
    suggested_urgency: str = "medium"
    basis: str | None = None
    active: bool = True


async def upsert_unit(session: AsyncSession, outbox: Outbox, unit: Unit) -> bool:
    """Write the unit and its successors; emit `unit.upserted` if anything changed. True if it did."""
    u = store.units.c
    current = (await session.execute(select(store.units).where(u.code == unit.code))).first()
    successors = tuple(sorted(set(unit.successors)))
    old_successors = tuple(
        sorted(
            (
                await session.execute(
                    select(store.unit_successors.c.new_unit).where(store.unit_successors.c.old_unit == unit.code)
                )
            ).scalars()
        )
    )
    values = {
        "name_vi": nfc(unit.name_vi),
        "kind": nfc(unit.kind),
        "valid_from": unit.valid_from,
        "valid_to": unit.valid_to,
        "contact_email": unit.contact_email,
        "contact_zalo_user_id": unit.contact_zalo_user_id,
        "note": unit.note,
    }
    unchanged = current is not None and all(getattr(current, key) == value for key, value in values.items())
    if unchanged and successors == old_successors:
        return False
    await session.execute(
        insert(store.units).values(code=unit.code, **values).on_conflict_do_update(index_elements=["code"], set_=values)
    )
    if successors != old_successors:
        await session.execute(delete(store.unit_successors).where(store.unit_successors.c.old_unit == unit.code))
        if successors:
            await session.execute(
                insert(store.unit_successors), [{"old_unit": unit.code, "new_unit": s} for s in successors]
            )
    await outbox.add(
        session,
        UnitUpserted(
            code=unit.code,
            name_vi=values["name_vi"],
            kind=values["kind"],
            valid_from=unit.valid_from,
            valid_to=unit.valid_to,
            successors=successors,
            contact_email=unit.contact_email,
            contact_zalo_user_id=unit.contact_zalo_user_id,
        ),
        key=f"unit:{unit.code}",
    )
    return True


async def upsert_category(session: AsyncSession, outbox: Outbox, category: Category) -> bool:
    c = store.categories.c
    current = (await session.execute(select(store.categories).where(c.code == category.code))).first()
    values = {
        "name_vi": nfc(category.name_vi),
        "name_en": nfc(category.name_en),
        "fields": list(category.fields),
        "suggested_urgency": category.suggested_urgency,
        "basis": category.basis,
        "active": category.active,
    }
    if current is not None and all(
        (list(getattr(current, key)) if key == "fields" else getattr(current, key)) == value
        for key, value in values.items()
    ):
        return False
    await session.execute(
        insert(store.categories)
        .values(code=category.code, **values)
        .on_conflict_do_update(index_elements=["code"], set_=values)
    )
    await outbox.add(
        session,
        CategoryUpserted(
            code=category.code,
            name_vi=values["name_vi"],
            name_en=values["name_en"],
            fields=tuple(category.fields),
            suggested_urgency=category.suggested_urgency,  # type: ignore[arg-type]
            active=category.active,
        ),
        key=f"category:{category.code}",
    )
    return True


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


def _rows(name: str, data: Path) -> list[dict[str, str]]:
    with (data / name).open(encoding="utf-8", newline="") as handle:
        return [{k: nfc(v or "") for k, v in row.items()} for row in csv.DictReader(handle)]


def units_from_csv(data: Path = DATA) -> list[Unit]:
    """The nine units of 2023 (valid until 2025-06-30, with successors) after the 2025 units they map to."""
    successors: dict[str, list[str]] = defaultdict(list)
    for row in _rows("unit-successors-2025.csv", data):
        successors[row["old_unit"]].append(row["new_unit"])
    contacts = {r["code"]: r for r in _rows("unit-contacts-2025.csv", data)}
    new = [
        Unit(
            r["code"],
            r["name_vi"],
            r["type"],
            _date(r["valid_from"]) or NEW_UNITS_VALID_FROM,
            None,
            contact_email=contacts.get(r["code"], {}).get("contact_email") or None,
            contact_zalo_user_id=contacts.get(r["code"], {}).get("contact_zalo_user_id") or None,
        )
        for r in _rows("units-tay-ninh-2025.csv", data)
    ]
    old = [
        Unit(
            r["code"],
            r["name_vi"],
            r["type"],
            _date(r["valid_from"]),
            _date(r["valid_to"]) or OLD_UNITS_VALID_TO,
            tuple(successors.get(r["code"], ())),
            note=r.get("note") or None,
        )
        for r in _rows("units-tay-ninh-2023.csv", data)
    ]
    return new + old


def categories_from_csv(data: Path = DATA) -> list[Category]:
    return [
        Category(
            r["code"],
            r["name_vi"],
            r["name_en"],
            tuple(f for f in r["fields"].split(";") if f),
            r["suggested_urgency"],
            r.get("basis") or None,
        )
        for r in _rows("case-categories.csv", data)
    ]


async def seed(session: AsyncSession, outbox: Outbox, data: Path = DATA) -> dict[str, int]:
    """Load every reference file; returns how many units and categories were new or changed."""
    changed = {"units": 0, "categories": 0, "special_circumstances": 0}
    for unit in units_from_csv(data):
        changed["units"] += await upsert_unit(session, outbox, unit)
    for category in categories_from_csv(data):
        changed["categories"] += await upsert_category(session, outbox, category)
    for row in _rows("special-circumstances.csv", data):
        values = {"name_vi": row["name_vi"], "name_en": row["name_en"]}
        result = await session.execute(
            insert(store.special_circumstances)
            .values(code=row["code"], **values)
            .on_conflict_do_update(
                index_elements=["code"],
                set_=values,
                where=(store.special_circumstances.c.name_vi != values["name_vi"])
                | (store.special_circumstances.c.name_en != values["name_en"]),
            )
        )
        changed["special_circumstances"] += result.rowcount or 0
    return changed
