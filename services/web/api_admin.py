"""An administrator's pages: the accounts (`/quan-tri/tai-khoan`) and re-sending a person's invitation
(`POST /quan-tri/tai-khoan/{account_id}/loi-moi`, intake's `POST /v1/accounts/{id}/invitation`)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.pages import PageRoute, api, message_page, names, person, redirect, render

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
ACCOUNTS = "/quan-tri/tai-khoan"
# Accounts of people first (by role), machines (`web`) last; within a role, by name.
ROLE_ORDER = {role: rank for rank, role in enumerate(("admin", "chair", "committee", "member", "reporter", "operator"))}


def _order(account: dict[str, Any]) -> tuple[int, str]:
    return (ROLE_ORDER.get(str(account.get("role")), 99), str(account.get("name", "")).casefold())


async def _accounts_page(
    request: Request, session, status: int = 200, *, sent: str | None = None, errors: dict | None = None
) -> Response:
    answer = await api(request, session, "intake", "GET", "/v1/accounts")
    if answer.status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")
    accounts = sorted(answer.body if answer.ok and isinstance(answer.body, list) else [], key=_order)
    sent_to = next((a for a in accounts if sent and str(a.get("account_id")) == sent), None)
    return render(
        request,
        "admin_accounts.html",
        status,
        title="Quản lý tài khoản",
        accounts=accounts,
        unit_names=await names(request, "units", session),
        sent_to=sent_to,
        errors=errors or {},
    )


@router.get(ACCOUNTS)
async def accounts_page(request: Request) -> Response:
    session = await person(request, "admin")
    return await _accounts_page(request, session, sent=request.query_params.get("da-gui"))


@router.post(ACCOUNTS + "/{account_id}/loi-moi")
async def resend_invitation(request: Request, account_id: uuid.UUID) -> Response:
    session = await person(request, "admin")
    answer = await api(request, session, "intake", "POST", f"/v1/accounts/{account_id}/invitation")
    if answer.status == 202:
        log.info("account %s re-sent the invitation of account %s", session.account.get("id"), account_id)
        return redirect(f"{ACCOUNTS}?da-gui={account_id}")
    if answer.status == 404:
        return message_page(
            request, 404, "Không tìm thấy tài khoản", "Tài khoản này không còn.", link=(ACCOUNTS, "Về danh sách")
        )
    if answer.status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")
    errors = domain.field_errors(answer.detail)
    message = errors.get("email") or next(iter(errors.values()), "Không gửi được lời mời.")
    return await _accounts_page(request, session, 422, errors={str(account_id): message})
