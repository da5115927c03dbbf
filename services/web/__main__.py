from pathlib import Path

from services.web.main import create_app
from services.web.settings import WebSettings
from shared.cli import service_cli

cli = service_cli("web", WebSettings, create_app, Path(__file__).parent / "migrations")

if __name__ == "__main__":
    cli()
