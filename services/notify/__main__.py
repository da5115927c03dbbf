from pathlib import Path

from services.notify.main import create_app
from services.notify.settings import NotifySettings
from shared.cli import service_cli

cli = service_cli("notify", NotifySettings, create_app, Path(__file__).parent / "migrations")

if __name__ == "__main__":
    cli()
