"""Database access: one async engine per process, one PostgreSQL schema per service."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import MetaData, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from shared.fair_pool import FairPool

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    """Metadata for one service's tables, all in the schema named after the service."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def make_engine(database_url: str, *, pool_size: int = 5, pre_ping: bool = True) -> AsyncEngine:
    """At most `2 × pool_size` connections, opened as needed and kept once opened (until `pool_recycle`).
    An "overflow" connection beyond `pool_size` would be closed on every return that finds the pool full:
    under steady load that meant a new connection, with its statements prepared again, every few dozen
    requests. Callers waiting for a connection are served in the order they came (`shared.fair_pool`)."""
    return create_async_engine(
        database_url,
        poolclass=FairPool,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        # Statement parameters stay out of error messages and logs: they may hold secrets (password hashes,
        # one-time links) or encrypted personal data.
        hide_parameters=True,
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def asyncpg_dsn(database_url: str) -> str:
    """The same URL for plain asyncpg (used for LISTEN), without SQLAlchemy's driver suffix."""
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


# Errors after which a connection is not reused: connection exceptions (08), the server going away (57P01-04), a
# connection lost or whose protocol state is lost. A cancelled statement (57014, a timeout) or a parameter the
# driver cannot encode (`asyncpg.DataError`) leaves the connection usable.
_BROKEN = (
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InternalClientError,
    OSError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.DatabaseDroppedError,
)


async def fetch_value(conn: AsyncConnection, statement: str, parameters: Sequence[Any] = ()) -> Any:
    """The first column of the first row of `statement` (`$n` parameters), on the connection's own asyncpg
    connection (`_on_driver`): intake's case write, where SQLAlchemy's execution context, cursor adapter and
    result object were 9 % of the request's CPU."""
    async with _on_driver(conn, statement) as driver:
        return await driver.fetchval(statement, *parameters)


async def execute_in_transaction(conn: AsyncConnection, statement: str, parameters: Sequence[Any] = ()) -> None:
    """Run `statement` (`$n` parameters) in the caller's transaction, on the connection's own asyncpg connection
    (`_on_driver`) once the transaction has begun (a consumer's inbox insert begins it). For an event handler's
    hot statement: SQLAlchemy's session, execution context and result cost more CPU than the statement itself
    (intake's two case handlers: 12 % of the process under load). Before the transaction's first statement it
    goes through SQLAlchemy, which begins the transaction (sent straight to the driver, the statement would
    commit alone)."""
    driver = await _driver(conn)
    if not driver.is_in_transaction():
        await conn.exec_driver_sql(statement, tuple(parameters))
        return
    async with _on_driver(conn, statement, driver) as on_driver:
        await on_driver.execute(statement, *parameters)


async def fetch_value_in_transaction(conn: AsyncConnection, statement: str, parameters: Sequence[Any] = ()) -> Any:
    """`execute_in_transaction` for a statement that returns a value (the first column of its first row)."""
    driver = await _driver(conn)
    if not driver.is_in_transaction():
        return (await conn.exec_driver_sql(statement, tuple(parameters))).scalar()
    async with _on_driver(conn, statement, driver) as on_driver:
        return await on_driver.fetchval(statement, *parameters)


async def fetch_rows_in_transaction(conn: AsyncConnection, statement: str, parameters: Sequence[Any] = ()) -> list[Any]:
    """`execute_in_transaction` for a statement that returns rows, each read by attribute (`row.status`) as
    SQLAlchemy's rows are."""
    driver = await _driver(conn)
    if not driver.is_in_transaction():
        return list((await conn.exec_driver_sql(statement, tuple(parameters))).all())
    async with _on_driver(conn, statement, driver) as on_driver:
        records = await on_driver.fetch(statement, *parameters)
    if not records:
        return []
    row = _row_class(tuple(records[0].keys()))
    return [row._make(record.values()) for record in records]


@functools.lru_cache(maxsize=64)
def _row_class(columns: tuple[str, ...]) -> Any:
    return collections.namedtuple("Row", columns)  # type: ignore[misc]


async def fetch_row(conn: AsyncConnection, statement: str, parameters: Sequence[Any] = ()) -> asyncpg.Record | None:
    """The first row of `statement`, on the connection's own asyncpg connection (`_on_driver`): reporting's one
    statement per report."""
    async with _on_driver(conn, statement) as driver:
        return await driver.fetchrow(statement, *parameters)


async def _driver(conn: AsyncConnection) -> asyncpg.Connection:
    """The asyncpg connection under `conn` (checked out of the pool by SQLAlchemy)."""
    return (await conn.get_raw_connection()).driver_connection  # type: ignore[return-value]


@contextlib.asynccontextmanager
async def _on_driver(
    conn: AsyncConnection, statement: str, driver: asyncpg.Connection | None = None
) -> AsyncIterator[asyncpg.Connection]:
    """The asyncpg connection under `conn`, for a hot statement sent as written. Failures come out as
    `exec_driver_sql` would raise them: SQLAlchemy's `IntegrityError` for a constraint, `DBAPIError` otherwise,
    parameters hidden, and a connection that broke is invalidated (the pool opens a new one), so callers,
    `shared.dberrors` and the HTTP error handlers (503 for a database's own troubles) treat them as before.
    `driver`: the asyncpg connection when the caller already has it (`_driver`)."""
    if driver is None:
        driver = await _driver(conn)
    try:
        yield driver
    except (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError) as exc:
        broken = driver.is_closed() or isinstance(exc, _BROKEN)
        if broken:
            await conn.invalidate(exc)
        integrity = isinstance(exc, asyncpg.IntegrityConstraintViolationError)
        error = (sa_exc.IntegrityError if integrity else sa_exc.DBAPIError)(
            statement, None, exc, hide_parameters=True, connection_invalidated=broken
        )
        raise error from exc


async def listen_forever(
    database_url: str,
    channels: Mapping[str, Callable[[str], None]],
    *,
    on_connect: Callable[[], None],
    name: str,
) -> None:
    """Hold a PostgreSQL `LISTEN` connection for `channels` (callback per channel, given the payload),
    reconnecting after outages until cancelled. `on_connect` runs after each (re)connect, because
    notifications sent while no connection listened are lost and the caller must catch up."""
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(asyncpg_dsn(database_url))
            for channel, callback in channels.items():
                await conn.add_listener(channel, _payload_only(callback))
            on_connect()
            while not conn.is_closed():  # noqa: ASYNC110 - asyncpg offers no close event
                await asyncio.sleep(5)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s: LISTEN connection lost: %r", name, exc)
            await asyncio.sleep(1)
        finally:
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))


def _payload_only(callback: Callable[[str], None]) -> Callable[[object, int, str, str], None]:
    def listener(_connection: object, _pid: int, _channel: str, payload: str) -> None:
        callback(payload)

    return listener
