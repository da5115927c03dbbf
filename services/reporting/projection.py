"""From events to figures: one function per event type, used both by the live consumer and by rebuild.

Every function is deterministic in the event's content (never the clock, never arrival time), so
replaying the event store in order gives the same tables. Counters are changed in the same transaction
as the facts they summarise.

Order: routing's events about a case normally arrive after `case.reported`, but a redelivery can put
one first. An event about an unknown case changes nothing; when the case appears, the stored events
about it are replayed (`_catch_up`), so the outcome does not depend on arrival order.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, TextClause, delete, func, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import case_rows, store
from services.reporting.domain import VN, kept_keys, month_key
from shared.events import Envelope, Event
from shared.events.intake import (
    CaseReported,
    CategoryUpserted,
    CounselingRequestReceived,
    MonthlyReportSubmitted,
    UnitUpserted,
)
from shared.events.notify import NotificationFailed, NotificationSent
from shared.events.routing import (
    AssignmentAnswered,
    CaseAssigned,
    CaseDecided,
    CaseEscalated,
    CaseForwarded,
    CaseMembersChanged,
    CaseReferred,
    CaseStatusChanged,
    CounselingRequestAnswered,
    CounselingRequestAssigned,
    ReferralAcknowledged,
    TaskAssigned,
    TaskCompleted,
)

LEVELS = {"chair": 1, "committee": 2}


def subject_of(event: Event) -> uuid.UUID | None:
    """The case or counseling request an event is about (used to replay early arrivals)."""
    for name in ("case_id", "request_id"):
        value = getattr(event, name, None)
        if value is not None:
            return value
    return None


# Counter changes are buffered in the session and written by `flush` in one global order (table, key), so
# concurrent consumers never lock counter rows in opposite orders (which deadlocks); a rebuild flushes once
# per batch, which also makes it faster.
_BUFFER = "reporting_counter_deltas"
_ADDITIVE = {
    "case_counts": ("cases",),
    "case_group_counts": ("cases",),
    "case_tallies": ("cases",),
    "activity_counts": ("n",),
    "case_timings": ("cases", "seconds"),
    "case_totals": ("cases",),
    "stage_timings": ("cases", "seconds"),
}
_MAXIMUM = {"case_timings": ("max_seconds",), "stage_timings": ("max_seconds",)}


def _buffer(session: AsyncSession) -> dict[tuple[str, tuple[tuple[str, Any], ...]], dict[str, Any]]:
    return session.info.setdefault(_BUFFER, {})


def _totals(table: Table, keys: dict[str, Any]) -> list[tuple[Table, dict[str, Any]]]:
    """The rows of `case_totals` and `stage_timings` a change of a counter row also changes (the month's, the
    quarter's and the year's; see `store.case_totals`)."""
    if table is store.case_counts:
        marginals = [(d, "", keys[d]) for d in ("unit", "category", "urgency", "status")]
    elif table is store.case_group_counts:
        marginals = [("group", keys["unit"], keys["grp"])]
    elif table is store.case_tallies:
        marginals = [(keys["dimension"], "", keys["value"])]
    elif table is store.case_timings:
        return [
            (store.stage_timings, dict(period=period, stage=keys["stage"], urgency=keys["urgency"]))
            for period in kept_keys(keys["period"])
        ]
    else:
        return []
    return [
        (store.case_totals, dict(period=period, dimension=dimension, unit=unit, value=value))
        for period in kept_keys(keys["period"])
        for dimension, unit, value in marginals
    ]


def _add(session: AsyncSession, table: Table, keys: dict[str, Any], values: dict[str, Any]) -> None:
    _add_one(session, table, keys, values)
    for total, total_keys in _totals(table, keys):
        _add_one(session, total, total_keys, values)


def _add_one(session: AsyncSession, table: Table, keys: dict[str, Any], values: dict[str, Any]) -> None:
    slot = _buffer(session).setdefault((table.name, tuple(keys.items())), {})
    for name, value in values.items():
        if name in _MAXIMUM.get(table.name, ()):
            slot[name] = max(slot.get(name, value), value)
        else:
            slot[name] = slot.get(name, 0) + value


_COUNTERS = {
    t.name: t
    for t in (
        store.case_counts,
        store.case_group_counts,
        store.case_tallies,
        store.case_timings,
        store.activity_counts,
        store.case_totals,
        store.stage_timings,
    )
}


async def flush(session: AsyncSession) -> None:
    """Write the changed case rows and the buffered counter changes in one statement."""
    params: dict[str, Any] = case_rows.take(session)
    pending = session.info.pop(_BUFFER, {})
    # One multi-row upsert per table (and shape of row), its rows in key order: the same lock order as one
    # statement per row, in a handful of statements per batch instead of one per counter row.
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
    for (name, key), values in sorted(pending.items(), key=lambda item: (item[0][0], [str(v) for _, v in item[0][1]])):
        if name == "case_totals" and not values["cases"]:
            continue  # a state change's -1 and +1 on the unit, category and urgency totals: nothing to write
        shape = (name, tuple(k for k, _ in key), tuple(sorted(values)))
        groups.setdefault(shape, []).append({**dict(key), **values})
    shapes = tuple(groups)
    for i, ((_, key_names, value_names), rows) in enumerate(groups.items()):
        params.update({f"u{i}_{c}": [row[c] for row in rows] for c in (*key_names, *value_names)})
    if params:
        await session.execute(_flush_statement(shapes, bool(params.get("case_case_id"))), params)


@functools.cache
def _flush_statement(shapes: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...], cases: bool) -> TextClause:
    """The case rows' `UPDATE` and one upsert per counter table in one statement (one round trip, where a
    statement each took most of a small batch's time), each a data-modifying `WITH` query: PostgreSQL runs
    them all, in an order fixed by the statement, so concurrent consumers still lock counter rows in one order
    (tables in a fixed order, rows by key). Built once per set of shapes (a handful occur)."""
    parts = [f"c AS ({case_rows.UPDATE})"] if cases else []
    names = [name for name, _, _ in shapes]
    assert len(set(names)) == len(names), names  # a row changed by two parts of one statement is an error
    parts += [
        f"u{i} AS ({_upsert(_COUNTERS[n], keys, values, f'u{i}_')})" for i, (n, keys, values) in enumerate(shapes)
    ]
    return text(f"WITH {', '.join(parts)} SELECT 1")


def _upsert(table: Table, key_names: tuple[str, ...], value_names: tuple[str, ...], prefix: str) -> str:
    """One upsert of many counter rows, its rows passed as one array per column (`unnest` keeps their order):
    a multi-row `VALUES` was compiled anew for every batch (its number of rows changes), which cost more CPU
    than the rest of a batch's counters."""
    columns = (*key_names, *value_names)
    compiled = {c: table.c[c].type.compile(dialect=postgresql.dialect()) for c in columns}
    arrays = ", ".join(f"CAST(:{prefix}{c} AS {compiled[c]}[])" for c in columns)
    updates = [f'"{c}" = t."{c}" + excluded."{c}"' for c in value_names if c in _ADDITIVE[table.name]]
    updates += [f'"{c}" = greatest(t."{c}", excluded."{c}")' for c in value_names if c in _MAXIMUM.get(table.name, ())]
    return (
        f"INSERT INTO {table.schema}.{table.name} AS t ({_quoted(columns)}) SELECT * FROM unnest({arrays})"
        f" ON CONFLICT ({_quoted(key_names)}) DO UPDATE SET {', '.join(updates)}"
    )


def _quoted(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{name}"' for name in names)


async def _bump(session: AsyncSession, table: Table, keys: dict[str, Any], column: str, by: int = 1) -> None:
    _add(session, table, keys, {column: by})


async def _count_case(session: AsyncSession, row: dict[str, Any], status: str, by: int) -> None:
    keys = dict(period=row["period"], unit=row["unit"], category=row["category"], urgency=row["urgency"], status=status)
    await _bump(session, store.case_counts, keys, "cases", by)


async def _time_stage(session: AsyncSession, row: dict[str, Any], stage: str, at: datetime) -> None:
    seconds = max((at - row["reported_at"]).total_seconds(), 0.0)
    keys = dict(period=row["period"], unit=row["unit"], urgency=row["urgency"], stage=stage)
    _add(session, store.case_timings, keys, {"cases": 1, "seconds": seconds, "max_seconds": seconds})


def _greatest(a: Any, b: Any) -> Any:
    return func.greatest(a, b)


async def _case(session: AsyncSession, case_id: uuid.UUID) -> dict[str, Any] | None:
    return await case_rows.get(session, case_id)


# Built once (a statement's construction and cache key were a measurable share of a batch).
_CASE_COLUMNS = (
    ("case_id", "uuid"),
    ("code", "varchar"),
    ("unit", "varchar"),
    ("category", "varchar"),
    ("urgency", "varchar"),
    ("status", "varchar"),
    ("period", "varchar"),
    ("reported_at", "timestamptz"),
    ("protection_level", "varchar"),
    ("age_band", "varchar"),
    ("below_suggested_urgency", "boolean"),
    ("special_circumstances", "varchar[]"),
    ("status_at", "timestamptz"),
)
# A new case's row and its catch-up in one round trip: the INSERT returns, if it created the row, the events
# about the case stored before its `case.reported` (`_catch_up`'s query, seen from the same snapshot: after
# the subject's lock was taken, as the separate query was).
_CREATE_CASE = text(
    f"WITH created AS (INSERT INTO {store.cases.schema}.{store.cases.name} ({', '.join(n for n, _ in _CASE_COLUMNS)})"
    f" VALUES ({', '.join(f'CAST(:{n} AS {t})' for n, t in _CASE_COLUMNS)}) ON CONFLICT DO NOTHING RETURNING case_id)"
    f" SELECT ARRAY(SELECT e.envelope FROM {store.events.schema}.{store.events.name} AS e"
    " WHERE e.subject_id = created.case_id AND e.type = ANY(CAST(:early AS text[])) AND e.seq < ("
    f"SELECT seq FROM {store.events.schema}.{store.events.name} WHERE event_id = CAST(:creator AS uuid))"
    " ORDER BY e.seq) FROM created"
)


# --- intake ------------------------------------------------------------------------------------------


URGENCY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def case_tally_values(event: CaseReported) -> list[tuple[str, str]]:
    """The `case_tallies` a new case adds to: its age band, and whether it was filed below its category's
    emergency floor (with a reason, which the chair reads on the case)."""
    tallies = [("age_band", event.age_band)]
    floor = event.suggested_urgency
    if floor is not None and URGENCY_RANK[event.urgency] < URGENCY_RANK[floor]:
        tallies.append(("urgency_floor", "below"))
    return tallies


async def case_reported(session: AsyncSession, event: CaseReported, envelope: Envelope) -> None:
    row = dict(
        case_id=event.case_id,
        code=event.code,
        unit=event.unit,
        category=event.category,
        urgency=event.urgency,
        status="reported",
        period=month_key(event.reported_at),
        reported_at=event.reported_at,
        protection_level=event.protection_level,
        age_band=event.age_band,
        below_suggested_urgency=("urgency_floor", "below") in case_tally_values(event),
        special_circumstances=sorted(set(event.special_circumstances)),
        status_at=event.reported_at,
    )
    created = (await session.execute(_CREATE_CASE, {**row, "creator": envelope.event_id, "early": _NEEDS_CASE})).first()
    if created is None:
        return
    case_rows.remember(session, {**row, "assigned_at": None, "accepted_at": None, "forwarded_at": None})
    await _count_case(session, row, "reported", 1)
    for grp in row["special_circumstances"]:
        await _bump(session, store.case_group_counts, dict(period=row["period"], unit=row["unit"], grp=grp), "cases")
    for dimension, value in case_tally_values(event):
        keys = dict(period=row["period"], unit=row["unit"], dimension=dimension, value=value)
        await _bump(session, store.case_tallies, keys, "cases")
    await _replay(session, created[0])  # its catch-up, read by the INSERT


async def counseling_received(session: AsyncSession, event: CounselingRequestReceived, envelope: Envelope) -> None:
    created = (
        await session.execute(
            insert(store.counseling_requests)
            .values(
                request_id=event.request_id,
                code=event.code,
                topic=event.topic,
                channel=event.channel,
                period=month_key(event.received_at),
                received_at=event.received_at,
            )
            .on_conflict_do_nothing()
            .returning(store.counseling_requests.c.request_id)
        )
    ).first()
    if created is not None:
        await _catch_up(session, event.request_id, envelope, _NEEDS_REQUEST)


async def monthly_report(session: AsyncSession, event: MonthlyReportSubmitted, envelope: Envelope) -> None:
    m = store.monthly_reports.c
    created = (
        await session.execute(
            insert(store.monthly_reports)
            .values(
                unit=event.unit,
                period=event.period,
                revision=event.revision,
                report_id=event.report_id,
                submitted_at=event.submitted_at,
                due_on=event.due_on,
                on_time=int(event.on_time),
                cases_by_category=dict(event.cases_by_category),
                special_circumstances_known=dict(event.special_circumstances_known),
                activities_held=event.activities_held,
            )
            .on_conflict_do_nothing()
            .returning(m.revision)
        )
    ).first()
    if created is None:
        return
    others = (
        await session.execute(
            select(m.revision, m.on_time, m.activities_held, m.cases_by_category, m.special_circumstances_known)
            .where(m.unit == event.unit, m.period == event.period, m.revision != event.revision)
            .order_by(m.revision)
        )
    ).all()
    _count_report(session, event, others)


def _report_sums(activities_held: int, cases: dict[str, int], special: dict[str, int]) -> dict[str, int]:
    return {
        "activities_held": activities_held,
        **{f"cases:{k}": n for k, n in cases.items()},
        **{f"special:{k}": n for k, n in special.items()},
    }


def _count_report(session: AsyncSession, event: MonthlyReportSubmitted, others: Sequence[Any]) -> None:
    """The report's share of `case_totals`: timeliness from the first revision of the unit's month (dimension
    `report_first`, by month), sums from the latest (dimension `report`, by month, quarter and year; `reports`
    counts unit-months). A revision that arrives out of order only replaces the one it precedes or follows."""
    unit, month = event.unit, event.period

    def add(dimension: str, value: str, n: int, periods: tuple[str, ...]) -> None:
        for period in periods:
            keys = dict(period=period, dimension=dimension, unit=unit, value=value)
            _add_one(session, store.case_totals, keys, {"cases": n})

    kept = kept_keys(month)
    if not others or event.revision < others[0].revision:
        if others:
            add("report_first", "on_time" if others[0].on_time else "late", -1, (month,))
        add("report_first", "on_time" if event.on_time else "late", 1, (month,))
    if not others or event.revision > others[-1].revision:
        if others:
            old = others[-1]
            sums = _report_sums(old.activities_held, old.cases_by_category, old.special_circumstances_known)
            for name, n in sums.items():
                add("report", name, -n, kept)
        else:
            add("report", "reports", 1, kept)
        sums = _report_sums(event.activities_held, event.cases_by_category, event.special_circumstances_known)
        for name, n in sums.items():
            add("report", name, n, kept)


async def unit_upserted(session: AsyncSession, event: UnitUpserted, envelope: Envelope) -> None:
    values = dict(
        name_vi=event.name_vi,
        kind=event.kind,
        valid_from=event.valid_from,
        valid_to=event.valid_to,
        contact_email=event.contact_email,
        contact_zalo_user_id=event.contact_zalo_user_id,
    )
    stmt = insert(store.units).values(code=event.code, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))
    if event.successors:
        # The event's list replaces the unit's successors (the mapping is many-to-many).
        await session.execute(delete(store.unit_successors).where(store.unit_successors.c.old_unit == event.code))
        await session.execute(
            insert(store.unit_successors)
            .values([dict(old_unit=event.code, new_unit=s) for s in dict.fromkeys(event.successors)])
            .on_conflict_do_nothing()
        )


async def category_upserted(session: AsyncSession, event: CategoryUpserted, envelope: Envelope) -> None:
    values = dict(name_vi=event.name_vi, active=int(event.active))
    stmt = insert(store.categories).values(code=event.code, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["code"], set_=values))


# --- routing -----------------------------------------------------------------------------------------


async def _set_status(session: AsyncSession, row: dict[str, Any], status: str, at: datetime) -> None:
    if row["status"] == status or (row["status_at"] is not None and at < row["status_at"]):
        return
    await _count_case(session, row, row["status"], -1)
    await _count_case(session, row, status, 1)
    row.update(status=status, status_at=at)
    case_rows.changed(session, row)


async def _milestone(session: AsyncSession, row: dict[str, Any], column: str, stage: str, at: datetime) -> None:
    """Record the first time a case reached a stage, and add its duration to the timing counters."""
    if row[column] is not None:
        return
    row[column] = at
    case_rows.changed(session, row)
    await _time_stage(session, row, stage, at)


async def case_assigned(session: AsyncSession, event: CaseAssigned, envelope: Envelope) -> None:
    row = await _case(session, event.case_id)
    if row is None:
        return
    await _milestone(session, row, "assigned_at", "assigned", event.assigned_at)
    if row["status"] == "reported":
        await _set_status(session, row, "assigned", event.assigned_at)


async def assignment_answered(session: AsyncSession, event: AssignmentAnswered, envelope: Envelope) -> None:
    if event.case_id is None or not event.accepted:
        return
    row = await _case(session, event.case_id)
    if row is not None:
        await _milestone(session, row, "accepted_at", "accepted", event.answered_at)


async def case_forwarded(session: AsyncSession, event: CaseForwarded, envelope: Envelope) -> None:
    row = await _case(session, event.case_id)
    if row is not None:
        await _milestone(session, row, "forwarded_at", "forwarded", event.forwarded_at)


async def case_decided(session: AsyncSession, event: CaseDecided, envelope: Envelope) -> None:
    """The Standing Committee's decisions by outcome, in the month they were taken, under the case's unit."""
    keys = dict(period=month_key(event.decided_at), unit=event.unit, dimension="decision", value=event.outcome)
    await _bump(session, store.case_tallies, keys, "cases")


async def case_referred(session: AsyncSession, event: CaseReferred, envelope: Envelope) -> None:
    """Referrals by recipient, in the month they were made, under the case's unit."""
    keys = dict(period=month_key(event.referred_at), unit=event.unit, dimension="referral", value=event.to)
    await _bump(session, store.case_tallies, keys, "cases")


async def referral_acknowledged(session: AsyncSession, event: ReferralAcknowledged, envelope: Envelope) -> None:
    keys = dict(period=month_key(event.referred_at), unit=event.unit, dimension="referral_ack", value=event.to)
    await _bump(session, store.case_tallies, keys, "cases")


async def task_assigned(session: AsyncSession, event: TaskAssigned, envelope: Envelope) -> None:
    """A Standing Committee task, counted in the month it was assigned (`case_tallies`, dimension `task`)."""
    keys = dict(period=month_key(event.assigned_at), unit=event.unit or "", dimension="task", value="assigned")
    await _bump(session, store.case_tallies, keys, "cases")


async def task_completed(session: AsyncSession, event: TaskCompleted, envelope: Envelope) -> None:
    """Counted in the month it was completed, on time (by `due_on`, Vietnamese date) or late."""
    on_time = event.completed_at.astimezone(VN).date() <= event.due_on
    keys = dict(
        period=month_key(event.completed_at), unit="", dimension="task", value="done" if on_time else "done_late"
    )
    await _bump(session, store.case_tallies, keys, "cases")


async def case_status_changed(session: AsyncSession, event: CaseStatusChanged, envelope: Envelope) -> None:
    row = await _case(session, event.case_id)
    if row is not None:
        await _set_status(session, row, event.to_status, event.changed_at)


async def case_escalated(session: AsyncSession, event: CaseEscalated, envelope: Envelope) -> None:
    subject_id = event.case_id or event.request_id
    if subject_id is None or event.reason != "deadline_passed":
        return  # "nobody available" tells the chair at once; no deadline has passed
    unit = None
    if event.case_id is not None:
        row = await _case(session, event.case_id)
        if row is None:
            return  # replayed when the case arrives
        unit = row["unit"]
    table = store.breaches
    stmt = insert(table).values(
        subject_id=subject_id,
        deadline=event.deadline,
        due_at=event.due_at,
        subject="case" if event.case_id else "request",
        unit=unit,
        urgency=event.urgency,
        period=month_key(event.due_at),
        level=event.level,
        escalations=1,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["subject_id", "deadline", "due_at"],
            set_={
                "escalations": table.c.escalations + 1,
                "level": _greatest(table.c.level, stmt.excluded.level),  # 'committee' > 'chair' as text too
            },
        )
    )


async def members_changed(session: AsyncSession, event: CaseMembersChanged, envelope: Envelope) -> None:
    await _bump(
        session,
        store.activity_counts,
        dict(period=month_key(event.changed_at), metric="members_changed", key=event.reason),
        "n",
    )


async def counseling_assigned(session: AsyncSession, event: CounselingRequestAssigned, envelope: Envelope) -> None:
    await session.execute(
        update(store.counseling_requests)
        .where(
            store.counseling_requests.c.request_id == event.request_id,
            store.counseling_requests.c.assigned_at.is_(None),
        )
        .values(assigned_at=event.assigned_at)
    )


async def counseling_answered(session: AsyncSession, event: CounselingRequestAnswered, envelope: Envelope) -> None:
    await session.execute(
        update(store.counseling_requests)
        .where(
            store.counseling_requests.c.request_id == event.request_id,
            store.counseling_requests.c.answered_at.is_(None),
        )
        .values(answered_at=event.answered_at)
    )


# --- notify ------------------------------------------------------------------------------------------


async def notification_sent(session: AsyncSession, event: NotificationSent, envelope: Envelope) -> None:
    # Each delivery counts once: the event is projected once (inbox, event store) and lists a delivery once.
    for delivery in event.deliveries:
        await _bump(
            session,
            store.activity_counts,
            dict(period=month_key(delivery.sent_at), metric="notification", key=f"{delivery.channel}:sent"),
            "n",
        )


async def notification_failed(session: AsyncSession, event: NotificationFailed, envelope: Envelope) -> None:
    if event.final:
        await _bump(
            session,
            store.activity_counts,
            dict(period=month_key(event.failed_at), metric="notification", key=f"{event.channel}:failed"),
            "n",
        )


Projector = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]

PROJECTORS: dict[type[Event], Projector] = {
    CaseReported: case_reported,
    CounselingRequestReceived: counseling_received,
    MonthlyReportSubmitted: monthly_report,
    UnitUpserted: unit_upserted,
    CategoryUpserted: category_upserted,
    CaseAssigned: case_assigned,
    AssignmentAnswered: assignment_answered,
    CaseForwarded: case_forwarded,
    CaseDecided: case_decided,
    CaseReferred: case_referred,
    ReferralAcknowledged: referral_acknowledged,
    CaseStatusChanged: case_status_changed,
    CaseEscalated: case_escalated,
    CaseMembersChanged: members_changed,
    CounselingRequestAssigned: counseling_assigned,
    CounselingRequestAnswered: counseling_answered,
    TaskAssigned: task_assigned,
    TaskCompleted: task_completed,
    NotificationSent: notification_sent,
    NotificationFailed: notification_failed,
}

# Events whose effect needs the case (or the counseling request) to exist first.
_NEEDS_CASE = tuple(
    cls.TYPE for cls in (CaseAssigned, AssignmentAnswered, CaseForwarded, CaseStatusChanged, CaseEscalated)
)
_NEEDS_REQUEST = tuple(cls.TYPE for cls in (CounselingRequestAssigned, CounselingRequestAnswered))
# The events whose order against their case's (or request's) creation matters: the creator replays the early
# ones (`_catch_up`). Only these take the subject's lock; `notification.*` and the rest count without it.
ORDERED_BY_SUBJECT = frozenset({CaseReported.TYPE, CounselingRequestReceived.TYPE, *_NEEDS_CASE, *_NEEDS_REQUEST})


async def apply(session: AsyncSession, envelope: Envelope, event: Event | None = None) -> None:
    event = event if event is not None else envelope.event()
    projector = PROJECTORS.get(type(event))
    if projector is not None:
        await projector(session, event, envelope)


async def prepare(session: AsyncSession, events: Sequence[Event]) -> None:
    """Before the handlers of a batch whose events the store has just taken, and whose subjects' locks the
    transaction holds (`handlers.keep`): read the rows of the cases the events are about in one statement.
    Under the locks they cannot change before the handlers run, so the handlers find what they would have read."""
    about = {
        case_id
        for event in events
        if event.TYPE in _NEEDS_CASE and (case_id := getattr(event, "case_id", None)) is not None
    }
    if about:
        await case_rows.read(session, about)


async def _catch_up(session: AsyncSession, subject_id: uuid.UUID, creator: Envelope, types: tuple[str, ...]) -> None:
    """Replay stored events about a case or request that arrived (were stored) before it existed."""
    e = store.events.c
    creator_seq = select(e.seq).where(e.event_id == creator.event_id).scalar_subquery()
    rows = await session.execute(
        select(e.envelope).where(e.subject_id == subject_id, e.type.in_(types), e.seq < creator_seq).order_by(e.seq)
    )
    await _replay(session, rows.scalars().all())


async def _replay(session: AsyncSession, bodies: Sequence[str]) -> None:
    for body in bodies:
        await apply(session, Envelope.model_validate_json(body))
