"""Recording a case: validation against reference data, consent, the code sequence, encryption of the
child's data, the possible-duplicate link, and `case.reported` — written by one statement, so a refused
case leaves nothing behind."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.intake import domain, store
from services.intake.context import IntakeContext
from services.intake.refcache import Db, ReferenceCache, Snapshot
from services.intake.schemas import CaseIn
from shared.auth import Principal
from shared.case_keys import new_case_key
from shared.crypto import identity_hash
from shared.db import fetch_value
from shared.events.intake import CaseReported
from shared.http_errors import FieldErrors
from shared.outbox import Outbox

CLOCK_SKEW = timedelta(minutes=5)


def child_context(case_id: uuid.UUID, field: str) -> str:
    """Associated data of a case's encrypted value: the child fields, `reporter_contact`, `summary`."""
    return f"case:{case_id}:{field}"


def report_notes_context(report_id: uuid.UUID) -> str:
    return f"report:{report_id}:notes"


def counseling_answer_context(request_id: uuid.UUID) -> str:
    return f"counseling:{request_id}:answer"


async def check_unit_valid(session: Db, unit: str, day: date, field: str) -> None:
    """422 when the unit is unknown or did not exist on `day`; the message names its successors."""
    row = (await session.execute(select(store.units).where(store.units.c.code == unit))).first()
    if row is None:
        raise FieldErrors.one(field, f"Unknown unit {unit!r}.", f"Không có đơn vị {unit!r}.", "unknown_unit")
    if not domain.unit_valid_on(row.valid_from, row.valid_to, day):
        english, vietnamese = domain.unit_validity_messages(
            row.name_vi, row.valid_from, row.valid_to, day, await successor_names(session, unit)
        )
        raise FieldErrors.one(field, english, vietnamese, "unit_not_valid")


async def successor_names(session: Db, unit: str) -> list[str]:
    """The names of the units that took over `unit`'s territory (2025 reorganisation)."""
    u, links = store.units.c, store.unit_successors.c
    query = (
        select(u.name_vi)
        .join_from(store.unit_successors, store.units, u.code == links.new_unit)
        .where(links.old_unit == unit)
    )
    return list((await session.execute(query)).scalars().all())


# The columns of a new case, in the order of the write statement's parameters after the case key's three.
CASE_COLUMNS = (
    "unit",
    "category",
    "urgency",
    "protection_level",
    "special_circumstances",
    "occurred_on",
    "occurred_at",
    "learned_at",
    "summary",
    "suggested_urgency",
    "urgency_reason",
    "status",
    "age_band",
    "legal_basis",
    "emergency_reason",
    "child_consent",
    "guardian_consent",
    "reporter_contact",
    "reported_by",
    "identity_hash",
    "possible_duplicate_of",
)
JSONB_COLUMNS = ("child_consent", "guardian_consent")


@dataclass(frozen=True)
class Idempotency:
    """The `Idempotency-Key` of the request and the SHA-256 of its body: stored with the answer."""

    account_id: uuid.UUID
    key: str
    request_sha256: str


@lru_cache(maxsize=16)
def write_statement(*, followup: bool, child_fields: tuple[str, ...], idempotency: bool) -> str:
    """One statement that writes a new case: its key, the case with its code from the year's sequence, the
    follow-up of an emergency case, the child's row, `case.reported` in the outbox (the code spliced into
    the envelope, `Outbox.template`) and the idempotency key with the answer. One round trip, one implicit
    transaction: all of it commits or none does; a second use of an idempotency key fails the whole
    statement. Parameters: $1 case id, $2 wrapped key, $3 now, $4 the code's year, then `CASE_COLUMNS`,
    then the outbox row (event id, type, key, envelope before and after the code), then the child's
    fields, then the idempotency key's account, key and body hash. Built once per shape."""
    n = 4
    columns = ", ".join(CASE_COLUMNS)
    values = []
    for column in CASE_COLUMNS:
        n += 1
        values.append(f"${n}::jsonb" if column in JSONB_COLUMNS else f"${n}")
    o = n  # the outbox row's parameters are $o+1 … $o+5
    n += 5
    parts = [
        f"WITH k AS (INSERT INTO {store.case_keys.fullname} (case_id, wrapped, created_at) VALUES ($1, $2, $3))",
        f"c AS (INSERT INTO {store.cases.fullname} (id, code, reported_at, {columns}) "
        f"VALUES ($1, intake.next_case_code($4), $3, {', '.join(values)}) RETURNING code)",
        f"o AS (INSERT INTO {store.outbox.fullname} (event_id, type, key, envelope) "
        f"SELECT ${o + 1}, ${o + 2}, ${o + 3}, ${o + 4} || to_json(c.code)::text || ${o + 5} FROM c)",
    ]
    if followup:
        parts.append(f"f AS (INSERT INTO {store.consent_followups.fullname} (case_id, opened_at) VALUES ($1, $3))")
    if child_fields:
        placeholders = ", ".join(f"${n + i + 1}" for i in range(len(child_fields)))
        n += len(child_fields)
        parts.append(
            f"ch AS (INSERT INTO {store.case_children.fullname} (case_id, {', '.join(child_fields)}) "
            f"VALUES ($1, {placeholders}))"
        )
    if idempotency:
        parts.append(
            f"i AS (INSERT INTO {store.idempotency_keys.fullname} "
            "(account_id, key, request_sha256, status_code, response) "
            f"SELECT ${n + 1}, ${n + 2}, ${n + 3}, 201, "
            "jsonb_build_object('id', $1::uuid::text, 'code', c.code, 'status', 'reported') FROM c)"
        )
    return ",\n".join(parts) + "\nSELECT code FROM c"


def _reference_known(snapshot: Snapshot, body: CaseIn, today: date) -> bool:
    """True when the cached reference data accepts unit, category and special circumstances as they are.
    Anything else is decided by the database (the copy may be behind by a few milliseconds)."""
    unit = snapshot.units.get(body.unit)
    return (
        unit is not None
        and domain.unit_valid_on(unit.valid_from, unit.valid_to, today)
        and body.category in snapshot.active_categories
        and snapshot.special_circumstances.issuperset(body.special_circumstances)
    )


async def _reference_errors(session: Db, body: CaseIn) -> list[tuple[str, str, str, str]]:
    """Category and special-circumstance problems, looked up in the database."""
    errors: list[tuple[str, str, str, str]] = []
    category = (await session.execute(select(store.categories).where(store.categories.c.code == body.category))).first()
    if category is None or not category.active:
        errors.append(
            (
                "body.category",
                f"Unknown category {body.category!r}.",
                f"Không có loại vụ việc {body.category!r}.",
                "unknown_category",
            )
        )
    if body.special_circumstances:
        known = set(
            (
                await session.execute(
                    select(store.special_circumstances.c.code).where(
                        store.special_circumstances.c.code.in_(body.special_circumstances)
                    )
                )
            ).scalars()
        )
        unknown = sorted(set(body.special_circumstances) - known)
        if unknown:
            errors.append(
                (
                    "body.special_circumstances",
                    f"Unknown codes: {', '.join(unknown)}.",
                    f"Mã không hợp lệ: {', '.join(unknown)}.",
                    "unknown_code",
                )
            )
    return errors


async def _suggested_urgency(session: Db, snapshot: Snapshot, category: str) -> str | None:
    if snapshot.suggested_urgency is not None and category in snapshot.suggested_urgency:
        return snapshot.suggested_urgency[category]
    c = store.categories.c
    return (await session.execute(select(c.suggested_urgency).where(c.code == category))).scalar_one_or_none()


async def _floor_errors(
    session: Db, snapshot: Snapshot, body: CaseIn
) -> tuple[str | None, list[tuple[str, str, str, str]]]:
    """The category's urgency floor when the case is filed below it, and the error if no reason is given."""
    floor = domain.urgency_floor(await _suggested_urgency(session, snapshot, body.category))
    if not domain.below_floor(body.urgency, floor):
        return None, []
    if body.urgency_reason and body.urgency_reason.strip():
        return floor, []
    assert floor is not None
    c = store.categories.c
    name = (await session.execute(select(c.name_vi).where(c.code == body.category))).scalar_one_or_none()
    english, vietnamese = domain.urgency_floor_messages(name or body.category, floor)
    return floor, [("body.urgency_reason", english, vietnamese, "reason_required")]


async def _validate(
    session: Db, body: CaseIn, now: datetime, reference: ReferenceCache
) -> tuple[int | None, str | None]:
    """Every check that can refuse the case, before anything is written. Returns the child's age and the
    urgency floor the case is filed below (None if it is not)."""
    today = domain.local_date(now)
    snapshot = await reference.get(session)
    cached_ok = _reference_known(snapshot, body, today)
    errors = [] if cached_ok else await _reference_errors(session, body)
    floor, floor_errors = await _floor_errors(session, snapshot, body)
    errors += floor_errors
    learned_at = body.learned_at or now
    if learned_at > now + CLOCK_SKEW:
        errors.append(("body.learned_at", "Cannot be in the future.", "Không được ở tương lai.", "future"))
    if body.occurred_at is not None and body.occurred_at > learned_at + CLOCK_SKEW:
        errors.append(
            ("body.occurred_at", "Cannot be after learned_at.", "Không được sau thời điểm biết tin.", "after_learned")
        )
    if body.occurred_on is not None and body.occurred_on > domain.local_date(learned_at):
        errors.append(
            ("body.occurred_on", "Cannot be after learned_at.", "Không được sau ngày biết tin.", "after_learned")
        )
    age = None
    child = body.child
    if child is not None:
        if child.date_of_birth is not None and child.date_of_birth > today:
            errors.append(("body.child.date_of_birth", "Cannot be in the future.", "Không được ở tương lai.", "future"))
        else:
            age = domain.child_age(child.age, child.date_of_birth, today)
            if age is not None and age > 17:
                errors.append(
                    (
                        "body.child.date_of_birth",
                        "The person is not a child (18 or older).",
                        "Người này đã đủ 18 tuổi.",
                        "not_a_child",
                    )
                )
    for who in ("child", "guardian"):
        record = getattr(body.consent, who, None) if body.consent else None
        if record is not None and record.recorded_at > now + CLOCK_SKEW:
            errors.append(
                (f"body.consent.{who}.recorded_at", "Cannot be in the future.", "Không được ở tương lai.", "future")
            )
    has_identity = child is not None and any(getattr(child, f) is not None for f in store.CHILD_FIELDS)
    if body.legal_basis == domain.EMERGENCY and not (body.emergency_reason or "").strip():
        errors.append(
            (
                "body.emergency_reason",
                "The emergency basis needs a written reason.",
                "Xử lý theo căn cứ khẩn cấp cần ghi rõ lý do.",
                "reason_required",
            )
        )
    for field, english, vietnamese in domain.consent_problems(
        has_child_identity=has_identity,
        age=age,
        legal_basis=body.legal_basis,
        child_consent=body.consent is not None and body.consent.child is not None,
        guardian_consent=body.consent is not None and body.consent.guardian is not None,
    ):
        errors.append((field, english, vietnamese, "consent_missing"))
    if errors:
        raise FieldErrors(*errors)
    if not cached_ok:
        await check_unit_valid(session, body.unit, today, "body.unit")
    return age, floor


async def record_case(
    conn: AsyncConnection,
    outbox: Outbox,
    context: IntakeContext,
    body: CaseIn,
    principal: Principal,
    now: datetime,
    idempotency: Idempotency | None = None,
) -> tuple[uuid.UUID, str, str]:
    """Validate and write the case (with `idempotency`, its key and answer too); returns (id, code, status).
    `conn` is in autocommit: the write is one statement (`write_statement`), atomic on its own."""
    age, floor = await _validate(conn, body, now, context.reference)
    case_id = uuid.uuid4()
    child = body.child
    digest = None
    duplicate_of = None
    if child is not None and child.name and child.date_of_birth:
        digest = identity_hash(
            context.duplicate_key, domain.normalised_name(child.name), child.date_of_birth.isoformat()
        )
        since = now - timedelta(days=context.settings.duplicate_window_days)
        duplicate_of = (
            await conn.execute(
                select(store.cases.c.id)
                .where(store.cases.c.identity_hash == digest, store.cases.c.reported_at >= since)
                .order_by(store.cases.c.reported_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
    # The case's own data key (crypto-shredding on consent withdrawal), made before any value is encrypted.
    cipher, wrapped = new_case_key(context.cipher, case_id)
    learned_at = body.learned_at or now
    occurred_on = body.occurred_on or (domain.local_date(body.occurred_at) if body.occurred_at else None)
    protection_level = body.protection_level or domain.DEFAULT_PROTECTION_LEVEL[body.urgency]
    band = domain.child_age_band(age)
    consent = body.consent
    contact = body.reporter_contact.model_dump(exclude_none=True) if body.reporter_contact else None
    special = sorted(set(body.special_circumstances))
    row = dict(
        unit=body.unit,
        category=body.category,
        urgency=body.urgency,
        protection_level=protection_level,
        special_circumstances=special,
        occurred_on=occurred_on,
        occurred_at=body.occurred_at,
        learned_at=learned_at,
        summary=cipher.encrypt(body.summary, child_context(case_id, "summary")),
        suggested_urgency=floor,
        urgency_reason=(
            cipher.encrypt(body.urgency_reason.strip(), child_context(case_id, "urgency_reason"))
            if floor and body.urgency_reason
            else None
        ),
        status="reported",
        age_band=band,
        legal_basis=body.legal_basis,
        emergency_reason=(
            cipher.encrypt(body.emergency_reason.strip(), child_context(case_id, "emergency_reason"))
            if body.legal_basis == domain.EMERGENCY and body.emergency_reason
            else None
        ),
        child_consent=_json(consent.child.model_dump(mode="json")) if consent and consent.child else None,
        guardian_consent=_json(consent.guardian.model_dump(mode="json")) if consent and consent.guardian else None,
        reporter_contact=(
            cipher.encrypt(json.dumps(contact, ensure_ascii=False), child_context(case_id, "reporter_contact"))
            if contact
            else None
        ),
        reported_by=principal.account_id,
        identity_hash=digest,
        possible_duplicate_of=duplicate_of,
    )
    children = {}
    if child is not None:
        children = {
            field: cipher.encrypt(str(value), child_context(case_id, field))
            for field in store.CHILD_FIELDS
            if (value := getattr(child, field)) is not None
        }
    event = outbox.template(
        CaseReported(
            case_id=case_id,
            code="",  # made by the statement
            unit=body.unit,
            category=body.category,
            urgency=body.urgency,
            protection_level=protection_level,  # type: ignore[arg-type]
            special_circumstances=tuple(special),
            age_band=band,  # type: ignore[arg-type]
            reported_at=now,
            learned_at=learned_at,
            occurred_on=occurred_on,
            possible_duplicate_of=duplicate_of,
            suggested_urgency=floor,  # type: ignore[arg-type]
        ),
        "code",
        key=case_id,
    )
    statement = write_statement(
        followup=body.legal_basis == domain.EMERGENCY, child_fields=tuple(children), idempotency=idempotency is not None
    )
    parameters = (
        case_id,
        wrapped,
        now,
        now.astimezone(domain.VN).year,
        *(row[column] for column in CASE_COLUMNS),
        *event,
        *children.values(),
        *((idempotency.account_id, idempotency.key, idempotency.request_sha256) if idempotency else ()),
    )
    code: str = await fetch_value(conn, statement, parameters)
    return case_id, code, "reported"


def _json(value: object) -> str:
    """A JSONB parameter as the driver takes it (the statement bypasses the table's column types)."""
    return json.dumps(value, ensure_ascii=False)
