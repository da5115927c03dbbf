"""Command-line tools the deployment tests need (promtool, kubectl): found on PATH, or a clear failure that
says how to install them (`.ci/run` does it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = {"promtool": "apt-get install -y prometheus", "kubectl": "apt-get install -y kubectl"}


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: `{INSTALL[name]}` (.ci/run installs it when missing)", pytrace=False)
    return path


def run(name: str, *args: str, cwd: Path = REPO) -> str:
    """Run the tool; fail the test with its output unless it exits 0. Returns stdout."""
    result = subprocess.run([tool(name), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        pytest.fail(f"{name} {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result.stdout
