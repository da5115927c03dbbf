"""`make run` (`python -m scripts.dev`) with `SMTP_HOST` pointing at a real SMTP server: it starts, prints its
banner naming that server, a reported case reaches the server, and Ctrl-C stops every service cleanly.
(It used to crash at its banner with `KeyError: 'SMTP_HOST'` and stop every service.)"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import sys
from pathlib import Path

import httpx
import pytest

from devtools import infra
from devtools.mailsink import SmtpSink
from devtools.waiting import eventually

pytestmark = pytest.mark.e2e
BANNER = "Cầu Nối is running"


def free_port_base() -> int:
    """A base port with the four after it free (intake is base+1, ... reporting base+4)."""
    for _ in range(50):
        base = random.randrange(11000, 31000)  # below the ephemeral ports
        try:
            for port in range(base + 1, base + 5):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no four free ports in a row")


async def read_until(stream: asyncio.StreamReader, marker: str, seen: list[str], timeout: float) -> None:
    async def read() -> None:
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError("make run stopped before its banner:\n" + "".join(seen))
            seen.append(raw.decode("utf-8", "replace"))
            if marker in seen[-1]:
                return

    await asyncio.wait_for(read(), timeout)


async def test_make_run_with_a_real_smtp_server_starts_sends_and_stops(
    amqp_vhost_url: str, broker_namespace: str, tmp_path: Path
) -> None:
    database = infra.unique("caunoi_run")
    base = free_port_base()
    with SmtpSink() as smtp:
        env = {
            **os.environ,
            "DATABASE_URL": infra.sqlalchemy_url(database),
            "RABBITMQ_URL": amqp_vhost_url,
            "BROKER_NAMESPACE": broker_namespace,
            "RUN_DIR": str(tmp_path),
            "RUN_PORT_BASE": str(base),
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            "SMTP_TLS": "none",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "scripts.dev",
            cwd=infra.REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        assert process.stdout is not None
        output: list[str] = []
        try:
            await read_until(process.stdout, "Report a case:", output, timeout=240)
            text = "".join(output)
            assert BANNER in text
            assert f"SMTP_HOST={smtp.host} SMTP_PORT={smtp.port} (your server)" in text
            assert "mail sink" not in text, "no sink of its own when SMTP_HOST is set"

            tokens = dict(
                line.split("=", 1) for line in (tmp_path / "credentials.env").read_text(encoding="utf-8").split()
            )
            async with httpx.AsyncClient(timeout=10) as client:
                created = await client.post(
                    f"http://127.0.0.1:{base + 1}/v1/cases",
                    headers={"Authorization": f"Bearer {tokens['CAUNOI_REPORTER_TOKEN']}"},
                    json={
                        "unit": "phuong-tan-ninh",
                        "category": "neglect",
                        "urgency": "critical",  # sent at once, whatever the hour (no quiet hours)
                        "summary": "Trẻ bị bỏ mặc một mình nhiều ngày.",
                    },
                )
                assert created.status_code == 201, created.text
                code = created.json()["code"]

            async def mailed():
                return [m for m in smtp.messages if code in m.get_body(("plain",)).get_content()]

            emails = await eventually(mailed, timeout=60)
            assert all(m["Subject"] for m in emails)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGINT)
            rest, _ = await asyncio.wait_for(process.communicate(), timeout=60)
            output.append(rest.decode("utf-8", "replace"))
            await asyncio.to_thread(infra.drop_database, database)
        text = "".join(output)
        assert process.returncode == 0, text
        [stopped] = [line for line in text.splitlines() if line.startswith("stopped: ")]
        assert sorted(stopped.removeprefix("stopped: ").split(", ")) == [
            "intake (ok)",
            "notify (ok)",
            "reporting (ok)",
            "routing (ok)",
            "web (ok)",
        ], text
