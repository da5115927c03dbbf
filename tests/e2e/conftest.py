"""Fixtures of the end-to-end tests: the whole system as real processes, per test, isolated.

Each test gets its own database (a copy of the migrated template), its own broker namespace, its own
SMTP server and Zalo stub, so runs never see each other's mail or events. When a test fails, pytest
shows the end of every service's log (printed at teardown).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from devtools.system import RunningSystem, running_system


@pytest.fixture
async def system(base_env: dict[str, str], tmp_path: Path) -> AsyncIterator[RunningSystem]:
    async with running_system(base_env, tmp_path / "logs") as running:
        yield running


@pytest.fixture
async def system_behind_proxy(base_env: dict[str, str], tmp_path: Path) -> AsyncIterator[RunningSystem]:
    """The same, but every service reaches RabbitMQ through a TCP proxy the test can cut."""
    # Notify sends a burst of hundreds of messages here: let it work through them faster than its defaults.
    burst = {"NOTIFY_CONCURRENCY": "16", "NOTIFY_BATCH_SIZE": "64", "NOTIFY_DISPATCH_INTERVAL": "0.2"}
    async with running_system(base_env, tmp_path / "logs", through_proxy=True, extra_env=burst) as running:
        yield running
