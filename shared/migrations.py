"""Alembic, the same way for every service: each service has `migrations/` next to its code, keeps its
version table in its own schema, and migrates under an advisory lock so replicas starting together do
not race.

A service's `migrations/env.py` is two lines: import its metadata, call `run_env(metadata)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    """Bring the service's schema to `revision`. Synchronous: call it with `asyncio.to_thread` from async code."""
    command.upgrade(alembic_config(script_location, database_url), revision)


def run_env(metadata: MetaData) -> None:
    schema = metadata.schema
    if schema is None:
        raise ValueError("service metadata must name its schema")
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "version_table_schema": schema,
        "include_schemas": True,
        "include_name": lambda name, type_, _parents: type_ != "schema" or name == schema,
        "compare_type": True,
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, schema, options))


async def _run_online(url: str, schema: str, options: dict[str, Any]) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(hashtext(:s))"), {"s": f"migrate:{schema}"})
            try:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                await conn.commit()
                await conn.run_sync(_run_sync, options)
                await conn.commit()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:s))"), {"s": f"migrate:{schema}"})
                await conn.commit()
    finally:
        await engine.dispose()


def _run_sync(connection: Connection, options: dict[str, Any]) -> None:
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


def encrypt_plain_text(
    settings: Any, schema: str, table: str, key: str, column: str, context: Callable[[Any], str]
) -> int:
    """Data migration: encrypt the values of `schema.table.column` still stored as plain text (written before
    the column was encrypted), bound to `context(row key)`, with the keys of `settings` (the service's
    settings: CHILD_DATA_KEYS). Returns how many rows were rewritten. Run inside an Alembic upgrade."""
    from shared.crypto import FieldCipher, is_ciphertext

    cipher = FieldCipher.from_settings(settings)
    bind = context_op_bind()
    rows = bind.execute(
        text(f'SELECT "{key}", "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL FOR UPDATE')
    ).all()
    rewritten = 0
    for row_key, value in rows:
        if is_ciphertext(value):
            continue
        bind.execute(
            text(f'UPDATE "{schema}"."{table}" SET "{column}" = :v WHERE "{key}" = :k'),
            {"v": cipher.encrypt(value, context(row_key)), "k": row_key},
        )
        rewritten += 1
    return rewritten


def context_op_bind() -> Connection:
    from alembic import op

    return op.get_bind()
