"""Accounts and their credentials, shared by the CLI and the admin API.

Intake writes its own `credentials` row and, in the same transaction, `credential.issued` /
`credential.revoked`, so every other service learns the token's hash and can authenticate on its own.
The token itself is shown once and never stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import store
from shared.auth import ROLES, new_token
from shared.errors import Conflict
from shared.events.intake import CredentialIssued, CredentialRevoked
from shared.http_errors import FieldErrors
from shared.outbox import Outbox
from shared.text import nfc


@dataclass(frozen=True)
class Issued:
    account_id: uuid.UUID
    key_id: str
    token: str
    role: str
    unit: str | None
    member_id: uuid.UUID | None
    expires_at: datetime | None


async def create_account(
    session: AsyncSession,
    outbox: Outbox,
    *,
    role: str,
    name: str,
    now: datetime,
    unit: str | None = None,
    member_id: uuid.UUID | None = None,
    expires_days: int | None = None,
) -> Issued:
    """A new account with its first credential (a machine, or a person who uses a token). Raises `FieldErrors`
    for a bad combination."""
    account_id = await insert_account(session, role=role, name=name, now=now, unit=unit, member_id=member_id)
    return await issue_credential(session, outbox, account_id, now=now, expires_days=expires_days)


async def insert_account(
    session: AsyncSession,
    *,
    role: str,
    name: str,
    now: datetime,
    unit: str | None = None,
    member_id: uuid.UUID | None = None,
    email: str | None = None,
) -> uuid.UUID:
    """Check the role/unit/member combination (and that `email`, already normalised, is free) and insert."""
    unit, member_id = await _binding(session, role, unit, member_id)
    if email is not None:
        await claim_email(session, email)
    account_id = uuid.uuid4()
    await session.execute(
        store.accounts.insert().values(
            id=account_id, name=nfc(name), role=role, unit=unit, member_id=member_id, created_at=now, email=email
        )
    )
    return account_id


async def _binding(
    session: AsyncSession, role: str, unit: str | None, member_id: uuid.UUID | None
) -> tuple[str | None, uuid.UUID | None]:
    """The unit and member an account of `role` is bound to (a reporter to a known unit, a member to a member
    id, no one else to either); raises `FieldErrors` for a bad combination."""
    if role not in ROLES:
        raise FieldErrors.one("body.role", f"Unknown role; one of {', '.join(ROLES)}.", "Vai trò không hợp lệ.")
    if role == "reporter":
        if not unit:
            raise FieldErrors.one(
                "body.unit", "A reporter is bound to a unit.", "Tài khoản báo cáo phải gắn với một đơn vị."
            )
        known = (await session.execute(select(store.units.c.code).where(store.units.c.code == unit))).first()
        if known is None:
            raise FieldErrors.one("body.unit", f"Unknown unit {unit!r}.", f"Không có đơn vị {unit!r}.")
    else:
        unit = None
    if role == "member":
        if member_id is None:
            raise FieldErrors.one(
                "body.member_id",
                "A member account needs the member id from routing's registry.",
                "Tài khoản thành viên cần mã thành viên (member_id).",
            )
    else:
        member_id = None
    return unit, member_id


async def change_account(
    session: AsyncSession,
    outbox: Outbox,
    account_id: uuid.UUID,
    *,
    now: datetime,
    name: str | None = None,
    role: str | None = None,
    unit: str | None = None,
    member_id: uuid.UUID | None = None,
) -> list[str] | None:
    """Rename an account or change its role and binding (unit, member). A changed role, unit or member revokes
    every live credential of the account (sessions included): a credential carries the role it was issued
    with, so the person signs in again. Returns the revoked key ids, or None if there is no such account."""
    a = store.accounts
    row = (await session.execute(select(a).where(a.c.id == account_id).with_for_update())).first()
    if row is None:
        return None
    new_role = role or row.role
    if role is None and unit is None and member_id is None:
        new_unit, new_member = row.unit, row.member_id
    else:
        new_unit, new_member = await _binding(
            session,
            new_role,
            unit if unit is not None else row.unit,
            member_id if member_id is not None else row.member_id,
        )
    values: dict[str, object] = {"role": new_role, "unit": new_unit, "member_id": new_member}
    if name is not None:
        values["name"] = nfc(name)
    await session.execute(a.update().where(a.c.id == account_id).values(**values))
    if (new_role, new_unit, new_member) == (row.role, row.unit, row.member_id):
        return []
    c = store.credentials.c
    live = (await session.execute(select(c.key_id).where(c.account_id == account_id, c.revoked_at.is_(None)))).scalars()
    key_ids = list(live)
    for key_id in key_ids:
        await revoke(session, outbox, key_id, now=now)
    return key_ids


async def claim_email(session: AsyncSession, email: str, account_id: uuid.UUID | None = None) -> None:
    """Refuse an address another account has (serialised per address, so two requests cannot both take it)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('intake.account_email:' || :e))"), {"e": email})
    a = store.accounts.c
    taken = await session.execute(select(a.id).where(a.email == email, a.id != account_id if account_id else true()))
    if taken.first() is not None:
        raise FieldErrors.one(
            "body.email", "Another account already has this email address.", "Địa chỉ email này đã được dùng."
        )


async def issue_credential(
    session: AsyncSession,
    outbox: Outbox,
    account_id: uuid.UUID,
    *,
    now: datetime,
    expires_days: int | None = None,
    expires_at: datetime | None = None,
) -> Issued:
    """A new credential for the account, announced with `credential.issued` so every service accepts it.
    Raises `AccountDisabled` for a disabled account."""
    account = (await session.execute(select(store.accounts).where(store.accounts.c.id == account_id))).one()
    if account.disabled_at is not None:
        raise AccountDisabled(str(account_id))
    key_id, token, digest = new_token()
    if expires_at is None and expires_days:
        expires_at = now + timedelta(days=expires_days)
    values = {
        "key_id": key_id,
        "token_sha256": digest,
        "account_id": account_id,
        "role": account.role,
        "unit": account.unit,
        "member_id": account.member_id,
        "issued_at": now,
        "expires_at": expires_at,
    }
    await session.execute(store.credentials.insert().values(**values))
    await outbox.add(session, CredentialIssued(**values), key=f"credential:{key_id}")
    return Issued(account_id, key_id, token, account.role, account.unit, account.member_id, expires_at)


async def revoke(session: AsyncSession, outbox: Outbox, key_id: str, *, now: datetime) -> bool:
    """Revoke a credential (idempotent: revoking twice changes nothing). False if it does not exist."""
    c = store.credentials.c
    row = (await session.execute(select(store.credentials).where(c.key_id == key_id).with_for_update())).first()
    if row is None:
        return False
    if row.revoked_at is None:
        await session.execute(store.credentials.update().where(c.key_id == key_id).values(revoked_at=now))
        await outbox.add(session, CredentialRevoked(key_id=key_id, revoked_at=now), key=f"credential:{key_id}")
    return True


async def list_accounts(session: AsyncSession, only: uuid.UUID | None = None) -> list[dict]:
    """Every account (or `only` that one) with its credentials and last successful sign-in."""
    a, c = store.accounts.c, store.credentials.c
    s = store.signin_attempts.c
    signed_in = (
        select(s.account_id, func.max(s.at).label("at"))
        .where(s.outcome == "success", s.account_id.is_not(None))
        .group_by(s.account_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            a.id,
            a.name,
            a.role,
            a.unit,
            a.member_id,
            a.created_at,
            a.email,
            a.password_set_at,
            a.disabled_at,
            c.key_id,
            c.issued_at,
            c.expires_at,
            c.revoked_at,
            signed_in.c.at.label("last_sign_in_at"),
        )
        .select_from(
            store.accounts.outerjoin(store.credentials, c.account_id == a.id).outerjoin(
                signed_in, signed_in.c.account_id == a.id
            )
        )
        .where(a.id == only if only is not None else true())
        .order_by(a.created_at, c.issued_at)
    )
    accounts: dict[uuid.UUID, dict] = {}
    for row in rows:
        entry = accounts.setdefault(
            row.id,
            {
                "account_id": row.id,
                "name": row.name,
                "role": row.role,
                "unit": row.unit,
                "member_id": row.member_id,
                "created_at": row.created_at,
                "email": row.email,
                "password_set": row.password_set_at is not None,
                "disabled_at": row.disabled_at,
                "last_sign_in_at": row.last_sign_in_at,
                "credentials": [],
            },
        )
        if row.key_id is not None:
            entry["credentials"].append(
                {
                    "key_id": row.key_id,
                    "issued_at": row.issued_at,
                    "expires_at": row.expires_at,
                    "revoked_at": row.revoked_at,
                }
            )
    return list(accounts.values())


class AccountDisabled(Conflict):
    """The account is disabled: it gets no credential, link or session until enabled again (409)."""

    def __init__(self, account_id: str) -> None:
        super().__init__("The account is disabled.", "Tài khoản đã bị khóa.")
        self.account_id = account_id


async def set_disabled(
    session: AsyncSession, outbox: Outbox, account_id: uuid.UUID, disabled: bool, *, now: datetime
) -> list[str] | None:
    """Disable (revoking every live credential and invalidating pending links) or enable an account. Returns
    the key ids revoked, or None if there is no such account. Idempotent."""
    a = store.accounts
    row = (await session.execute(select(a).where(a.c.id == account_id).with_for_update())).first()
    if row is None:
        return None
    if not disabled:
        await session.execute(a.update().where(a.c.id == account_id).values(disabled_at=None))
        return []
    if row.disabled_at is None:
        await session.execute(a.update().where(a.c.id == account_id).values(disabled_at=now))
    t = store.account_tokens.c
    await session.execute(
        store.account_tokens.update()
        .where(t.account_id == account_id, t.used_at.is_(None), t.invalidated_at.is_(None))
        .values(invalidated_at=now)
    )
    c = store.credentials.c
    live = (await session.execute(select(c.key_id).where(c.account_id == account_id, c.revoked_at.is_(None)))).scalars()
    key_ids = list(live)
    for key_id in key_ids:
        await revoke(session, outbox, key_id, now=now)
    return key_ids
