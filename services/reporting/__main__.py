import asyncio
from pathlib import Path

import typer

from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.cli import service_cli
from shared.db import make_engine, make_session_factory

cli = service_cli("reporting", ReportingSettings, create_app, Path(__file__).parent / "migrations")


async def _rebuild(settings: ReportingSettings) -> int:
    from services.reporting.rebuild import rebuild

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session, session.begin():
            return await rebuild(session, settings.reporting_data_dir)
    finally:
        await engine.dispose()


@cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute every figure from the stored events (one transaction; plan records are kept)."""
    replayed = asyncio.run(_rebuild(ReportingSettings()))
    typer.echo(f"reporting: figures rebuilt from {replayed} stored events")


if __name__ == "__main__":
    cli()
