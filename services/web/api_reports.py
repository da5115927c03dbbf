"""The reports pages (`/thong-ke`): monthly, quarterly and annual reports, the 3-year review (2023–2025) and
the 5-year summary (2023–2027), with tables, server-drawn SVG charts and the CSV, XLSX and DOCX downloads,
which are reporting's own files fetched with the signed-in person's token (so reporting's rules apply:
the roles it allows, and small numbers shown as "<5" to those who may not list cases)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Response

from services.web import report_tables, reports
from services.web.domain import VN
from services.web.pages import PageRoute, api, message_page, names, now, person, render
from services.web.reports import EXPORTS, BadPeriod
from services.web.sessions import Session

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
BASE = "/thong-ke"
KINDS = {
    "thang": "Báo cáo tháng",
    "quy": "Báo cáo quý",
    "nam": "Báo cáo năm",
    "so-ket-3-nam": "Sơ kết 3 năm (2023–2025)",
    "tong-ket-5-nam": "Tổng kết 5 năm (2023–2027)",
}
FILE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def _today(request: Request) -> date:
    """Today in Tây Ninh, by the service's clock."""
    return now(request).astimezone(VN).date()


@router.get(BASE)
async def reports_index(request: Request) -> Response:
    await person(request)
    today = _today(request)
    return render(
        request,
        "report_index.html",
        title="Báo cáo thống kê",
        kinds=KINDS,
        choices={kind: reports.choices(kind, today) for kind in ("thang", "quy", "nam")},
        current={k: reports.report(k, None, today).choose for k in ("thang", "quy", "nam")},
    )


async def _get(request: Request, session: Session, path: str, period: str) -> Any:
    answer = await api(request, session, "reporting", "GET", path, params={"period": period})
    if answer.status == 403:
        raise PermissionError
    return answer.body if answer.ok else None


@router.get(BASE + "/{kind}")
async def report_page(request: Request, kind: str) -> Response:
    session = await person(request)
    if kind not in KINDS:
        return message_page(request, 404, "Không tìm thấy trang", "Không có loại báo cáo này.")
    today = _today(request)
    try:
        chosen = reports.report(kind, request.query_params.get("ky") or None, today)
    except BadPeriod as exc:
        return message_page(request, 422, "Kỳ báo cáo không hợp lệ", str(exc), link=(BASE, "Chọn lại báo cáo"))
    try:
        summary = await _get(request, session, "/v1/reports/summary", chosen.period)
        plan = await _get(request, session, "/v1/reports/plan", chosen.period)
    except PermissionError:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem báo cáo thống kê.")
    if summary is None:
        return message_page(request, 422, "Kỳ báo cáo không hợp lệ", "Hệ thống báo cáo không nhận kỳ này.")
    units = await names(request, "units", session)
    categories = await names(request, "categories")
    tables = report_tables.case_tables(summary, chosen, units, categories)
    completeness = summary.get("completeness") or {}
    return render(
        request,
        "report_page.html",
        title=chosen.title,
        report=chosen,
        kinds=KINDS,
        choices=reports.choices(kind, today),
        summary=summary,
        suppressed=(summary.get("cases") or {}).get("suppressed"),
        tables=tables,
        timings=report_tables.timing_table(summary.get("timings") or []),
        breaches=report_tables.breach_table(summary.get("breaches") or []),
        decisions=report_tables.decision_rows(summary.get("decisions") or {}),
        completeness=report_tables.completeness_table(completeness),
        grid=report_tables.completeness_grid(completeness, chosen.multi_year),
        plan=report_tables.plan_table(plan or {}),
        plan_rows=report_tables.plan_rows(plan or {}),
        grid_words=reports.GRID,
        exports=EXPORTS,
        base=BASE,
    )


def _file(answer, default_name: str, media: str) -> Response:
    disposition = answer.headers.get("content-disposition") or f'attachment; filename="{default_name}"'
    return Response(answer.body, media_type=media, headers={"Content-Disposition": disposition})


def _refused(request: Request, status: int) -> Response:
    if status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền tải báo cáo này.")
    return message_page(
        request, 422, "Không tải được", "Báo cáo hoặc kỳ báo cáo không hợp lệ.", link=(BASE, "Về trang báo cáo")
    )


@router.get(BASE + "/{kind}/tai-ve/{report}.{fmt}")
async def download(request: Request, kind: str, report: str, fmt: str) -> Response:
    """A table as CSV or XLSX (`summary`: every table, XLSX), for the page's period."""
    session = await person(request)
    if kind not in KINDS or report not in EXPORTS or fmt not in ("csv", "xlsx") or (report, fmt) == ("summary", "csv"):
        return message_page(request, 404, "Không tìm thấy trang", "Không có tệp này.")
    try:
        chosen = reports.report(kind, request.query_params.get("ky") or None, _today(request))
    except BadPeriod as exc:
        return message_page(request, 422, "Kỳ báo cáo không hợp lệ", str(exc))
    answer = await api(
        request,
        session,
        "reporting",
        "GET",
        f"/v1/reports/export/{report}",
        params={"period": chosen.period, "format": fmt},
        headers={"Accept": "*/*"},
        raw=True,
    )
    if not answer.ok:
        return _refused(request, answer.status)
    log.info("account %s downloaded %s.%s for %s", session.account.get("id"), report, fmt, chosen.period)
    return _file(answer, f"bao-cao-{report}.{fmt}", FILE_TYPES[fmt])


@router.get(BASE + "/{kind}/van-ban.docx")
async def document(request: Request, kind: str) -> Response:
    """The review as a Word document (annual, 3-year, 5-year), in the Youth Union's format."""
    session = await person(request)
    if kind not in KINDS:
        return message_page(request, 404, "Không tìm thấy trang", "Không có tệp này.")
    try:
        chosen = reports.report(kind, request.query_params.get("ky") or None, _today(request))
    except BadPeriod as exc:
        return message_page(request, 422, "Kỳ báo cáo không hợp lệ", str(exc))
    if chosen.docx is None:
        return message_page(
            request, 404, "Không có văn bản", "Văn bản Word có cho báo cáo năm, sơ kết 3 năm và tổng kết 5 năm."
        )
    answer = await api(
        request,
        session,
        "reporting",
        "GET",
        "/v1/reports/review",
        params=chosen.docx,
        headers={"Accept": "*/*"},
        raw=True,
    )
    if not answer.ok:
        return _refused(request, answer.status)
    log.info("account %s downloaded the %s document for %s", session.account.get("id"), kind, chosen.period)
    return _file(answer, f"bao-cao-{kind}.docx", FILE_TYPES["docx"])
