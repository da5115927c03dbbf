"""Signing in over HTTP (used by the web service): sessions, the account behind a credential, invitation and
reset links, password-reset requests, and an admin's re-sent invitation. See docs/intake.md, "Signing in".

Errors other than 422 are `{"detail": "<sentence>"}` in Vietnamese or English (`Accept-Language`).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy import select

from services.intake import accounts, signin, store
from services.intake.api_cases import auth
from services.intake.context import intake_context
from services.intake.signin_schemas import (
    AccountView,
    InvitationIn,
    LinkOut,
    ResetIn,
    SessionIn,
    SessionOut,
    SetPasswordIn,
)
from shared.auth import Principal
from shared.errors import FieldErrors, NotFound, TooManyRequests, Unauthorized
from shared.http_errors import problems
from shared.outbox import Outbox
from shared.service import ServiceRuntime, runtime_of
from shared.uow import unit_of_work

router = APIRouter(tags=["sign-in"])
Admin = Annotated[Principal, Depends(auth.require("admin"))]
Anyone = Annotated[Principal, Depends(auth.require())]
LinkToken = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]

WRONG = ("Wrong email or password.", "Email hoặc mật khẩu không đúng.")
LINK_GONE = (
    "This link is not valid: it may have been used or have expired.",
    "Liên kết không hợp lệ: có thể đã được dùng hoặc đã hết hạn.",
)


def outbox_of(runtime: ServiceRuntime) -> Outbox:
    assert runtime.outbox is not None, "intake has an outbox"
    return runtime.outbox


async def _client_address(request: Request, body: SessionIn) -> str:
    """The person's address: the body's `client_address` when the caller is the web service (a `web`
    credential), otherwise the TCP peer. A bad `Authorization` header is a 401 like anywhere else."""
    peer = request.client.host if request.client else "unknown"
    if "authorization" not in request.headers:
        return peer
    caller = await auth.principal(request)
    if caller.role == "web" and body.client_address:
        return body.client_address
    return peer


def _view(row) -> AccountView:
    return AccountView(id=row.id, name=row.name, role=row.role, unit=row.unit, member=row.member_id, email=row.email)


@router.post(
    "/v1/sessions",
    status_code=201,
    response_model=SessionOut,
    summary="Sign in with email and password: a bearer credential that expires",
    responses=problems(401, 413, 415, 429),
)
async def create_session(body: SessionIn, request: Request):
    runtime = runtime_of(request)
    context = intake_context(request)
    settings = context.settings
    address = await _client_address(request, body)
    # A refused attempt is recorded too: the refusal is raised after the transaction commits.
    refusal: TooManyRequests | Unauthorized | None = None
    async with unit_of_work(runtime) as uow:
        session = uow.session
        now = runtime.clock.now()
        account = await signin.account_by_email(session, body.email)
        account_id = account.id if account is not None else None
        if account_id is not None:
            await signin.lock_account_attempts(session, account_id)
        wait = await signin.retry_after(session, settings, account_id, address, now)
        if wait:
            await signin.record_attempt(session, account_id, address, "limited", now)
            minutes = (wait + 59) // 60
            refusal = TooManyRequests(
                f"Too many failed sign-ins. Try again in {minutes} minute(s).",
                f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
                headers={"Retry-After": str(wait)},
            )
        elif not await signin.check_password(session, context.passwords, account, body.password):
            await signin.record_attempt(session, account_id, address, "failure", now)
            refusal = Unauthorized(*WRONG)
        else:
            assert account is not None
            issued = await signin.open_session(session, outbox_of(runtime), settings, account.id, address, now=now)
            await signin.record_attempt(session, account.id, address, "success", now)
    if refusal is not None:
        raise refusal
    assert account is not None and issued.expires_at is not None
    return SessionOut(token=issued.token, expires_at=issued.expires_at, account=_view(account))


@router.delete(
    "/v1/sessions/current",
    status_code=204,
    summary="Sign out: the credential presented stops working in every service",
    responses=problems(401),
)
async def delete_session(request: Request, who: Anyone) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime) as uow:
        session = uow.session
        await accounts.revoke(session, outbox_of(runtime), who.key_id, now=runtime.clock.now())
    auth.forget(who.key_id)
    return Response(status_code=204)


@router.get("/v1/me", response_model=AccountView, summary="The account behind the credential", responses=problems(401))
async def me(request: Request, who: Anyone) -> AccountView:
    async with runtime_of(request).sessions() as session:
        row = (await session.execute(select(store.accounts).where(store.accounts.c.id == who.account_id))).first()
    if row is None:  # a credential made outside intake's accounts (tests, or a deleted account)
        return AccountView(id=who.account_id, name="", role=who.role, unit=who.unit, member=who.member_id, email=None)
    return _view(row)


@router.get(
    "/v1/invitations/{token}",
    response_model=LinkOut,
    summary="Who a usable invitation or reset link is for (404 for unknown, used or expired ones alike)",
    responses=problems(404),
)
async def get_link(token: LinkToken, request: Request):
    runtime = runtime_of(request)
    async with runtime.sessions() as session:
        found = await signin.find_link(session, token, runtime.clock.now())
    if found is None:
        raise NotFound(*LINK_GONE)
    return LinkOut(name=found.name, email=found.email, kind=found.kind)


@router.post(
    "/v1/invitations/{token}",
    status_code=204,
    summary="Set the password through an invitation or reset link (uses it up; ends the account's sessions)",
    responses=problems(404, 413, 415),
)
async def use_link(token: LinkToken, body: SetPasswordIn, request: Request) -> Response:
    runtime = runtime_of(request)
    try:
        async with unit_of_work(runtime) as uow:
            session = uow.session
            revoked = await signin.use_link(
                session,
                outbox_of(runtime),
                intake_context(request).passwords,
                token,
                body.password,
                now=runtime.clock.now(),
            )
    except LookupError:
        raise NotFound(*LINK_GONE) from None
    for key_id in revoked:
        auth.forget(key_id)
    return Response(status_code=204)


@router.post(
    "/v1/password-resets",
    status_code=202,
    response_class=Response,
    summary="Ask for a password-reset link by email (202 whether or not the address is known)",
    responses=problems(413, 415),
)
async def request_reset(body: ResetIn, request: Request) -> Response:
    runtime = runtime_of(request)
    settings = intake_context(request).settings
    async with unit_of_work(runtime) as uow:
        session = uow.session
        now = runtime.clock.now()
        account = await signin.account_by_email(session, body.email)
        if account is not None and account.disabled_at is None:
            await signin.lock_account_attempts(session, account.id)
            if await signin.resets_in_last_hour(session, account.id, now) < settings.reset_max_per_hour:
                await signin.issue_link(session, outbox_of(runtime), settings, account.id, "reset", now=now)
    return Response(status_code=202)


@router.post(
    "/v1/accounts/{account_id}/invitation",
    status_code=202,
    response_class=Response,
    tags=["admin"],
    summary="Email a new invitation link (older ones stop working); optionally set the email first",
    responses=problems(401, 403, 404, 413, 415),
)
async def resend_invitation(
    account_id: uuid.UUID, request: Request, _admin: Admin, body: InvitationIn | None = None
) -> Response:
    runtime = runtime_of(request)
    settings = intake_context(request).settings
    async with unit_of_work(runtime) as uow:
        session = uow.session
        row = (await session.execute(select(store.accounts).where(store.accounts.c.id == account_id))).first()
        if row is None:
            raise NotFound("No such account.", "Không có tài khoản này.")
        if body is not None and body.email is not None and body.email != row.email:
            await accounts.claim_email(session, body.email, account_id)
            await session.execute(
                store.accounts.update().where(store.accounts.c.id == account_id).values(email=body.email)
            )
        elif row.email is None:
            raise FieldErrors.one(
                "body.email",
                "The account has no email address: send one.",
                "Tài khoản chưa có địa chỉ email: vui lòng nhập email.",
                "missing",
            )
        await signin.issue_link(
            session, outbox_of(runtime), settings, account_id, "invitation", now=runtime.clock.now()
        )
    return Response(status_code=202)


@router.post(
    "/v1/accounts/{account_id}/disable",
    status_code=204,
    tags=["admin"],
    summary="Disable an account: its credentials and sessions are revoked everywhere, its links stop working",
    responses=problems(401, 403, 404),
)
async def disable_account(account_id: uuid.UUID, request: Request, _admin: Admin) -> Response:
    return await _set_disabled(request, account_id, True)


@router.post(
    "/v1/accounts/{account_id}/enable",
    status_code=204,
    tags=["admin"],
    summary="Enable a disabled account again (it then needs a new invitation, or signs in with its old password)",
    responses=problems(401, 403, 404),
)
async def enable_account(account_id: uuid.UUID, request: Request, _admin: Admin) -> Response:
    return await _set_disabled(request, account_id, False)


async def _set_disabled(request: Request, account_id: uuid.UUID, disabled: bool) -> Response:
    runtime = runtime_of(request)
    async with unit_of_work(runtime) as uow:
        session = uow.session
        revoked = await accounts.set_disabled(
            session, outbox_of(runtime), account_id, disabled, now=runtime.clock.now()
        )
    if revoked is None:
        raise NotFound("No such account.", "Không có tài khoản này.")
    for key_id in revoked:
        auth.forget(key_id)
    return Response(status_code=204)
