"""Reporting's HTTP API: figures (JSON), exports (CSV, XLSX, DOCX) and the plan tracker."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting import exports, figures, plan, store, suppression, tables
from services.reporting.domain import VN, Period, PeriodError, parse_period
from shared.auth import Authenticator, Principal
from shared.errors import FieldErrors, NotFound
from shared.service import runtime_of

router = APIRouter(prefix="/v1/reports", tags=["reports"])
auth = Authenticator(store.credentials)
READERS = ("chair", "committee", "operator", "admin")
Reader = Annotated[Principal, Depends(auth.require(*READERS))]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def period_param(
    period: Annotated[
        str,
        Query(
            description="Month 2025-07, quarter 2025-Q3, year 2025, or a range such as 2023..2025 or 2023-01..2025-06",
            examples=["2025", "2025-07", "2023..2027"],
            max_length=40,
        ),
    ],
) -> Period:
    try:
        return parse_period(period)
    except PeriodError as exc:
        raise FieldErrors.one(
            "query.period",
            str(exc),
            "Kỳ không hợp lệ: một tháng (2025-07), quý (2025-Q3), năm (2025) hoặc khoảng (2025..2026).",
        ) from exc


PeriodQ = Annotated[Period, Depends(period_param)]
Rollup = Annotated[
    bool,
    Query(
        description="Re-attribute figures of units that ended in 2025 to their successors "
        "(equal shares; approximate per unit, exact in total)"
    ),
]


def today(request: Request) -> date:
    return runtime_of(request).clock.now().astimezone(VN).date()


def threshold(request: Request, principal: Principal) -> int:
    """Small-number threshold for this reader (0: exact figures), see `services.reporting.suppression`."""
    return suppression.threshold_for(principal.role, runtime_of(request).settings.small_number_threshold)


class CountRow(BaseModel):
    unit: str
    category: str
    status: str
    cases: int | str  # "<5" for roles that see small numbers suppressed


class MonthlyReport(BaseModel):
    period: str
    total: int
    rows: list[CountRow]


@router.get("/monthly", response_model=MonthlyReport, summary="Cases of one month by unit, category and status")
async def monthly(
    request: Request,
    principal: Reader,
    period: Annotated[str, Query(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])],
) -> MonthlyReport:
    async with runtime_of(request).sessions() as session:
        found = await figures.monthly(session, period_param(period))  # a year out of range: 422, not 500
    rows = [CountRow(**r) for r in suppression.suppress_rows(found, threshold(request, principal))]
    return MonthlyReport(period=period, total=sum(r.cases for r in rows if isinstance(r.cases, int)), rows=rows)


@router.get(
    "/summary", summary="Every figure of a period: cases, times, breaches, counseling, unit reports, completeness"
)
async def summary(request: Request, principal: Reader, period: PeriodQ, rollup: Rollup = False) -> dict[str, Any]:
    small = threshold(request, principal)
    async with runtime_of(request).sessions() as session:
        found = await figures.summary(session, period, rollup=rollup)
        if small:
            cases = suppression.cases_report(
                await figures.case_counts(session, period, rollup=rollup), small, figures.DIMENSIONS
            )
            found["cases"] = {key: value for key, value in cases.items() if key != "rows"}
            found["special_groups"] = suppression.suppress_rows(found["special_groups"], small)
    return found


async def _report_json(
    session: AsyncSession, report: str, period: Period, rollup: bool, day: date, small: int = 0
) -> Any:
    match report:
        case "cases":
            rows = await figures.case_counts(session, period, rollup=rollup)
            if small:
                return suppression.cases_report(rows, small, figures.DIMENSIONS)
            return {**await figures.cases_summary(session, period, rollup=rollup), "rows": rows}
        case "special-groups":
            return suppression.suppress_rows(await figures.special_groups(session, period, rollup=rollup), small)
        case "ages":
            return await figures.age_bands(session, period)
        case "referrals":
            return await figures.referrals(session, period)
        case "timings":
            return await figures.timings(session, period)
        case "breaches":
            return await figures.breaches(session, period)
        case "counseling":
            return await figures.counseling(session, period)
        case "unit-reports":
            return await figures.unit_reports(session, period, rollup=rollup)
        case "completeness":
            return await figures.completeness(session, period, rollup=rollup)
        case "plan":
            return await plan.tracker(session, period, day)
    raise NotFound(
        f"unknown report {report!r}; one of {', '.join(tables.REPORTS)}",
        f"Không có báo cáo {report!r}; chọn một trong: {', '.join(tables.REPORTS)}.",
    )


ReportName = Literal[
    "cases",
    "special-groups",
    "ages",
    "referrals",
    "timings",
    "breaches",
    "counseling",
    "unit-reports",
    "completeness",
    "plan",
]


@router.get(
    "/export/{report}",
    summary="A report as CSV (UTF-8 with BOM) or XLSX; `summary` as XLSX has every sheet",
    response_class=Response,
    responses={200: {"content": {XLSX: {}, "text/csv": {}}}},
)
async def export(
    request: Request,
    principal: Reader,
    report: Literal[ReportName, "summary"],
    period: PeriodQ,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "xlsx",
    rollup: Rollup = False,
) -> Response:
    day = today(request)
    small = threshold(request, principal)
    async with runtime_of(request).sessions() as session:
        if report == "summary":
            if format == "csv":
                raise FieldErrors.one(
                    "query.format",
                    "The summary has several tables: export it as xlsx, or one report as csv.",
                    "Bản tổng hợp có nhiều bảng: hãy xuất dạng xlsx, hoặc xuất từng báo cáo dạng csv.",
                )
            sheets = [
                await tables.sheet(session, name, period, rollup=rollup, today=day, small=small)
                for name in tables.REPORTS
            ]
        else:
            sheets = [await tables.sheet(session, report, period, rollup=rollup, today=day, small=small)]
    stem = f"bao-cao-{report}-{period.label.replace('..', '_')}"
    if format == "csv":
        return Response(
            exports.to_csv(sheets[0]),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )
    return Response(
        exports.to_xlsx(sheets), media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'}
    )


@router.get(
    "/review",
    summary="Annual review, 3-year review 2023–2025 or 5-year summary 2023–2027 as DOCX",
    response_class=Response,
    responses={200: {"content": {DOCX: {}}}},
)
async def review(
    request: Request,
    principal: Reader,
    kind: Annotated[Literal["annual", "three_year", "five_year"], Query()],
    year: Annotated[int | None, Query(ge=2023, le=2100)] = None,
    number: Annotated[str, Query(max_length=12, pattern=r"^[0-9 ]*$", description="Document number (Số)")] = "    ",
) -> Response:
    from services.reporting import documents  # python-docx (~8 MiB of RSS) only once a document is asked for

    runtime = runtime_of(request)
    signing = documents.Signing.of(runtime.settings)
    try:
        chosen = documents.review_kind(kind, year, signing.club_name)
    except ValueError as exc:
        raise FieldErrors.one("query.year", str(exc), "Năm không hợp lệ cho loại văn bản này.") from exc
    async with runtime.sessions() as session:
        body = await documents.review_docx(
            session, chosen, today(request), number, signing, threshold(request, principal)
        )
    return Response(
        body,
        media_type=DOCX,
        headers={
            "Content-Disposition": f'attachment; filename="bao-cao-{kind}-{chosen.period.replace("..", "_")}.docx"'
        },
    )


@router.get("/{report}", summary="One report as JSON")
async def report_json(
    request: Request, principal: Reader, report: ReportName, period: PeriodQ, rollup: Rollup = False
) -> Any:
    async with runtime_of(request).sessions() as session:
        return await _report_json(session, report, period, rollup, today(request), threshold(request, principal))
