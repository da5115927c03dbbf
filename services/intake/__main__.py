"""`python -m services.intake serve|migrate|revision|seed|accounts|rotate-keys`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import accounts as account_ops
from services.intake import reference, rotation, store
from services.intake.context import cipher_from
from services.intake.main import create_app
from services.intake.settings import IntakeSettings
from shared.auth import ROLES
from shared.cli import service_cli
from shared.clock import clock_from_settings
from shared.db import make_engine, make_session_factory
from shared.http_errors import FieldErrors
from shared.outbox import Outbox

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
) -> None:
    """Create an account and its first credential. The token is printed alone on the last line, once."""
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


@accounts_cli.command("list")
def list_() -> None:
    """Accounts and their credentials (never the tokens)."""
    rows: list[dict[str, Any]] = _in_transaction(lambda session, _outbox: account_ops.list_accounts(session))
    for account in rows:
        typer.echo(f"{account['account_id']}  {account['role']:<9} {account['unit'] or '-':<24} {account['name']}")
        for credential in account["credentials"]:
            state = "revoked" if credential["revoked_at"] else "active"
            expires = credential["expires_at"].date().isoformat() if credential["expires_at"] else "never"
            typer.echo(f"    key {credential['key_id']}  {state}  expires {expires}")


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
    cipher = cipher_from(IntakeSettings())

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
