"""The `cases` rows a transaction reads or writes, kept in the session until `projection.flush` writes them.

Every row here is locked by the transaction (inserted by it, or read `FOR UPDATE`), so the copy in memory is
the row's latest state until commit. A batch reads the rows its events are about in one statement (`read`),
the handlers change the copies (`changed`), and `projection.flush` stores every changed row in one `UPDATE`: a case's
report, assignment and status change in one batch then cost one `INSERT` and a share of one `UPDATE`, not a
read and two updates per event.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import store

_ROWS = "reporting_case_rows"
_CHANGED = "reporting_case_rows_changed"
_ABSENT = "reporting_case_rows_absent"
# The columns events change after the case is reported (`projection._set_status`, `projection._milestone`).
MUTABLE = ("status", "status_at", "assigned_at", "accepted_at", "forwarded_at")

_c = store.cases.c
# Built once: a statement built per event costs its construction and its cache key every time.
_READ_ONE = select(store.cases).where(_c.case_id == bindparam("case_id")).with_for_update()
_READ_MANY = (
    select(store.cases)
    .where(_c.case_id == any_(bindparam("case_ids", type_=ARRAY(UUID(as_uuid=True)))))
    .order_by(_c.case_id)
    .with_for_update()
)
# The changed rows' UPDATE, its parameters one array per column named `case_<column>` (`take`); `projection.flush`
# sends it in one statement with the counters.
UPDATE = (
    f"UPDATE {store.cases.schema}.{store.cases.name} AS c SET "
    + ", ".join(f"{name} = t.{name}" for name in MUTABLE)
    + " FROM unnest(CAST(:case_case_id AS uuid[]), CAST(:case_status AS varchar[]),"
    " CAST(:case_status_at AS timestamptz[]), CAST(:case_assigned_at AS timestamptz[]),"
    " CAST(:case_accepted_at AS timestamptz[]), CAST(:case_forwarded_at AS timestamptz[]))"
    f" AS t(case_id, {', '.join(MUTABLE)}) WHERE c.case_id = t.case_id"
)


def _rows(session: AsyncSession) -> dict[uuid.UUID, dict[str, Any]]:
    return session.info.setdefault(_ROWS, {})


def remember(session: AsyncSession, row: dict[str, Any]) -> dict[str, Any]:
    """Keep a row the transaction holds locked (it has just inserted it); returns the kept copy."""
    session.info.get(_ABSENT, set()).discard(row["case_id"])
    return _rows(session).setdefault(row["case_id"], row)


async def read(session: AsyncSession, case_ids: Collection[uuid.UUID]) -> None:
    """Read and lock the rows of these cases in one statement, in key order. The caller holds the cases'
    subject locks (`handlers.keep`), which whoever reports a case takes first: a case not found stays absent
    until this transaction reports it (`remember`)."""
    missing = sorted(set(case_ids) - _rows(session).keys())
    if missing:
        for row in (await session.execute(_READ_MANY, {"case_ids": missing})).mappings():
            remember(session, dict(row))
        session.info.setdefault(_ABSENT, set()).update(set(missing) - _rows(session).keys())


async def get(session: AsyncSession, case_id: uuid.UUID) -> dict[str, Any] | None:
    """The case's row (locked until commit; change it in place, then call `changed`), None if it does not exist."""
    row = _rows(session).get(case_id)
    if row is None and case_id not in session.info.get(_ABSENT, ()):
        found = (await session.execute(_READ_ONE, {"case_id": case_id})).mappings().first()
        row = remember(session, dict(found)) if found is not None else None
    return row


def changed(session: AsyncSession, row: dict[str, Any]) -> None:
    session.info.setdefault(_CHANGED, {})[row["case_id"]] = row


def take(session: AsyncSession) -> dict[str, list[Any]]:
    """The changed rows as the parameters of `UPDATE` (empty if none changed), in key order; forgets every kept
    row (a rebuild writes once per batch of events)."""
    rows = session.info.pop(_CHANGED, {})
    session.info.pop(_ROWS, None)
    session.info.pop(_ABSENT, None)
    ordered = [rows[key] for key in sorted(rows)]
    return {f"case_{name}": [row[name] for row in ordered] for name in ("case_id", *MUTABLE)} if rows else {}
