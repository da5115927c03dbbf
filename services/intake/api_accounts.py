"""An administrator changes an account: its name, role and binding (unit for a reporter, member id for a
member). Creating, listing, inviting and disabling accounts are in `api_admin.py` and `api_signin.py`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from services.intake import accounts
from services.intake.api_cases import auth
from services.intake.schemas import AccountChange, AccountOut
from shared.auth import Principal
from shared.errors import Conflict, NotFound
from shared.http_errors import problems
from shared.outbox import Outbox
from shared.service import runtime_of

router = APIRouter(tags=["admin"])
Admin = Annotated[Principal, Depends(auth.require("admin"))]


@router.patch(
    "/v1/accounts/{account_id}",
    response_model=AccountOut,
    summary="Rename an account or change its role, unit or member (a changed role revokes its credentials)",
    responses=problems(401, 403, 404, 409, 413, 415),
)
async def change_account(account_id: uuid.UUID, body: AccountChange, request: Request, admin: Admin) -> AccountOut:
    if account_id == admin.account_id and body.role is not None and body.role != admin.role:
        raise Conflict(
            "An administrator cannot change their own role.", "Đồng chí không thể tự đổi vai trò của chính mình."
        )
    runtime = runtime_of(request)
    outbox = runtime.outbox
    assert isinstance(outbox, Outbox)
    async with runtime.sessions() as session, session.begin():
        revoked = await accounts.change_account(
            session,
            outbox,
            account_id,
            now=runtime.clock.now(),
            name=body.name,
            role=body.role,
            unit=body.unit,  # type: ignore[arg-type]
            member_id=body.member_id,
        )
        if revoked is None:
            raise NotFound("No such account.", "Không có tài khoản này.")
        (found,) = await accounts.list_accounts(session, only=account_id)
    for key_id in revoked:
        auth.forget(key_id)  # committed: refused from the next request on, whatever the cache held
    return AccountOut.model_validate(found)
