"""`python -m services.routing serve|migrate|revision|seed|members import FILE.csv|rotate-keys`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from services.routing import rotation
from services.routing.main import create_app
from services.routing.seed import import_file, seed
from services.routing.settings import RoutingSettings
from shared.cli import service_cli
from shared.crypto import FieldCipher
from shared.db import make_engine, make_session_factory
from shared.settings import refuse_development_secrets

cli = service_cli("routing", RoutingSettings, create_app, Path(__file__).parent / "migrations")
members_cli = typer.Typer(help="The club's member registry.", no_args_is_help=True)
cli.add_typer(members_cli, name="members")


@cli.command("seed")
def seed_command() -> None:
    """Load the default taxonomy, the former district units and the demo club (idempotent)."""
    counts = asyncio.run(seed(RoutingSettings()))
    typer.echo("routing: seeded " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@members_cli.command("import")
def import_command(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Add or update members from a CSV (same columns as data/demo-club.csv); all or nothing."""
    try:
        count = asyncio.run(import_file(RoutingSettings(), file))
    except ValueError as exc:
        typer.echo(f"{file}: nothing imported:\n{exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"routing: imported {count} members from {file}")


@cli.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt routing's values under the master key (wrapped case keys, counseling answers, older opinions,
    proposals and outcomes) under the active key (CHILD_DATA_ACTIVE_KEY). Safe to run again."""
    settings = RoutingSettings()
    refuse_development_secrets(settings)
    cipher = FieldCipher.from_settings(settings)

    async def run() -> dict[str, int]:
        engine = make_engine(settings.database_url, pool_size=1)
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
