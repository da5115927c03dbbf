"""Event handlers of reporting: keep the envelope in the event store, then project it into the figures.

Both happen in the consumer's transaction with the inbox row, so an event is stored and counted once
or not at all. The events of a transaction (a batch) are stored in one statement before their handlers
run (`ServiceSpec.before_handlers`), and the counter changes are buffered in the session and written by
`projection.flush`, which the consumer runs once before each commit (`ServiceSpec.before_commit`): a
batch of 50 `notification.sent` events is then two statements, not a hundred.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import projection, store
from services.reporting.api import auth
from services.reporting.settings import ReportingSettings
from shared.consumer import Handler, HandlerContext
from shared.events import Envelope, Event
from shared.events.intake import CredentialIssued, CredentialRevoked


async def keep(session: AsyncSession, items: list[tuple[Envelope, Event]]) -> None:
    """Append a transaction's new events to the event store and take the locks of their subjects, in one
    statement (the consumer's `before_handlers` hook), and let the projection read what the batch's handlers
    need (`projection.prepare`); the handlers then project the events the store did not already hold."""
    if not items:
        return
    held: set[Any] = session.info.setdefault(_LOCKED, set())
    subjects = {
        subject
        for _, event in items
        if event.TYPE in projection.ORDERED_BY_SUBJECT and (subject := projection.subject_of(event)) is not None
    }
    subjects -= held
    params = {
        "event_id": [envelope.event_id for envelope, _ in items],
        "type": [envelope.type for envelope, _ in items],
        "subject_id": [projection.subject_of(event) for _, event in items],
        "occurred_at": [envelope.occurred_at for envelope, _ in items],
        "envelope": [envelope.model_dump_json() for envelope, _ in items],
        "subjects": sorted(str(s) for s in subjects),
    }
    row = (await session.execute(_STORE, params)).first()
    if row is None:
        return  # nothing new to project (and no lock taken)
    stored = set(row.event_ids)
    held.update(subjects)
    session.info.setdefault(_STORED, set()).update(stored)
    await projection.prepare(session, [event for envelope, event in items if envelope.event_id in stored])


# The events in their order (`seq` follows `unnest`'s order); once every row is in, if any was new, the subjects'
# locks in the subjects' order (a second transaction taking some of the same locks waits on the first it meets,
# never holding one the first still needs; an uncorrelated subquery runs once, when its value is first needed).
# The conflict is named (`event_id`): without a target every unique index is probed, the identity key `seq` too,
# one index scan more per event. Built once.
_STORE = text(
    f"WITH stored AS (INSERT INTO {store.events.schema}.{store.events.name}"
    " (event_id, type, subject_id, occurred_at, envelope)"
    " SELECT * FROM unnest(CAST(:event_id AS uuid[]), CAST(:type AS varchar[]), CAST(:subject_id AS uuid[]),"
    " CAST(:occurred_at AS timestamptz[]), CAST(:envelope AS text[]))"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id),"
    " new AS (SELECT array_agg(event_id) AS event_ids FROM stored)"
    " SELECT event_ids, (SELECT count(pg_advisory_xact_lock(hashtextextended(s, 0)))"
    " FROM unnest(CAST(:subjects AS text[])) AS s) AS locked FROM new WHERE event_ids IS NOT NULL"
)
_STORED = "reporting_events_stored"


async def lock_subject(session: AsyncSession, event: Event) -> None:
    """Serialise the events about one case or request (several consumers or replicas run at once): an event
    handled before its case exists is then always visible to the case's catch-up, and vice versa. Events
    whose effect does not depend on the case existing skip it (a round trip each)."""
    if event.TYPE not in projection.ORDERED_BY_SUBJECT:
        return
    subject = projection.subject_of(event)
    if subject is None:
        return
    held: set[Any] = session.info.setdefault(_LOCKED, set())
    if subject in held:
        return  # taken earlier in this transaction (a case's report and assignment in one batch): held till commit
    await session.execute(_LOCK, {"subject": str(subject)})
    held.add(subject)


_LOCKED = "reporting_subjects_locked"
# Built once: a statement built per event costs its construction and its cache key every time.
_LOCK = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("subject", type_=String), 0)))


async def on_event(event: Any, ctx: HandlerContext) -> None:
    # The event is in the store already (`keep`), uncommitted; the subject's lock orders the case checks
    # and catch-ups of concurrent transactions, so each event is projected exactly once: by its own
    # handler if its case exists by then, else by the case's catch-up.
    await lock_subject(ctx.session, event)
    if ctx.envelope.event_id in ctx.session.info.get(_STORED, ()):
        await projection.apply(ctx.session, ctx.envelope, event)


def make_handlers(settings: ReportingSettings) -> dict[type[Event], Handler]:
    """Every event reporting consumes (the catalogue's `CONSUMERS`): the projected ones and credentials."""
    handlers: dict[type[Event], Handler] = {cls: on_event for cls in projection.PROJECTORS}
    return {**handlers, CredentialIssued: auth.on_issued, CredentialRevoked: auth.on_revoked}
