"""The services as real operating-system processes, as in production: `python -m services.<name> serve`.

Used by the end-to-end tests, the benchmark and the dev runner. Each process gets its own environment
(the settings' variable names), its own free port, and its log in a file, so a failing test can show the
last lines of each service. Stopping sends SIGTERM (graceful: the consumer stops, the relay drains),
then SIGKILL after a grace period; a killed or stopped service can be started again on the same port.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("intake", "routing", "notify", "reporting")
WITH_WEB = (*SERVICES, "web")  # the four and the web pages (tests/web, `make run`)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def run_cli(service: str, *args: str, env: Mapping[str, str], timeout: float = 120) -> str:
    """Run `python -m services.<service> <args>` to completion and return its stdout (raise with stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", f"services.{service}", *args],
        cwd=REPO,
        env=_child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"services.{service} {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}"
        )
    return result.stdout


def last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError("the command printed nothing")
    return lines[-1]


def _child_env(env: Mapping[str, str]) -> dict[str, str]:
    merged = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    merged.update(env)
    merged.setdefault("PYTHONUNBUFFERED", "1")
    # As in the image (Dockerfile): glibc's per-thread malloc arenas (up to 8 per core) hold freed memory that
    # the main arena would reuse; two keep the RSS of a mostly single-threaded asyncio process down.
    merged.setdefault("MALLOC_ARENA_MAX", "2")
    return merged


@dataclass
class ServiceProcess:
    """One service process; `start()` is non-blocking, `wait_ready()` polls `/readyz`."""

    name: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    role: str = "all"  # SERVICE_ROLE (`shared.roles`): all | api | workers

    @property
    def label(self) -> str:
        """`intake`, or `intake-workers` for one role of a split service."""
        return self.name if self.role == "all" else f"{self.name}-{self.role}"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.label}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        env = {**self.env, "HTTP_HOST": self.host, "HTTP_PORT": str(self.port), "SERVICE_ROLE": self.role}
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start #{self.starts} of {self.label} on {self.url} =====\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}", "serve", "--no-migrate"],
                cwd=REPO,
                env=_child_env(env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal reaches us, and we stop children in order
            )

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if not self.running:
                    raise RuntimeError(
                        f"{self.name} exited with {self.returncode()} before it was ready\n{self.tail()}"
                    )
                try:
                    response = await client.get("/readyz")
                    if response.status_code == 200:
                        return
                    last = f"{response.status_code} {response.text}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready within {timeout}s (last: {last})\n{self.tail()}")

    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM, wait up to `grace` seconds, then SIGKILL. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.poll()

    def kill(self) -> None:
        """SIGKILL: a crash, no goodbye to the broker or the database."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    async def restart(self, *, hard: bool = False) -> None:
        if hard:
            self.kill()
        else:
            self.stop()
        self.start()
        await self.wait_ready()

    def tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return f"--- {self.name}: no log ---"
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"--- last {len(text)} lines of {self.log_path} ---\n" + "\n".join(text)


class ServiceGroup:
    """Several services started together, stopped in reverse order, with logs for failure reports."""

    def __init__(
        self,
        env: Mapping[str, str],
        log_dir: Path,
        services: Iterable[str] = SERVICES,
        *,
        per_service_env: Mapping[str, Mapping[str, str]] | None = None,
        ports: Mapping[str, int] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.log_dir = log_dir
        self.services: dict[str, ServiceProcess] = {}
        for name in services:
            own = dict(env)
            own.update((per_service_env or {}).get(name, {}))
            port = (ports or {}).get(name) or free_port(host)
            self.services[name] = ServiceProcess(name, own, log_dir, port=port, host=host)

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def url(self, name: str) -> str:
        return self.services[name].url

    async def start(self, timeout: float = 90.0) -> None:
        for service in self.services.values():
            service.start()
        try:
            await asyncio.gather(*(s.wait_ready(timeout) for s in self.services.values()))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> dict[str, int | None]:
        """SIGTERM to all at once (each drains on its own), then wait; SIGKILL what outlives the grace."""
        for service in reversed(self.services.values()):
            if service.running and service.process is not None:
                service.process.send_signal(signal.SIGTERM)
        return {name: service.stop() for name, service in reversed(self.services.items())}

    def tails(self, lines: int = 60) -> str:
        return "\n".join(service.tail(lines) for service in self.services.values())

    def crashed(self) -> list[str]:
        """Services that exited although nobody stopped them."""
        return [name for name, s in self.services.items() if s.process is not None and s.process.poll() is not None]
