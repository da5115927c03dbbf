"""The command line every service shares: `python -m services.<name> serve|migrate|revision`.

Services add their own commands to the Typer app this returns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer
import uvicorn
from fastapi import FastAPI

from shared.settings import ServiceSettings, refuse_development_secrets


def service_cli(
    name: str,
    settings_factory: Callable[[], ServiceSettings],
    app_factory: Callable[[ServiceSettings], FastAPI],
    migrations: Path,
) -> typer.Typer:
    cli = typer.Typer(help=f"Cầu Nối {name} service", no_args_is_help=True, add_completion=False)

    @cli.command()
    def migrate() -> None:
        """Apply this service's database migrations (idempotent; safe with replicas starting together)."""
        from shared.migrations import upgrade  # alembic (and mako) only where migrations run: ~10 MiB of RSS

        upgrade(migrations, settings_factory().database_url)
        typer.echo(f"{name}: database schema is up to date")

    @cli.command()
    def serve(
        host: str | None = typer.Option(None, help="Bind address (default: HTTP_HOST)."),
        port: int | None = typer.Option(None, help="Port (default: HTTP_PORT)."),
        migrate_first: bool = typer.Option(True, "--migrate/--no-migrate", help="Run migrations first."),
    ) -> None:
        """Run the HTTP API, the event consumer, the outbox relay and the background workers."""
        settings = settings_factory()
        refuse_development_secrets(settings)  # before migrating (create_service_app checks it too)
        if migrate_first:
            from shared.migrations import upgrade  # not imported by `serve --no-migrate` (production)

            upgrade(migrations, settings.database_url)
        uvicorn.run(
            app_factory(settings),
            host=host or settings.http_host,
            port=port or settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=20,
        )

    @cli.command()
    def revision(message: str, autogenerate: bool = True) -> None:
        """Create a migration from the difference between the models and the database (for developers)."""
        from alembic import command

        from shared.migrations import alembic_config

        command.revision(
            alembic_config(migrations, settings_factory().database_url), message=message, autogenerate=autogenerate
        )

    return cli
