"""The administrator's audit log of reads of children's data (`/quan-tri/nhat-ky-truy-cap`): who read which
case's (or counseling request's) child data, when, which fields; filtered by case code, person and days
(Vietnam's), 50 a page, and the same selection as CSV (`/quan-tri/nhat-ky-truy-cap.csv`, every text cell
neutralised for spreadsheets). From intake's `GET /v1/audit-log` (admin only); the log itself holds no child
data, only the names of the fields that were read."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.domain import AUDIT_PAGE, AuditFilter
from services.web.pages import PageRoute, api, message_page, person, render
from shared.spreadsheet import csv_bytes

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
AUDIT = "/quan-tri/nhat-ky-truy-cap"
CSV_BATCH = 1000
CSV_MAX_ROWS = 100_000


async def _people(request: Request, session) -> list[dict[str, Any]]:
    answer = await api(request, session, "intake", "GET", "/v1/accounts")
    accounts = answer.body if answer.ok and isinstance(answer.body, list) else []
    return sorted(accounts, key=lambda a: str(a.get("name", "")).casefold())


def _refused(request: Request) -> Response:
    return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")


@router.get(AUDIT)
async def audit_page(request: Request) -> Response:
    session = await person(request)
    chosen, errors = AuditFilter.from_query(request.query_params)
    params = {**chosen.params(), "limit": AUDIT_PAGE + 1, "offset": (chosen.page - 1) * AUDIT_PAGE}
    answer = await api(request, session, "intake", "GET", "/v1/audit-log", params=params)
    if answer.status == 403:
        return _refused(request)
    if not answer.ok:
        errors.update(domain.field_errors(answer.detail))
    entries = answer.body if answer.ok and isinstance(answer.body, list) else []
    people = await _people(request, session)
    return render(
        request,
        "admin_audit.html",
        422 if errors else 200,
        title="Nhật ký truy cập dữ liệu trẻ em",
        entries=entries[:AUDIT_PAGE],
        more=len(entries) > AUDIT_PAGE,
        chosen=chosen,
        people=people,
        names={str(a["account_id"]): a.get("name", "") for a in people},
        errors=errors,
    )


@router.get(AUDIT + ".csv")
async def audit_csv(request: Request) -> Response:
    session = await person(request)
    chosen, errors = AuditFilter.from_query(request.query_params)
    if errors:
        return message_page(request, 422, "Bộ lọc không hợp lệ", next(iter(errors.values())), link=(AUDIT, "Quay lại"))
    entries: list[dict[str, Any]] = []
    while len(entries) < CSV_MAX_ROWS:
        params = {**chosen.params(), "limit": CSV_BATCH, "offset": len(entries)}
        answer = await api(request, session, "intake", "GET", "/v1/audit-log", params=params)
        if answer.status == 403:
            return _refused(request)
        batch = answer.body if answer.ok and isinstance(answer.body, list) else []
        entries += batch
        if len(batch) < CSV_BATCH:
            break
    names = {str(a["account_id"]): str(a.get("name", "")) for a in await _people(request, session)}
    log.info("account %s exported %d audit-log rows", session.account.get("id"), len(entries))
    body = csv_bytes(domain.AUDIT_CSV_HEADERS, domain.audit_csv_rows(entries, names))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="nhat-ky-truy-cap.csv"'},
    )
