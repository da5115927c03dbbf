"""Every service has the one shape of docs/ARCHITECTURE.md ("One service, the same files"): the same module
names for the same roles, HTTP routes only in `api.py`/`api_<topic>.py`, a pure `domain.py`, and exactly
the event handlers the catalogue says the service consumes. Needs no server."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from shared.events import consumed_by

REPO = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in (REPO / "services").glob("*/main.py"))
# Every service has these; `store.py` (with `migrations/`) when it keeps tables, `handlers.py` when it
# consumes events, `domain.py` when it has rules of its own.
REQUIRED = ("__init__.py", "__main__.py", "main.py", "settings.py")
HTTP_MODULE = re.compile(r"^api(_[a-z][a-z0-9_]*)?\.py$")
# Modules whose import means input/output; a domain module holds rules only.
IO_MODULES = (
    "sqlalchemy",
    "asyncpg",
    "fastapi",
    "starlette",
    "httpx",
    "aio_pika",
    "aiormq",
    "faststream",
    "smtplib",
    "aiosmtplib",
    "socket",
    "asyncio",
    "shared.db",
    "shared.outbox",
    "shared.uow",
    "shared.service",
)


def modules(service: str) -> list[Path]:
    return sorted(p for p in (REPO / "services" / service).glob("*.py"))


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def makes_router(path: Path) -> bool:
    return any(
        isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "APIRouter"
        for node in ast.walk(tree(path))
    )


def test_the_services_are_found():
    assert {"intake", "routing", "notify", "reporting"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_files(service):
    root = REPO / "services" / service
    missing = [name for name in REQUIRED if not (root / name).exists()]
    if (root / "store.py").exists():
        missing += [name for name in ("migrations/env.py",) if not (root / name).exists()]
    if consumed_by(service):
        missing += [name for name in ("handlers.py",) if not (root / name).exists()]
    assert missing == []


@pytest.mark.parametrize("service", SERVICES)
def test_http_routes_live_only_in_api_modules(service):
    """`api.py` or `api_<topic>.py` makes routers, and no other module does."""
    misplaced = [p.name for p in modules(service) if makes_router(p) and not HTTP_MODULE.match(p.name)]
    empty = [p.name for p in modules(service) if HTTP_MODULE.match(p.name) and not makes_router(p)]
    assert (misplaced, empty) == ([], [])


@pytest.mark.parametrize("service", SERVICES)
def test_no_module_is_named_after_its_role_the_old_way(service):
    """`links_api.py`, `members_api.py`: the rule is a prefix, so the entry points sort together."""
    assert [p.name for p in modules(service) if p.name.endswith("_api.py")] == []


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_module_does_no_input_or_output(service):
    path = REPO / "services" / service / "domain.py"
    if not path.exists():
        pytest.skip(f"{service} has no rules of its own")
    offenders = sorted(
        module for module in imports(path) if any(module == io or module.startswith(io + ".") for io in IO_MODULES)
    )
    assert offenders == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_services_handlers_are_exactly_what_the_catalogue_says_it_consumes(service, monkeypatch):
    """The queue is bound to what the catalogue says; the consumer must handle all of it and nothing else."""
    monkeypatch.setenv("DEVELOPMENT_MODE", "true")
    app = importlib.import_module(f"services.{service}.main").create_app()
    spec = getattr(app.state, "spec", None)
    handled = {cls.TYPE for cls in spec.handlers} if spec is not None else set()
    assert handled == {cls.TYPE for cls in consumed_by(service)}


@pytest.mark.parametrize("service", SERVICES)
def test_event_handlers_are_registered_in_handlers_py(service):
    """One way to register: `handlers.py` builds the whole mapping with `make_handlers(settings)` (and what it shares
    with the service's workers, as notify's handover to its dispatcher)."""
    if not consumed_by(service):
        pytest.skip(f"{service} consumes no events")
    handlers = importlib.import_module(f"services.{service}.handlers")
    assert callable(handlers.make_handlers)
    main = (REPO / "services" / service / "main.py").read_text(encoding="utf-8")
    assert "handlers=make_handlers(settings" in main
