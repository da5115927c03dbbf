"""Monthly situation reports: every submission is a new revision; each revision is on time or late."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from services.intake import domain, store
from services.intake.api_cases import auth
from services.intake.cases import successor_names
from services.intake.context import intake_context
from services.intake.schemas import MonthlyReportHistory, MonthlyReportIn, MonthlyReportOut
from shared.auth import Principal
from shared.errors import FieldErrors, NotFound
from shared.events.intake import MonthlyReportSubmitted
from shared.http_errors import problems
from shared.service import runtime_of
from shared.uow import unit_of_work

router = APIRouter(tags=["monthly reports"])
Writer = Annotated[Principal, Depends(auth.require(*domain.REPORT_WRITERS))]
Reader = Annotated[Principal, Depends(auth.require(*domain.REPORT_READERS))]
UnitPath = Annotated[str, Path(pattern=domain.UNIT_PATTERN)]
PeriodPath = Annotated[str, Path(pattern=domain.PERIOD_PATTERN, examples=["2026-11"])]
NOT_FOUND = "No such unit or report."
NOT_FOUND_VI = "Không tìm thấy đơn vị hoặc báo cáo."


def _own_unit(principal: Principal, unit: str) -> None:
    if principal.role == "reporter" and principal.unit != unit:
        raise NotFound(NOT_FOUND, NOT_FOUND_VI)


def _out(row) -> MonthlyReportOut:
    return MonthlyReportOut.model_validate(row._mapping)


@router.put(
    "/v1/units/{unit}/monthly-reports/{period}",
    response_model=MonthlyReportOut,
    status_code=200,
    summary="Submit the unit's monthly report (a resubmission is a new revision)",
    responses={201: {"model": MonthlyReportOut, "description": "First revision"}, **problems(401, 403, 404, 413, 415)},
)
async def put_report(
    unit: UnitPath, period: PeriodPath, body: MonthlyReportIn, request: Request, principal: Writer
) -> JSONResponse:
    _own_unit(principal, unit)
    runtime = runtime_of(request)
    settings = intake_context(request).settings
    now = runtime.clock.now()
    first_day, _ = domain.period_bounds(period)
    if first_day > domain.local_date(now):
        raise FieldErrors.one("path.period", "A month that has not started cannot be reported.", "Chưa đến tháng này.")
    async with unit_of_work(runtime) as uow:
        session = uow.session
        row = (await session.execute(select(store.units).where(store.units.c.code == unit))).first()
        if row is None:
            raise NotFound(NOT_FOUND, NOT_FOUND_VI)
        if not domain.unit_overlaps_month(row.valid_from, row.valid_to, period):
            english, vietnamese = domain.unit_validity_messages(
                row.name_vi, row.valid_from, row.valid_to, first_day, await successor_names(session, unit)
            )
            raise FieldErrors.one("path.unit", english, vietnamese, "unit_not_valid")
        errors = []
        for field, table, values in (
            ("body.cases_by_category", store.categories, body.cases_by_category),
            ("body.special_circumstances_known", store.special_circumstances, body.special_circumstances_known),
        ):
            if values:
                known = set(
                    (await session.execute(select(table.c.code).where(table.c.code.in_(list(values))))).scalars()
                )
                unknown = sorted(set(values) - known)
                if unknown:
                    errors.append(
                        (field, f"Unknown codes: {', '.join(unknown)}.", f"Mã không hợp lệ: {', '.join(unknown)}.")
                    )
        if errors:
            raise FieldErrors(*errors)
        # Lock the unit's row so two submissions of one month get consecutive revisions.
        await session.execute(select(store.units.c.code).where(store.units.c.code == unit).with_for_update())
        m = store.monthly_reports.c
        revision = (
            await session.execute(
                select(func.coalesce(func.max(m.revision), 0)).where(m.unit == unit, m.period == period)
            )
        ).scalar_one() + 1
        due_on = domain.report_due_on(period, settings.monthly_report_due_day)
        values = {
            "id": uuid.uuid4(),
            "unit": unit,
            "period": period,
            "revision": revision,
            "submitted_at": now,
            "submitted_by": principal.account_id,
            "due_on": due_on,
            "on_time": domain.on_time(now, due_on),
            "cases_by_category": body.cases_by_category,
            "special_circumstances_known": body.special_circumstances_known,
            "activities_held": body.activities_held,
            "notes": body.notes,
        }
        await session.execute(store.monthly_reports.insert().values(**values))
        await uow.emit(
            MonthlyReportSubmitted(
                report_id=values["id"],
                unit=unit,
                period=period,
                revision=revision,
                submitted_at=now,
                due_on=due_on,
                on_time=values["on_time"],
                cases_by_category=body.cases_by_category,
                special_circumstances_known=body.special_circumstances_known,
                activities_held=body.activities_held,
            ),
            key=f"report:{unit}:{period}",
        )
    out = MonthlyReportOut.model_validate(values)
    return JSONResponse(out.model_dump(mode="json"), status_code=201 if revision == 1 else 200)


@router.get(
    "/v1/units/{unit}/monthly-reports/{period}",
    response_model=MonthlyReportHistory,
    summary="The latest revision and every earlier one",
    responses=problems(401, 403, 404),
)
async def get_report(unit: UnitPath, period: PeriodPath, request: Request, principal: Reader) -> MonthlyReportHistory:
    _own_unit(principal, unit)
    m = store.monthly_reports.c
    async with runtime_of(request).sessions() as session:
        rows = (
            await session.execute(
                select(store.monthly_reports).where(m.unit == unit, m.period == period).order_by(m.revision)
            )
        ).all()
    if not rows:
        raise NotFound(NOT_FOUND, NOT_FOUND_VI)
    revisions = [_out(r) for r in rows]
    return MonthlyReportHistory(unit=unit, period=period, latest=revisions[-1], revisions=revisions)


@router.get(
    "/v1/units/{unit}/monthly-reports",
    response_model=list[MonthlyReportOut],
    summary="Every revision of the unit's monthly reports, newest month first (a reporter: its own unit)",
    responses=problems(401, 403, 404),
)
async def list_reports(unit: UnitPath, request: Request, principal: Reader) -> list[MonthlyReportOut]:
    _own_unit(principal, unit)
    m = store.monthly_reports.c
    async with runtime_of(request).sessions() as session:
        rows = (
            await session.execute(
                select(store.monthly_reports).where(m.unit == unit).order_by(m.period.desc(), m.revision)
            )
        ).all()
    return [_out(r) for r in rows]
