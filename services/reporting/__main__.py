from pathlib import Path

from services.reporting.main import create_app
from services.reporting.settings import ReportingSettings
from shared.cli import service_cli

cli = service_cli("reporting", ReportingSettings, create_app, Path(__file__).parent / "migrations")

if __name__ == "__main__":
    cli()
