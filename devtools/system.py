"""The whole system for an end-to-end run: four service processes, a real SMTP server (aiosmtpd), the
Zalo stub, optionally a TCP proxy between the services and RabbitMQ, and an event tap.

Shared by `tests/e2e/` and `bench/`, so the benchmark measures exactly what the tests prove.
Seeding and credentials go through the services' own command lines, as an operator would do it.

The system lives at a stated instant, never at the wall-clock hour: every process (services and command
lines) gets `CLOCK_OFFSET_SECONDS` so its clock reads `at` when the system starts and runs on from there.
By default that is a Tuesday morning in Tây Ninh, outside every member's quiet hours and every holiday;
tests about nights, month ends, New Year and Tết name their own instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from devtools.processes import SERVICES, ServiceGroup, free_port, last_line, run_cli
from devtools.tap import EventTap
from devtools.tcp_proxy import TcpProxy
from shared.clock import SystemClock, offset_to

REPORTER_UNIT = "phuong-tan-ninh"
CATEGORY = "violence_physical"  # fields psychology, medicine, law: several members per case
MAIL_FROM = "Câu lạc bộ Cầu Nối <caunoi@club.example>"
PUBLIC_BASE_URL = "http://caunoi.test"
CODE_PATTERN = re.compile(r"\b[A-Z]{2,4}-\d{4}-\d{4,}\b")
VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAYTIME = datetime(2026, 11, 10, 10, 0, tzinfo=VN)  # a Tuesday, 10:00 in Tây Ninh: nobody's quiet hours

# Written into every case; none of it may reach an email or a Zalo message.
CHILD_SECRETS = ("Nguyễn Thị Bé Hoa", "ấp Bàu Sen", "Trường Tiểu học Lê Lợi")
CHILD = {"name": CHILD_SECRETS[0], "age": 9, "address": CHILD_SECRETS[1], "school": CHILD_SECRETS[2]}
CONSENT_BY = "Cán bộ phường Tân Ninh"
SUMMARY = "Trẻ em tên Nguyễn Thị Bé Hoa ở ấp Bàu Sen, học Trường Tiểu học Lê Lợi, bị đánh nhiều lần."


def email_text(message: EmailMessage) -> str:
    """Subject and every text part, decoded, for searching."""
    parts = [str(message.get("Subject", ""))]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            with contextlib.suppress(Exception):
                parts.append(part.get_content())
    return "\n".join(parts)


def email_to(message: EmailMessage) -> list[str]:
    from email.utils import getaddresses

    return [addr.lower() for _, addr in getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]


@dataclass
class RunningSystem:
    services: ServiceGroup
    smtp: Any  # devtools.mailsink.SmtpSink
    zalo: Any  # devtools.zalo_stub.ZaloStub
    tap: EventTap
    env: dict[str, str]
    reporter: dict[str, str]
    committee: dict[str, str]
    clock: SystemClock  # the instant the services live at (the same offset as theirs)
    proxy: TcpProxy | None = None
    codes: list[str] = field(default_factory=list)

    def url(self, service: str) -> str:
        return self.services.url(service)

    def local_now(self) -> datetime:
        return self.clock.now().astimezone(VN)

    def local_month(self) -> str:
        """The month (Tây Ninh time) a case reported now is counted in."""
        return self.local_now().strftime("%Y-%m")

    def consent(self) -> dict[str, str]:
        """A consent recorded two hours before now (the system's now)."""
        return {"recorded_by": CONSENT_BY, "recorded_at": (self.local_now() - timedelta(hours=2)).isoformat()}

    async def post_case(self, client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
        consent = self.consent()
        body = {
            "unit": REPORTER_UNIT,
            "category": CATEGORY,
            "urgency": "high",
            "summary": SUMMARY,
            "child": CHILD,
            "consent": {"child": consent, "guardian": consent},
            **overrides,
        }
        response = await client.post(f"{self.url('intake')}/v1/cases", json=body, headers=self.reporter)
        assert response.status_code == 201, f"POST /v1/cases answered {response.status_code}: {response.text}"
        created: dict[str, Any] = response.json()
        self.codes.append(created["code"])
        return created

    async def monthly_total(self, client: httpx.AsyncClient, period: str) -> int:
        response = await client.get(
            f"{self.url('reporting')}/v1/reports/monthly", params={"period": period}, headers=self.committee
        )
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    async def monthly_rows(self, client: httpx.AsyncClient, period: str) -> list[dict[str, Any]]:
        response = await client.get(
            f"{self.url('reporting')}/v1/reports/monthly", params={"period": period}, headers=self.committee
        )
        assert response.status_code == 200, response.text
        return list(response.json()["rows"])

    def emails_for(self, code: str) -> list[EmailMessage]:
        return [m for m in self.smtp.messages if code in email_text(m)]

    def zalo_for(self, code: str) -> list[dict[str, Any]]:
        return [m for m in self.zalo.messages if code in str(m.get("text", ""))]

    def email_counts(self) -> Counter[tuple[str, str]]:
        """How many emails each (recipient, case code) pair got."""
        counts: Counter[tuple[str, str]] = Counter()
        for message in list(self.smtp.messages):
            codes = set(CODE_PATTERN.findall(email_text(message)))
            for recipient in email_to(message):
                for code in codes:
                    counts[(recipient, code)] += 1
        return counts

    def report(self) -> str:
        """What to print when a test fails: the end of each service's log."""
        return self.services.tails()


async def _credential(env: Mapping[str, str], role: str, *extra: str) -> str:
    out = await asyncio.to_thread(
        run_cli, "intake", "accounts", "create", "--role", role, "--name", f"E2E {role}", *extra, env=env
    )
    return last_line(out)


@asynccontextmanager
async def running_system(
    base_env: Mapping[str, str],
    log_dir: Path,
    *,
    through_proxy: bool = False,
    show_logs: bool = True,
    extra_env: Mapping[str, str] | None = None,
    at: datetime = DAYTIME,
    services: tuple[str, ...] = SERVICES,
    tap_types: tuple[str, ...] = ("#",),
) -> AsyncIterator[RunningSystem]:
    """Start everything, living at the instant `at`; on exit stop the services and print the end of their
    logs (pytest shows it on failure). With "web" among `services`, links in messages point at the web
    service (PUBLIC_BASE_URL) and the web service is told where the others are. `tap_types`: the event types
    the tap records (every event by default)."""
    offset = offset_to(at)
    from devtools.mailsink import SmtpSink
    from devtools.zalo_stub import ZaloStub

    with contextlib.ExitStack() as stack:
        smtp = stack.enter_context(SmtpSink())
        zalo = stack.enter_context(ZaloStub())
        env = {
            "DEVELOPMENT_MODE": "true",  # bench passes its own base environment
            **base_env,
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "text",
            "OUTBOX_POLL_INTERVAL": base_env.get("OUTBOX_POLL_INTERVAL", "0.5"),
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "CLOCK_OFFSET_SECONDS": str(offset),
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            "SMTP_TLS": "none",
            "SMTP_USERNAME": "",
            "SMTP_PASSWORD": "",
            "MAIL_FROM": MAIL_FROM,
            "ZALO_API_BASE": zalo.api_base,
            "ZALO_OAUTH_BASE": zalo.oauth_base,
            "ZALO_APP_ID": zalo.app_id,
            "ZALO_APP_SECRET": zalo.app_secret,
            "ZALO_ACCESS_TOKEN": zalo.access_token,
            "ZALO_REFRESH_TOKEN": zalo.refresh_token,
            **(extra_env or {}),
        }
        ports = {name: free_port() for name in services}
        if "web" in services:
            web_url = f"http://127.0.0.1:{ports['web']}"
            env.update(
                PUBLIC_BASE_URL=web_url,
                WEB_BASE_URL=web_url,
                INTAKE_URL=f"http://127.0.0.1:{ports['intake']}",
                ROUTING_URL=f"http://127.0.0.1:{ports['routing']}",
                REPORTING_URL=f"http://127.0.0.1:{ports['reporting']}",
                NOTIFY_URL=f"http://127.0.0.1:{ports['notify']}",
            )
        proxy = None
        service_env = dict(env)
        if through_proxy:
            target = urlsplit(env["RABBITMQ_URL"])
            proxy = stack.enter_context(TcpProxy(target.hostname or "127.0.0.1", target.port or 5672))
            service_env["RABBITMQ_URL"] = proxy.url_for(env["RABBITMQ_URL"])

        started = time.monotonic()
        timings: list[str] = []

        def mark(what: str) -> None:
            timings.append(f"{what} at {time.monotonic() - started:.1f}s")

        # Each command line costs a Python start-up: run the independent ones side by side.
        await asyncio.gather(
            asyncio.to_thread(run_cli, "intake", "seed", env=env),
            asyncio.to_thread(run_cli, "routing", "seed", env=env),
        )
        mark("seeded")
        group = ServiceGroup(service_env, log_dir, services, ports=ports)
        tap = EventTap(env["RABBITMQ_URL"], env["BROKER_NAMESPACE"], tap_types)
        await tap.start()  # before the services, so it sees every event they publish
        try:
            _, reporter, committee = await asyncio.gather(
                group.start(), _credential(env, "reporter", "--unit", REPORTER_UNIT), _credential(env, "committee")
            )
            mark("services ready, credentials made")
            system = RunningSystem(
                services=group,
                smtp=smtp,
                zalo=zalo,
                tap=tap,
                env=service_env,
                reporter={"Authorization": f"Bearer {reporter}"},
                committee={"Authorization": f"Bearer {committee}"},
                clock=SystemClock(timedelta(seconds=offset)),
                proxy=proxy,
            )
            await _follow_members(system)
            await _wait_for_credentials(system)
            mark("credentials known to reporting")
            yield system
            mark("test done")
        finally:
            codes = await asyncio.to_thread(group.stop)
            await tap.close()
            mark("stopped")
            if show_logs:
                print("timeline: " + "; ".join(timings))
                print(group.tails())
                print(f"exit codes: {codes}")


async def _follow_members(system: RunningSystem) -> None:
    """The demo club's members have talked to the OA recently, so consultation messages may reach them."""
    follow = getattr(system.zalo, "follow", None)
    if follow is None:
        return
    for user_id in await _member_zalo_ids(system.env["DATABASE_URL"]):
        follow(user_id)


async def _member_zalo_ids(database_url: str) -> list[str]:
    """Zalo ids of the seeded members (read once from routing's table; only to prime the stub)."""
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.columns "
            "WHERE table_schema = 'routing' AND column_name = 'zalo_user_id'"
        )
        ids: set[str] = set()
        for (table,) in tables:
            rows = await conn.fetch(
                f'SELECT DISTINCT zalo_user_id FROM routing."{table}" WHERE zalo_user_id IS NOT NULL'
            )
            ids.update(r[0] for r in rows)
        return sorted(ids)
    finally:
        await conn.close()


async def _wait_for_credentials(system: RunningSystem) -> None:
    """Credentials reach reporting as `credential.issued` events; wait until it knows the committee's."""
    from devtools.waiting import eventually

    async with httpx.AsyncClient(timeout=5) as client:

        async def accepted() -> bool:
            response = await client.get(
                f"{system.url('reporting')}/v1/reports/monthly",
                params={"period": system.local_month()},
                headers=system.committee,
            )
            return response.status_code == 200

        await eventually(accepted, timeout=30)
