"""`python -m services.intake serve|migrate|revision|seed|accounts|rotate-keys`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import accounts as account_ops
from services.intake import reference, rotation, signin, store
from services.intake.context import cipher_from
from services.intake.main import create_app
from services.intake.settings import IntakeSettings
from services.intake.signin_schemas import ResetIn
from shared.auth import ROLES
from shared.cli import service_cli
from shared.clock import clock_from_settings
from shared.db import make_engine, make_session_factory
from shared.http_errors import FieldErrors
from shared.outbox import Outbox
from shared.settings import refuse_development_secrets

cli = service_cli("intake", IntakeSettings, create_app, Path(__file__).parent / "migrations")
accounts_cli = typer.Typer(
    help="Accounts and credentials (tokens for `Authorization: Bearer …`).", no_args_is_help=True
)
cli.add_typer(accounts_cli, name="accounts")
T = TypeVar("T")


def _now() -> datetime:
    return clock_from_settings(IntakeSettings()).now()


def _in_transaction(work: Callable[[AsyncSession, Outbox], Awaitable[T]]) -> T:
    """Run `work` in one transaction on DATABASE_URL; events go to the outbox in that transaction."""

    async def run() -> T:
        settings = IntakeSettings()
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            async with make_session_factory(engine)() as session, session.begin():
                return await work(session, Outbox(store.outbox, "intake", clock_from_settings(settings)))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except FieldErrors as exc:
        for error in exc.errors:
            typer.echo(f"error: {error[0].removeprefix('body.')}: {error[1]}", err=True)
        raise typer.Exit(2) from None
    except account_ops.AccountDisabled as exc:
        typer.echo(f"error: account {exc.account_id} is disabled (accounts enable …)", err=True)
        raise typer.Exit(2) from None


@cli.command()
def seed(data: Path = typer.Option(reference.DATA, help="Folder with the reference CSV files.")) -> None:
    """Load units (2023 and 2025, with successors), categories and special circumstances. Idempotent."""
    changed = _in_transaction(lambda session, outbox: reference.seed(session, outbox, data))
    typer.echo("intake: seeded " + ", ".join(f"{n} {what} new or changed" for what, n in changed.items()))


@accounts_cli.command("create")
def create(
    role: str = typer.Option(..., help=f"One of: {', '.join(ROLES)}."),
    name: str = typer.Option(..., help="Who holds the account (a person or a machine client)."),
    unit: str | None = typer.Option(None, help="Unit code (reporters)."),
    member_id: uuid.UUID | None = typer.Option(
        None, "--member-id", help="Member id from routing's registry (members)."
    ),
    expires_days: int | None = typer.Option(None, "--expires-days", min=1, help="Expire the credential after N days."),
    email: str | None = typer.Option(
        None, help="A person's email: no token; an invitation link (also emailed) is printed on the last line."
    ),
) -> None:
    """Create an account. Without --email (machines): its first credential, the token alone on the last line,
    shown once. With --email (people): an invitation, its link `{WEB_BASE_URL}/moi/{token}` on the last line."""
    if email is not None:
        _create_person(role, name, unit, member_id, email)
        return
    issued = _in_transaction(
        lambda session, outbox: account_ops.create_account(
            session,
            outbox,
            role=role,
            name=name,
            unit=unit,
            member_id=member_id,
            expires_days=expires_days,
            now=_now(),
        )
    )
    typer.echo(f"account {issued.account_id} role={issued.role} unit={issued.unit or '-'} key_id={issued.key_id}")
    typer.echo("token (shown once; send as 'Authorization: Bearer <token>'):")
    typer.echo(issued.token)


def _create_person(role: str, name: str, unit: str | None, member_id: uuid.UUID | None, email: str) -> None:
    try:
        address = ResetIn(email=email).email
    except ValidationError:
        typer.echo(f"error: email: not a valid email address: {email!r}", err=True)
        raise typer.Exit(2) from None
    settings = IntakeSettings()

    async def work(session: AsyncSession, outbox: Outbox) -> signin.Link:
        now = _now()
        account_id = await account_ops.insert_account(
            session, role=role, name=name, unit=unit, member_id=member_id, email=address, now=now
        )
        return await signin.issue_link(session, outbox, settings, account_id, "invitation", now=now)

    link = _in_transaction(work)
    typer.echo(f"account {link.account_id} role={role} email={address}")
    typer.echo(f"invitation (emailed; valid until {link.expires_at.isoformat()}; shown once):")
    typer.echo(link.url)


@accounts_cli.command("invite")
def invite(
    account_id: uuid.UUID, email: str | None = typer.Option(None, help="Set or change the email first.")
) -> None:
    """A new invitation link for an account (older ones stop working), emailed and printed on the last line."""
    settings = IntakeSettings()
    address = None
    if email is not None:
        try:
            address = ResetIn(email=email).email
        except ValidationError:
            typer.echo(f"error: email: not a valid email address: {email!r}", err=True)
            raise typer.Exit(2) from None

    async def work(session: AsyncSession, outbox: Outbox) -> signin.Link | None:
        now = _now()
        row = (await session.execute(select(store.accounts).where(store.accounts.c.id == account_id))).first()
        if row is None:
            return None
        if address is not None and address != row.email:
            await account_ops.claim_email(session, address, account_id)
            await session.execute(
                store.accounts.update().where(store.accounts.c.id == account_id).values(email=address)
            )
        elif row.email is None:
            raise FieldErrors.one(
                "body.email",
                "The account has no email address: give --email.",
                "Tài khoản chưa có địa chỉ email: hãy thêm --email.",
            )
        return await signin.issue_link(session, outbox, settings, account_id, "invitation", now=now)

    link = _in_transaction(work)
    if link is None:
        typer.echo(f"no account {account_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"invitation (emailed; valid until {link.expires_at.isoformat()}; shown once):")
    typer.echo(link.url)


@accounts_cli.command("list")
def list_() -> None:
    """Accounts and their credentials (never the tokens)."""
    rows: list[dict[str, Any]] = _in_transaction(lambda session, _outbox: account_ops.list_accounts(session))
    for account in rows:
        typer.echo(f"{account['account_id']}  {account['role']:<9} {account['unit'] or '-':<24} {account['name']}")
        if account["email"]:
            password = "password set" if account["password_set"] else "invited, no password yet"
            typer.echo(f"    email {account['email']}  {password}")
        if account["disabled_at"]:
            typer.echo(f"    DISABLED since {account['disabled_at'].isoformat()}")
        for credential in account["credentials"]:
            state = "revoked" if credential["revoked_at"] else "active"
            expires = credential["expires_at"].date().isoformat() if credential["expires_at"] else "never"
            typer.echo(f"    key {credential['key_id']}  {state}  expires {expires}")


@accounts_cli.command("disable")
def disable(account_id: uuid.UUID) -> None:
    """Disable an account: every credential and sign-in session revoked everywhere, pending links invalidated,
    no sign-in, link or credential until `accounts enable`."""
    revoked = _in_transaction(
        lambda session, outbox: account_ops.set_disabled(session, outbox, account_id, True, now=_now())
    )
    if revoked is None:
        typer.echo(f"no account {account_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"disabled {account_id}; revoked {len(revoked)} credential(s)")


@accounts_cli.command("enable")
def enable(account_id: uuid.UUID) -> None:
    """Enable a disabled account (it then needs `accounts invite`, or signs in with its old password)."""
    done = _in_transaction(
        lambda session, outbox: account_ops.set_disabled(session, outbox, account_id, False, now=_now())
    )
    if done is None:
        typer.echo(f"no account {account_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"enabled {account_id}")


@accounts_cli.command("revoke")
def revoke(key_id: str) -> None:
    """Revoke a credential; every service stops accepting it."""
    found = _in_transaction(lambda session, outbox: account_ops.revoke(session, outbox, key_id, now=_now()))
    if not found:
        typer.echo(f"no credential {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


@cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every encrypted value (children's data, reporter contacts, counseling contacts and
    messages, stored Zalo bodies) under the active key (CHILD_DATA_ACTIVE_KEY). Safe to run again."""
    settings = IntakeSettings()
    refuse_development_secrets(settings)
    cipher = cipher_from(settings)

    async def run() -> dict[str, int]:
        engine = make_engine(IntakeSettings().database_url, pool_size=1)
        try:
            return await rotation.rotate_all(make_session_factory(engine), cipher)
        finally:
            await engine.dispose()

    counts = asyncio.run(run())
    for column, n in counts.items():
        typer.echo(f"  {column}: {n}")
    typer.echo(f"re-encrypted {sum(counts.values())} values under key {cipher.active}")


if __name__ == "__main__":
    cli()
