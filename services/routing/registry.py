"""The club's member registry: the member model, CSV import, the demo club, and the default taxonomy
and district units routing starts from before intake's events arrive.

Members are keyed by a stable `key` (e.g. `tinh-doan-chu-nhiem`): importing the same file twice
updates instead of duplicating, which makes `seed` idempotent. The provincial Standing Committee
(Ban Thường vụ Tỉnh đoàn) is kept as registry entries with the `committee` role: they receive
escalations and forwarded proposals and are never given a field of a case.
"""

from __future__ import annotations

import csv
import uuid
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.routing import store
from shared.text import NfcStr

FieldName = Literal["law", "psychology", "medicine", "education", "social_work"]
ClubRole = Literal["chair", "vice_chair", "board_member", "member", "committee"]
OrganisationKind = Literal["provincial", "department", "district", "commune", "committee"]
ChannelName = Literal["email", "zalo"]


class LeavePeriod(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _ordered(self) -> LeavePeriod:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return self


class MemberIn(BaseModel):
    """A club member as the API and the CSV import accept it."""

    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", examples=["tinh-doan-chu-nhiem"])]
    display_name: Annotated[NfcStr, Field(min_length=1, max_length=200)]
    organisation: Annotated[NfcStr, Field(min_length=1, max_length=200)]
    organisation_kind: OrganisationKind
    club_role: ClubRole = "member"
    fields: tuple[FieldName, ...] = ()
    units: tuple[Annotated[str, Field(min_length=1, max_length=100)], ...] = ()
    email: Annotated[str | None, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)] = None
    zalo_user_id: Annotated[str | None, Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")] = None
    phone: Annotated[str | None, Field(pattern=r"^\+?[0-9 .-]{6,20}$")] = None
    channels: tuple[ChannelName, ...] = ("email", "zalo")
    quiet_start: time | None = None
    quiet_end: time | None = None
    active_from: date | None = None
    active_to: date | None = None
    capacity: Annotated[int, Field(ge=0, le=1000)] = 5
    leave_periods: tuple[LeavePeriod, ...] = ()

    @field_validator("fields", "units", "channels")
    @classmethod
    def _unique(cls, value: tuple) -> tuple:
        return tuple(dict.fromkeys(value))

    @model_validator(mode="after")
    def _consistent(self) -> MemberIn:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet_start and quiet_end go together")
        if self.active_from and self.active_to and self.active_to < self.active_from:
            raise ValueError("active_to must not be before active_from")
        if not (self.email or self.zalo_user_id):
            raise ValueError("a member needs an email or a zalo_user_id")
        return self


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def _leaves(value: str | None) -> list[dict[str, str]]:
    """`2026-12-01..2026-12-10;2027-02-01..2027-02-05`."""
    periods = []
    for part in _split(value):
        start, _, end = part.partition("..")
        periods.append({"starts_on": start.strip(), "ends_on": (end or start).strip()})
    return periods


def parse_csv(path: Path) -> list[MemberIn]:
    """Every row of a member CSV, or ValueError naming each bad row and field (nothing is imported then)."""
    members, errors = [], []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            raw = {k: (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}
            data = {k: v for k, v in raw.items() if v not in (None, "")}
            for name in ("fields", "units", "channels"):
                if name in data:
                    data[name] = _split(data[name])
            if "leave_periods" in data:
                data["leave_periods"] = _leaves(data["leave_periods"])
            try:
                members.append(MemberIn.model_validate(data))
            except ValidationError as exc:
                for err in exc.errors():
                    where = ".".join(str(p) for p in err["loc"]) or "row"
                    errors.append(f"line {line}: {where}: {err['msg']}")
    if errors:
        raise ValueError("\n".join(errors))
    return members


def member_values(member: MemberIn) -> dict:
    return member.model_dump(exclude={"leave_periods"}, mode="python") | {
        "fields": list(member.fields),
        "units": list(member.units),
        "channels": list(member.channels),
    }


async def upsert_member(session: AsyncSession, member: MemberIn, member_id: uuid.UUID | None = None) -> uuid.UUID:
    """Insert or update by `key`; the member's leave periods are replaced by the given ones."""
    values = member_values(member)
    row = (
        await session.execute(
            insert(store.members)
            .values(member_id=member_id or uuid.uuid4(), **values)
            .on_conflict_do_update(index_elements=["key"], set_=values | {"updated_at": func.now()})
            .returning(store.members.c.member_id)
        )
    ).one()
    await session.execute(store.leaves.delete().where(store.leaves.c.member_id == row.member_id))
    if member.leave_periods:
        await session.execute(
            store.leaves.insert(),
            [{"member_id": row.member_id, **p.model_dump()} for p in member.leave_periods],
        )
    return row.member_id


async def import_members(session: AsyncSession, members: list[MemberIn]) -> int:
    for member in members:
        await upsert_member(session, member)
    return len(members)


def parse_areas(path: Path) -> dict[str, tuple[str, ...]]:
    """`data/member-areas-2025.csv`: which member covers which communes/wards of the merged province
    (`member,area_vi,communes`, communes separated by `;`). A member on several rows covers them all."""
    areas: dict[str, list[str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            key, communes = (row.get("member") or "").strip(), _split(row.get("communes"))
            if not key or not communes:
                raise ValueError(f"line {line}: a row needs a member and at least one commune")
            areas.setdefault(key, []).extend(communes)
    return {key: tuple(dict.fromkeys(units)) for key, units in areas.items()}


async def apply_areas(session: AsyncSession, areas: dict[str, tuple[str, ...]]) -> int:
    """Set each listed member's units to the communes of their area (the unit criterion of assignment).
    A member missing from the registry is an error: the file and the club must agree."""
    missing = sorted(set(areas) - await member_keys(session))
    if missing:
        raise ValueError(f"members not in the registry: {', '.join(missing)}")
    m = store.members.c
    for key, units in areas.items():
        await session.execute(
            store.members.update().where(m.key == key).values(units=list(units), updated_at=func.now())
        )
    return len({unit for units in areas.values() for unit in units})


async def load_default_categories(session: AsyncSession, path: Path) -> int:
    """The taxonomy's fields from the CSV, without overriding what `category.upserted` already said."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append({"code": row["code"], "name_vi": row["name_vi"], "fields": _split(row["fields"])})
    if rows:
        await session.execute(insert(store.categories).values(rows).on_conflict_do_nothing())
    return len(rows)


async def load_default_units(session: AsyncSession, units_path: Path, successors_path: Path) -> int:
    """The nine former districts and their 2025 successors, so that a case filed for a former district
    (before 2025-07-01) reaches the members who cover its successor communes, and the other way round."""
    successors: dict[str, list[str]] = {}
    with successors_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            successors.setdefault(row["old_unit"], []).append(row["new_unit"])
    rows = []
    with units_path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "code": row["code"],
                    "name_vi": row["name_vi"],
                    "valid_from": date.fromisoformat(row["valid_from"]) if row.get("valid_from") else None,
                    "valid_to": date.fromisoformat(row["valid_to"]) if row.get("valid_to") else None,
                    "successors": successors.get(row["code"], []),
                }
            )
    if rows:
        await session.execute(insert(store.units).values(rows).on_conflict_do_nothing())
    return len(rows)


async def member_keys(session: AsyncSession) -> set[str]:
    return set((await session.execute(select(store.members.c.key))).scalars())
