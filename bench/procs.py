"""Processes a benchmark starts: the services (via the test harness's `ServiceGroup`), the bare reference,
and their resident memory.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.results import RESULTS_DIR
from devtools.infra import REPO

LOG_DIR = RESULTS_DIR / "logs"


def rss_mib(pid: int) -> float:
    """Resident set size of one process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"{url}: process exited with {proc.returncode}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not up within {timeout}s")


class BareIntake:
    """`python -m bench.bare_intake` as a process, on its own port, in the benchmark's database."""

    def __init__(self, dsn: str, port: int) -> None:
        self.dsn = dsn
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with (LOG_DIR / "bare_intake.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                [sys.executable, "-m", "bench.bare_intake", "--port", str(self.port)],
                cwd=REPO,
                env={**_env(), "BARE_DSN": self.dsn},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        await wait_http(f"{self.url}/healthz", self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONUNBUFFERED": "1"}
