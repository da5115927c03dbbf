"""Key rotation of a service's encrypted columns (`python -m services.<name> rotate-keys`): every value under
the master key (CHILD_DATA_KEYS) not yet under the active key is re-encrypted. Values under a case's own key
(`v2:case:…`) are left alone: rotating re-wraps the case keys themselves (a `case_keys.wrapped` column in the
list). Rows are taken in batches (each its own transaction, rows locked while rewritten), so the command can be
stopped and run again, and runs while the service serves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.case_keys import CASE_KEY_ID
from shared.crypto import PREFIX, FieldCipher

BATCH = 500


@dataclass(frozen=True)
class Encrypted:
    table: Table
    column: str
    key: str  # the primary key column rows are batched by
    context: Callable[..., str]  # row → associated data


async def rotate_column(sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, spec: Encrypted) -> int:
    """Re-encrypt one column's values that are not under the active key; returns how many."""
    column: Column = spec.table.c[spec.column]
    key: Column = spec.table.c[spec.key]
    active = f"{PREFIX}:{cipher.active}:%"
    own = f"{PREFIX}:{CASE_KEY_ID}:%"
    count, after = 0, None
    while True:
        async with sessions() as session, session.begin():
            query = (
                select(spec.table)
                .where(column.is_not(None), column.not_like(active), column.not_like(own), column != "")
                .order_by(key)
                .limit(BATCH)
            )
            if after is not None:
                query = query.where(key > after)
            rows = (await session.execute(query.with_for_update(skip_locked=False))).all()
            for row in rows:
                new = cipher.rotate(getattr(row, spec.column), spec.context(row))
                if new is not None:
                    where = key == getattr(row, spec.key)
                    await session.execute(spec.table.update().where(where).values({column: new}))
                    count += 1
        if len(rows) < BATCH:
            return count
        after = getattr(rows[-1], spec.key)


async def rotate_all(
    sessions: async_sessionmaker[AsyncSession], cipher: FieldCipher, specs: Sequence[Encrypted]
) -> dict[str, int]:
    """Every listed column, re-encrypted under the active key: {"table.column": values rewritten}."""
    return {f"{s.table.name}.{s.column}": await rotate_column(sessions, cipher, s) for s in specs}
