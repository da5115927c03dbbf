"""`shared.db.fetch_value` and `fetch_row` run a hot statement on the pooled asyncpg connection and fail as
SQLAlchemy would: a constraint is an `IntegrityError`, any other error a `DBAPIError` with its parameters hidden,
and a connection that broke is invalidated, reported as transient (a 503 over HTTP) and replaced by the pool."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from shared.db import (
    asyncpg_dsn,
    execute_in_transaction,
    fetch_row,
    fetch_rows_in_transaction,
    fetch_value,
    fetch_value_in_transaction,
    make_engine,
)
from shared.dberrors import is_transient


async def test_values_constraints_and_errors(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE intake.fetch_probe (n int PRIMARY KEY, label text)"))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            insert = "INSERT INTO intake.fetch_probe VALUES ($1, $2) RETURNING label"
            assert await fetch_value(conn, insert, (1, "Hòa")) == "Hòa"
            assert dict(await fetch_row(conn, "SELECT n, label FROM intake.fetch_probe") or {}) == {
                "n": 1,
                "label": "Hòa",
            }
            with pytest.raises(sa_exc.IntegrityError) as duplicate:
                await fetch_value(conn, insert, (1, "bí mật"))
            assert isinstance(duplicate.value.orig, asyncpg.UniqueViolationError)
            assert "bí mật" not in str(duplicate.value)  # parameters stay out of messages and logs
            assert not is_transient(duplicate.value)
            with pytest.raises(sa_exc.DBAPIError) as bug:
                await fetch_value(conn, "SELECT nme FROM intake.fetch_probe", ())
            assert not isinstance(bug.value, sa_exc.IntegrityError)
            assert not is_transient(bug.value) and not bug.value.connection_invalidated
            with pytest.raises(sa_exc.DBAPIError) as unencodable:  # refused by the driver, before the server
                await fetch_value(conn, "SELECT $1::int", ("một",))
            assert isinstance(unencodable.value.orig, asyncpg.DataError)
            assert not unencodable.value.connection_invalidated
            # The connection stays usable after these errors (autocommit: nothing to roll back).
            assert await fetch_value(conn, "SELECT count(*) FROM intake.fetch_probe", ()) == 1
    finally:
        await engine.dispose()


async def test_a_connection_that_broke_is_invalidated_and_replaced(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            pid = await fetch_value(conn, "SELECT pg_backend_pid()", ())
            killer = await asyncpg.connect(asyncpg_dsn(database_url))
            try:  # the server goes away under a connection in use (a restart, a failover)
                assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await killer.close()
            with pytest.raises(sa_exc.DBAPIError) as broken:
                await fetch_value(conn, "SELECT 1", ())
            assert broken.value.connection_invalidated and is_transient(broken.value)
        async with engine.connect() as conn:
            assert await fetch_value(conn, "SELECT pg_backend_pid()", ()) != pid
    finally:
        await engine.dispose()


async def test_statements_in_transaction_stay_in_the_callers_transaction(database_url: str) -> None:
    """`execute_in_transaction`, `fetch_value_in_transaction` and `fetch_rows_in_transaction` run in the transaction
    the caller began, whether or not a statement already began it on the server (the first goes through
    SQLAlchemy, which begins it): a rollback undoes them all. Rows read by attribute either way."""
    engine = make_engine(database_url, pool_size=1)
    insert = "INSERT INTO intake.txn_probe VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING n, label"
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE intake.txn_probe (n int PRIMARY KEY, label text)"))
        for first in (execute_in_transaction, fetch_value_in_transaction, fetch_rows_in_transaction):
            async with engine.connect() as conn:
                await conn.begin()
                await first(conn, insert, (1, "Hòa"))  # the transaction's first statement
                await execute_in_transaction(conn, insert, (2, "Bình"))
                assert await fetch_value_in_transaction(conn, insert, (3, "An")) == 3
                assert await fetch_value_in_transaction(conn, insert, (3, "An")) is None  # nothing returned
                rows = await fetch_rows_in_transaction(conn, "SELECT n, label FROM intake.txn_probe ORDER BY n")
                assert [(row.n, row.label) for row in rows] == [(1, "Hòa"), (2, "Bình"), (3, "An")]
                with pytest.raises(sa_exc.IntegrityError):  # failures as SQLAlchemy raises them
                    await execute_in_transaction(conn, "INSERT INTO intake.txn_probe VALUES ($1, $2)", (1, "x"))
                await conn.rollback()
            async with engine.connect() as conn:
                assert await fetch_value(conn, "SELECT count(*) FROM intake.txn_probe", ()) == 0
        async with engine.connect() as conn:  # a fresh transaction: the first row comes back through SQLAlchemy
            await conn.begin()
            rows = await fetch_rows_in_transaction(conn, insert, (4, "Dũng"))
            assert [(row.n, row.label) for row in rows] == [(4, "Dũng")]
            await conn.commit()
        async with engine.connect() as conn:
            assert await fetch_value(conn, "SELECT label FROM intake.txn_probe", ()) == "Dũng"
    finally:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS intake.txn_probe"))
        await engine.dispose()
