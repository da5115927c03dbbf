"""Services are decoupled: none imports another, and shared/ imports no service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "routing", "notify", "reporting", "web")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_no_other_service(service):
    others = {f"services.{s}" for s in SERVICES if s != service}
    offenders = []
    for path in (REPO / "services" / service).rglob("*.py"):
        for module in imported_modules(path):
            if any(module == o or module.startswith(o + ".") for o in others):
                offenders.append(f"{path.relative_to(REPO)} imports {module}")
    assert offenders == []


def test_shared_imports_no_service():
    offenders = [
        f"{path.relative_to(REPO)} imports {module}"
        for path in (REPO / "shared").rglob("*.py")
        for module in imported_modules(path)
        if module.startswith("services")
    ]
    assert offenders == []
