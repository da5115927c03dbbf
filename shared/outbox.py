"""Transactional outbox and inbox tables.

A handler or an HTTP endpoint writes its state change and `Outbox.add(...)` in the same transaction;
the relay (`shared.relay`) publishes committed rows later. The inbox records every consumed
`event_id` in the transaction of the handler's effect, which makes consumers idempotent.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from shared.clock import Clock, SystemClock
from shared.events import Envelope, Event


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("type", String(100), nullable=False),
        # Events with the same key (a case id, say) are published in insertion order.
        Column("key", String(100), nullable=True),
        Column("envelope", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Index("ix_outbox_pending", "id", postgresql_where=text("published_at IS NULL")),
        Index("ix_outbox_pending_key", "key", "id", postgresql_where=text("published_at IS NULL")),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("type", String(100), nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


def outbox_trigger_sql(schema: str) -> list[str]:
    """DDL for the NOTIFY that wakes the relay; run it in the service's first migration."""
    channel = notify_channel(schema)
    return [
        f"""CREATE OR REPLACE FUNCTION {schema}.outbox_notify() RETURNS trigger AS $$
            BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox",
        f"""CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
            FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()""",
    ]


class Cause(NamedTuple):
    """The event that caused another, when only its ids were kept (routing keeps `case.reported`'s)."""

    event_id: uuid.UUID | None
    correlation_id: uuid.UUID | None


def _row(envelope: Envelope, key: str | uuid.UUID | None) -> dict[str, object]:
    """The outbox row of one envelope (`key` orders a key's events: see the relay)."""
    return {
        "event_id": envelope.event_id,
        "type": envelope.type,
        "key": str(key) if key is not None else None,
        "envelope": envelope.model_dump_json(),
    }


_SLOT = "\u0000slot\u0000"  # NUL: no value of an event holds it (requests with NUL are refused before)
_SLOT_JSON = json.dumps(_SLOT)


class RowTemplate(NamedTuple):
    """An outbox row whose envelope holds one string the database makes in the same statement (a case's code
    from its sequence): the envelope is `before || to_json(<value>)::text || after` (see `Outbox.template`)."""

    event_id: uuid.UUID
    type: str
    key: str | None
    before: str
    after: str


_PENDING = "outbox pending rows"  # session.info key: rows `later` added, for `flush`


def pending(session: AsyncSession) -> int:
    """Rows `Outbox.later` added to `session` that no `flush` has written yet."""
    return len(session.info.get(_PENDING, ()))


@event.listens_for(Session, "before_commit")
def _none_left_behind(session: Session) -> None:
    """Committing with kept rows not written would lose their events: refused (a bug in whoever commits)."""
    if session.info.get(_PENDING):
        raise RuntimeError(f"{len(session.info[_PENDING])} outbox rows kept by Outbox.later were never flushed")


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    """The events of a transaction that rolled back were never emitted. (Rows kept inside a savepoint stay
    until the transaction ends: emit inside `begin_nested` with `Outbox.add`, which writes at once.)"""
    session.info.pop(_PENDING, None)


class Outbox:
    """Adds events to one service's outbox, inside the caller's transaction.

    `add`/`add_many` write at once; `later` keeps the row with the session and `flush` writes every kept row
    with one multi-row INSERT (one statement, one run of the NOTIFY trigger) before the commit: the unit of
    work emits that way, so a transaction that emits several events (a consumer batch: several per event)
    makes one outbox statement instead of one per event. `add`, `add_many` and `flush` write the kept rows
    first, so the outbox keeps the order in which the events were emitted."""

    def __init__(self, table: Table, producer: str, clock: Clock | None = None) -> None:
        self.table = table
        self.producer = producer
        self.clock = clock or SystemClock()
        # RETURNING makes SQLAlchemy send several rows as one INSERT ("insertmanyvalues"); without it asyncpg's
        # executemany runs the one-row statement (and its trigger) once per row.
        self._insert = insert(table).returning(table.c.id)

    def later(
        self,
        session: AsyncSession,
        event: Event,
        *,
        key: str | uuid.UUID | None = None,
        caused_by: Envelope | Cause | None = None,
        correlation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        """The envelope of `event`, its row kept with `session` until `flush` (which must run before the commit:
        `unit_of_work` and the consumer do)."""
        if isinstance(caused_by, Cause):
            envelope = self._wrap(event, caused_by)
        else:
            envelope = Envelope.wrap(
                event,
                producer=self.producer,
                caused_by=caused_by,
                correlation_id=correlation_id,
                occurred_at=occurred_at or self.clock.now(),
            )
        session.info.setdefault(_PENDING, []).append(_row(envelope, key))
        return envelope

    async def flush(self, session: AsyncSession) -> None:
        """Write the rows `later` kept with `session`, in the order they were added, with one INSERT."""
        rows = session.info.pop(_PENDING, None)
        if rows:
            await session.execute(self._insert, rows)

    def _wrap(self, event: Event, cause: Envelope | Cause | None) -> Envelope:
        now = self.clock.now()
        if isinstance(cause, Cause):
            envelope = Envelope.wrap(
                event, producer=self.producer, correlation_id=cause.correlation_id, occurred_at=now
            )
            return envelope.model_copy(update={"causation_id": cause.event_id}) if cause.event_id else envelope
        return Envelope.wrap(event, producer=self.producer, caused_by=cause, occurred_at=now)

    async def add(
        self,
        session: AsyncSession,
        event: Event,
        *,
        key: str | uuid.UUID | None = None,
        caused_by: Envelope | None = None,
        correlation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        await self.flush(session)
        envelope = Envelope.wrap(
            event,
            producer=self.producer,
            caused_by=caused_by,
            correlation_id=correlation_id,
            occurred_at=occurred_at or self.clock.now(),
        )
        await session.execute(insert(self.table).values(**_row(envelope, key)))
        return envelope

    def template(self, event: Event, slot: str, *, key: str | uuid.UUID | None = None) -> RowTemplate:
        """The outbox row of `event` for a statement that also makes the value of its string field `slot`
        (one round trip instead of a write, a read back and another write). The statement inserts the row
        into `self.table` in the caller's transaction; this is the only other way an outbox row is made."""
        envelope = Envelope.wrap(
            event.model_copy(update={slot: _SLOT}), producer=self.producer, occurred_at=self.clock.now()
        )
        before, found, after = envelope.model_dump_json().partition(_SLOT_JSON)
        if not found or _SLOT_JSON in after:
            raise ValueError(f"{event.TYPE}: field {slot!r} is not a string of the payload, or another holds NUL")
        return RowTemplate(envelope.event_id, envelope.type, str(key) if key is not None else None, before, after)

    async def add_many(
        self,
        session: AsyncSession,
        events: Sequence[tuple[Event, str | uuid.UUID | None, Envelope | Cause | None]],
    ) -> list[Envelope]:
        """Several events with one INSERT: (event, key, caused_by) each, in order."""
        envelopes = [self.later(session, event, key=key, caused_by=cause) for event, key, cause in events]
        await self.flush(session)
        return envelopes
