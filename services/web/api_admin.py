"""An administrator's pages: the accounts (`/quan-tri/tai-khoan`, with each one's last sign-in), re-sending a
person's invitation (`POST /quan-tri/tai-khoan/{account_id}/loi-moi`, intake's `POST /v1/accounts/{id}/invitation`),
a new person's account, invited by email (`/quan-tri/tai-khoan/moi`, intake's `POST /v1/accounts` with `email`),
changing an account's name, role and unit or member (`/quan-tri/tai-khoan/{account_id}`, intake's
`PATCH /v1/accounts/{id}`: a new role takes effect at the next sign-in) and locking or unlocking it
(`POST .../khoa`, `.../mo-khoa`, intake's `/disable`, `/enable`: its sessions end everywhere)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from services.web import domain
from services.web.pages import PageRoute, api, message_page, names, person, redirect, reference, render

log = logging.getLogger(__name__)
router = APIRouter(route_class=PageRoute, include_in_schema=False)
ACCOUNTS = "/quan-tri/tai-khoan"
# Accounts of people first (by role), machines (`web`) last; within a role, by name.
ROLE_ORDER = {role: rank for rank, role in enumerate(("admin", "chair", "committee", "member", "reporter", "operator"))}
PEOPLE_ROLES = ("reporter", "member", "chair", "committee", "operator", "admin")
NEW_INPUTS = ("name", "email", "role", "unit", "member_id")
CHOOSE = {
    "role": "Hãy chọn vai trò.",
    "unit": "Cán bộ báo cáo phải gắn với một đơn vị: hãy chọn đơn vị.",
    "member_id": "Thành viên chuyên môn phải gắn với một người trong danh sách thành viên: hãy chọn.",
}


def _order(account: dict[str, Any]) -> tuple[int, str]:
    return (ROLE_ORDER.get(str(account.get("role")), 99), str(account.get("name", "")).casefold())


async def _accounts_page(
    request: Request, session, status: int = 200, *, sent: str | None = None, errors: dict | None = None
) -> Response:
    answer = await api(request, session, "intake", "GET", "/v1/accounts")
    if answer.status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Đồng chí không có quyền xem trang này.")
    accounts = sorted(answer.body if answer.ok and isinstance(answer.body, list) else [], key=_order)
    sent_to = next((a for a in accounts if sent and str(a.get("account_id")) == sent), None)

    def named(param: str) -> dict | None:
        wanted = request.query_params.get(param)
        return next((a for a in accounts if wanted and str(a.get("account_id")) == wanted), None)

    return render(
        request,
        "admin_accounts.html",
        status,
        title="Quản lý tài khoản",
        accounts=accounts,
        unit_names=await names(request, "units", session),
        sent_to=sent_to,
        made=named("da-tao"),
        changed=named("da-sua"),
        locked=named("da-khoa"),
        unlocked=named("da-mo"),
        me_id=str(session.account.get("id")),
        errors=errors or {},
    )


@router.get(ACCOUNTS)
async def accounts_page(request: Request) -> Response:
    session = await person(request)
    return await _accounts_page(request, session, sent=request.query_params.get("da-gui"))


@router.post(ACCOUNTS + "/{account_id}/loi-moi")
async def resend_invitation(request: Request, account_id: uuid.UUID) -> Response:
    session = await person(request)
    answer = await api(request, session, "intake", "POST", f"/v1/accounts/{account_id}/invitation")
    if answer.status == 202:
        log.info("account %s re-sent the invitation of account %s", session.account.get("id"), account_id)
        return redirect(f"{ACCOUNTS}?da-gui={account_id}")
    if answer.status == 404:
        return message_page(
            request, 404, "Không tìm thấy tài khoản", "Tài khoản này không còn.", link=(ACCOUNTS, "Về danh sách")
        )
    if answer.status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Đồng chí không có quyền xem trang này.")
    errors = domain.field_errors(answer.detail)
    message = errors.get("email") or next(iter(errors.values()), "Không gửi được lời mời.")
    return await _accounts_page(request, session, 422, errors={str(account_id): message})


async def _new_form(request: Request, session, status: int, form: dict, errors: dict) -> Response:
    members = await api(request, session, "routing", "GET", "/v1/members")
    people = members.body if members.ok and isinstance(members.body, list) else []
    return render(
        request,
        "admin_new_account.html",
        status,
        title="Tạo tài khoản",
        roles=[(role, domain.ROLES[role]) for role in PEOPLE_ROLES],
        units=await reference(request, "units", session),
        members=sorted(people, key=lambda m: str(m.get("display_name", "")).casefold()),
        form=form,
        errors=errors,
    )


@router.get(ACCOUNTS + "/moi")
async def new_account(request: Request) -> Response:
    session = await person(request)
    return await _new_form(request, session, 200, {}, {})


@router.post(ACCOUNTS + "/moi")
async def create_account(request: Request) -> Response:
    session = await person(request)
    form = {k: str(v).strip() for k, v in (await request.form()).items() if k in NEW_INPUTS}
    errors: dict[str, str] = {}
    if not form.get("email"):
        errors["email"] = "Hãy nhập email: lời mời được gửi đến địa chỉ này."
    if form.get("role") not in PEOPLE_ROLES:
        errors["role"] = CHOOSE["role"]
    if errors:
        return await _new_form(request, session, 422, form, errors)
    body: dict[str, Any] = {"name": form.get("name", ""), "role": form["role"], "email": form["email"]}
    if form["role"] == "reporter" and form.get("unit"):
        body["unit"] = form["unit"]
    if form["role"] == "member" and form.get("member_id"):
        body["member_id"] = form["member_id"]
    answer = await api(request, session, "intake", "POST", "/v1/accounts", json=body)
    if answer.status == 201:
        created = answer.body["account_id"]
        log.info("account %s created account %s (%s)", session.account.get("id"), created, form["role"])
        return redirect(f"{ACCOUNTS}?da-tao={created}")
    if answer.status == 403:
        return message_page(request, 403, "Không có quyền truy cập", "Đồng chí không có quyền xem trang này.")
    found = domain.place_errors(domain.field_errors(answer.detail), NEW_INPUTS)
    # A choice left empty is said in words, not with the API's codes; anything else is intake's own message.
    empty = {**CHOOSE, "name": "Hãy nhập họ tên."}
    errors = {f: empty[f] if f in empty and not form.get(f) else message for f, message in found.items()}
    return await _new_form(request, session, 422, form, errors)


# ---- one account: name, role and binding; lock and unlock ------------------------------------------------


async def _account(request: Request, session, account_id: uuid.UUID) -> dict[str, Any] | None:
    answer = await api(request, session, "intake", "GET", "/v1/accounts")
    found = answer.body if answer.ok and isinstance(answer.body, list) else []
    return next((a for a in found if str(a.get("account_id")) == str(account_id)), None)


async def _edit_form(request: Request, session, account: dict, status: int, form: dict, errors: dict) -> Response:
    members = await api(request, session, "routing", "GET", "/v1/members")
    people = members.body if members.ok and isinstance(members.body, list) else []
    return render(
        request,
        "admin_account.html",
        status,
        title="Sửa tài khoản",
        account=account,
        roles=[(role, domain.ROLES[role]) for role in PEOPLE_ROLES],
        units=await reference(request, "units", session),
        unit_names=await names(request, "units", session),
        members=sorted(people, key=lambda m: str(m.get("display_name", "")).casefold()),
        form=form,
        errors=errors,
    )


def _gone(request: Request) -> Response:
    return message_page(
        request, 404, "Không tìm thấy tài khoản", "Tài khoản này không còn.", link=(ACCOUNTS, "Về danh sách")
    )


@router.get(ACCOUNTS + "/{account_id}")
async def edit_account(request: Request, account_id: uuid.UUID) -> Response:
    session = await person(request)
    account = await _account(request, session, account_id)
    if account is None:
        return _gone(request)
    form = {k: str(account.get(k) or "") for k in ("name", "role", "unit", "member_id")}
    return await _edit_form(request, session, account, 200, form, {})


@router.post(ACCOUNTS + "/{account_id}")
async def change_account(request: Request, account_id: uuid.UUID) -> Response:
    session = await person(request)
    account = await _account(request, session, account_id)
    if account is None:
        return _gone(request)
    form = {k: str(v).strip() for k, v in (await request.form()).items() if k in NEW_INPUTS}
    if form.get("role") not in PEOPLE_ROLES:
        return await _edit_form(request, session, account, 422, form, {"role": CHOOSE["role"]})
    body: dict[str, Any] = {"name": form.get("name", ""), "role": form["role"]}
    if form["role"] == "reporter":
        body["unit"] = form.get("unit") or None
    if form["role"] == "member":
        body["member_id"] = form.get("member_id") or None
    answer = await api(request, session, "intake", "PATCH", f"/v1/accounts/{account_id}", json=body)
    if answer.status == 200:
        log.info("account %s changed account %s (%s)", session.account.get("id"), account_id, form["role"])
        return redirect(f"{ACCOUNTS}?da-sua={account_id}")
    if answer.status == 404:
        return _gone(request)
    if answer.status == 409:
        errors = {"role": str((answer.body or {}).get("message", {}).get("vi") or "Không đổi được vai trò.")}
        return await _edit_form(request, session, account, 409, form, errors)
    found = domain.place_errors(domain.field_errors(answer.detail), NEW_INPUTS)
    empty = {**CHOOSE, "name": "Hãy nhập họ tên."}
    errors = {f: empty[f] if f in empty and not form.get(f) else message for f, message in found.items()}
    return await _edit_form(request, session, account, 422, form, errors)


async def _lock(request: Request, account_id: uuid.UUID, locked: bool) -> Response:
    session = await person(request)
    if locked and str(account_id) == str(session.account.get("id")):
        return message_page(
            request,
            409,
            "Không thể khóa",
            "Đồng chí không thể tự khóa tài khoản của chính mình.",
            link=(ACCOUNTS, "Về danh sách"),
        )
    action = "disable" if locked else "enable"
    answer = await api(request, session, "intake", "POST", f"/v1/accounts/{account_id}/{action}")
    if answer.status == 404:
        return _gone(request)
    if answer.status != 204:
        return message_page(request, 403, "Không có quyền truy cập", "Bạn không có quyền xem trang này.")
    log.info("account %s %sd account %s", session.account.get("id"), action, account_id)
    return redirect(f"{ACCOUNTS}?{'da-khoa' if locked else 'da-mo'}={account_id}")


@router.post(ACCOUNTS + "/{account_id}/khoa")
async def lock_account(request: Request, account_id: uuid.UUID) -> Response:
    return await _lock(request, account_id, True)


@router.post(ACCOUNTS + "/{account_id}/mo-khoa")
async def unlock_account(request: Request, account_id: uuid.UUID) -> Response:
    return await _lock(request, account_id, False)
