"""Breach response (Decree 13/2023, 72-hour notification): for a period, every read of children's data —
who (account, name, role, credential), which case (or counseling request, or monthly report), when, from
where (the request's address, and the address the person signed in from) — and the list of the cases
affected. Written as CSV by `python -m services.intake breach-export`."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from shared.spreadsheet import neutral

READ_HEADERS = (
    "at",
    "account_id",
    "name",
    "role",
    "key_id",
    "action",
    "subject_id",
    "case_code",
    "fields",
    "address",
    "signed_in_from",
)
CASE_HEADERS = ("case_id", "case_code", "unit", "reads", "readers", "first_read", "last_read")


async def reads(session: AsyncSession, since: datetime, until: datetime) -> list[tuple[Any, ...]]:
    a, acc, c, s = store.audit_log.c, store.accounts.c, store.cases.c, store.signin_sessions.c
    query = (
        select(
            a.at, a.account_id, acc.name, a.role, a.key_id, a.action, a.case_id, c.code, a.fields, a.address, s.address
        )
        .outerjoin(store.accounts, acc.id == a.account_id)
        .outerjoin(store.cases, c.id == a.case_id)
        .outerjoin(store.signin_sessions, s.key_id == a.key_id)
        .where(a.at >= since, a.at < until, a.action != "consent_withdrawn")
        .order_by(a.at, a.id)
    )
    return [tuple(row) for row in (await session.execute(query)).all()]


async def affected_cases(session: AsyncSession, since: datetime, until: datetime) -> list[tuple[Any, ...]]:
    a, c = store.audit_log.c, store.cases.c
    query = (
        select(
            c.id, c.code, c.unit, func.count(), func.count(func.distinct(a.account_id)), func.min(a.at), func.max(a.at)
        )
        .join(store.cases, c.id == a.case_id)
        .where(a.at >= since, a.at < until, a.action != "consent_withdrawn")
        .group_by(c.id, c.code, c.unit)
        .order_by(c.code)
    )
    return [tuple(row) for row in (await session.execute(query)).all()]


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(value)
    return neutral(str(value))
