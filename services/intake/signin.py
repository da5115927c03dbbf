"""Signing in for people: one-time links (invitation, reset), passwords, sessions and attempt limiting.

- A link token is shown once (in the email, or on the CLI's last line) and stored as its SHA-256 only; it
  works once, until it expires, and issuing a new link of the same kind invalidates the older ones.
- A session is an ordinary bearer credential with an expiry, announced with `credential.issued`, so every
  service accepts it; it is listed in `signin_sessions` so a password change revokes it.
- Failed attempts are rows of `signin_attempts`, counted within `SIGNIN_WINDOW_SECONDS` per account (since its
  last success) and per client address; the database is the counter, so every replica sees the same count.
  Attempts on one account are serialised (an advisory lock), so parallel guesses cannot overshoot its limit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import accounts, store
from services.intake.passwords import Passwords, link_token_hash, new_link_token
from services.intake.settings import IntakeSettings
from shared.events.intake import AccountLinkIssued
from shared.outbox import Outbox
from shared.sealed import Sealer, account_link_context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Link:
    account_id: uuid.UUID
    kind: str
    url: str
    expires_at: datetime


def link_url(settings: IntakeSettings, token: str) -> str:
    return f"{settings.web_base_url.rstrip('/')}/moi/{token}"


async def issue_link(
    session: AsyncSession,
    outbox: Outbox,
    settings: IntakeSettings,
    account_id: uuid.UUID,
    kind: str,
    *,
    now: datetime,
) -> Link:
    """A new one-time link of `kind` for an account with an email (older unused ones of that kind stop working),
    emailed by notify through `account.link_issued`."""
    t = store.account_tokens
    account = (await session.execute(select(store.accounts).where(store.accounts.c.id == account_id))).one()
    assert account.email, "only an account with an email gets a link"
    if account.disabled_at is not None:
        raise accounts.AccountDisabled(str(account_id))
    await session.execute(
        t.update()
        .where(t.c.account_id == account_id, t.c.kind == kind, t.c.used_at.is_(None), t.c.invalidated_at.is_(None))
        .values(invalidated_at=now)
    )
    hours = settings.invitation_ttl_hours if kind == "invitation" else settings.reset_ttl_hours
    token, digest = new_link_token()
    expires_at = now + timedelta(hours=hours)
    await session.execute(
        t.insert().values(token_sha256=digest, account_id=account_id, kind=kind, created_at=now, expires_at=expires_at)
    )
    url = link_url(settings, token)
    event = AccountLinkIssued(
        account_id=account_id,
        kind=kind,  # type: ignore[arg-type]
        sealed_link=Sealer.from_settings(settings).seal("notify", url, account_link_context(account_id)),
        email=account.email,
        display_name=account.name,
        issued_at=now,
        expires_at=expires_at,
    )
    await outbox.add(session, event, key=f"account:{account_id}")
    log.info("%s link issued for account %s (expires %s)", kind, account_id, expires_at.isoformat())
    return Link(account_id, kind, url, expires_at)


def _valid_token(token: str, now: datetime) -> Any:
    t = store.account_tokens.c
    return (
        (t.token_sha256 == link_token_hash(token))
        & t.used_at.is_(None)
        & t.invalidated_at.is_(None)
        & (t.expires_at > now)
    )


async def find_link(session: AsyncSession, token: str, now: datetime) -> Any:
    """(name, email, kind) of a usable link, or None for an unknown, used, invalidated or expired one."""
    a, t = store.accounts.c, store.account_tokens.c
    query = (
        select(a.name, a.email, t.kind)
        .select_from(store.account_tokens.join(store.accounts, a.id == t.account_id))
        .where(_valid_token(token, now), a.email.is_not(None), a.disabled_at.is_(None))
    )
    return (await session.execute(query)).first()


async def use_link(
    session: AsyncSession, outbox: Outbox, passwords: Passwords, token: str, password: str, *, now: datetime
) -> list[str]:
    """Set the password through a usable link and use it up. Returns the key ids of the account's sign-in
    sessions it revoked (a new password ends the old sessions); raises `LookupError` if the link is not usable."""
    t = store.account_tokens
    used = (
        await session.execute(
            t.update().where(_valid_token(token, now)).values(used_at=now).returning(t.c.account_id, t.c.kind)
        )
    ).first()
    if used is None:
        raise LookupError("link not usable")
    a = store.accounts.c
    if (await session.execute(select(a.disabled_at).where(a.id == used.account_id))).scalar_one() is not None:
        raise LookupError("account disabled")  # the transaction rolls back: the link stays as it was
    await session.execute(
        store.accounts.update()
        .where(store.accounts.c.id == used.account_id)
        .values(password_hash=await passwords.hash(password), password_set_at=now)
    )
    # A reset link also ends any other link still pending for the account (an old invitation, say).
    await session.execute(
        t.update()
        .where(t.c.account_id == used.account_id, t.c.used_at.is_(None), t.c.invalidated_at.is_(None))
        .values(invalidated_at=now)
    )
    revoked = await end_sessions(session, outbox, used.account_id, now=now)
    log.info("password set through a %s link for account %s", used.kind, used.account_id)
    return revoked


async def end_sessions(session: AsyncSession, outbox: Outbox, account_id: uuid.UUID, *, now: datetime) -> list[str]:
    s, c = store.signin_sessions.c, store.credentials.c
    live = (
        await session.execute(
            select(s.key_id)
            .select_from(store.signin_sessions.join(store.credentials, c.key_id == s.key_id))
            .where(s.account_id == account_id, c.revoked_at.is_(None), s.expires_at > now)
        )
    ).scalars()
    key_ids = list(live)
    for key_id in key_ids:
        await accounts.revoke(session, outbox, key_id, now=now)
    return key_ids


async def account_by_email(session: AsyncSession, email: str) -> Any:
    return (await session.execute(select(store.accounts).where(store.accounts.c.email == email))).first()


async def resets_in_last_hour(session: AsyncSession, account_id: uuid.UUID, now: datetime) -> int:
    t = store.account_tokens.c
    query = select(func.count()).where(
        t.account_id == account_id, t.kind == "reset", t.created_at > now - timedelta(hours=1)
    )
    return int((await session.execute(query)).scalar_one())


# --- attempts ---------------------------------------------------------------------------------------------


async def lock_account_attempts(session: AsyncSession, account_id: uuid.UUID) -> None:
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('intake.signin:' || :a))"), {"a": str(account_id)}
    )


async def retry_after(
    session: AsyncSession, settings: IntakeSettings, account_id: uuid.UUID | None, address: str, now: datetime
) -> int:
    """Seconds until another attempt is allowed (0: allowed now), the longer of the two limits."""
    a = store.signin_attempts.c
    window = timedelta(seconds=settings.signin_window_seconds)
    waits = [await _wait(session, a.address == address, settings.signin_max_failures_per_address, window, now)]
    if account_id is not None:
        last_success = (
            select(func.max(a.at)).where(a.account_id == account_id, a.outcome == "success").scalar_subquery()
        )
        since = (a.account_id == account_id) & (a.at > func.coalesce(last_success, now - window))
        waits.append(await _wait(session, since, settings.signin_max_failures_per_account, window, now))
    return max(waits)


async def _wait(session: AsyncSession, which: Any, limit: int, window: timedelta, now: datetime) -> int:
    a = store.signin_attempts.c
    recent = (
        await session.execute(
            select(a.at).where(which, a.outcome == "failure", a.at > now - window).order_by(a.at.desc()).limit(limit)
        )
    ).scalars()
    failures = list(recent)
    if len(failures) < limit:
        return 0
    # Allowed again when the limit-th most recent failure leaves the window.
    return max(1, int((failures[-1] + window - now).total_seconds()) + 1)


async def record_attempt(
    session: AsyncSession, account_id: uuid.UUID | None, address: str, outcome: str, now: datetime
) -> None:
    await session.execute(
        store.signin_attempts.insert().values(at=now, account_id=account_id, address=address, outcome=outcome)
    )
    log.info("sign-in %s: account %s from %s", outcome, account_id or "unknown", address)


async def check_password(session: AsyncSession, passwords: Passwords, account: Any, password: str) -> bool:
    """True if the account (or None: unknown email) has this password; the same work either way (a disabled
    account never matches). A hash made with other parameters than the current settings is replaced."""
    stored = account.password_hash if account is not None and account.disabled_at is None else None
    if not await passwords.verify(stored, password):
        return False
    if stored is not None and passwords.needs_rehash(stored):
        await session.execute(
            store.accounts.update()
            .where(store.accounts.c.id == account.id)
            .values(password_hash=await passwords.hash(password))
        )
    return True


async def open_session(
    session: AsyncSession,
    outbox: Outbox,
    settings: IntakeSettings,
    account_id: uuid.UUID,
    address: str,
    *,
    now: datetime,
) -> accounts.Issued:
    expires_at = now + timedelta(hours=settings.session_absolute_hours)
    issued = await accounts.issue_credential(session, outbox, account_id, now=now, expires_at=expires_at)
    await session.execute(
        store.signin_sessions.insert().values(
            key_id=issued.key_id, account_id=account_id, created_at=now, expires_at=expires_at, address=address
        )
    )
    return issued
