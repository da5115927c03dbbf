"""`make run`: the whole system on this machine, for development and demonstration.

Creates the database if it is missing, migrates the five services, loads the default data (units,
categories, the demo club), makes demo credentials and prints them, starts a local mail sink and the five
services (the four and the web pages, whose address is PUBLIC_BASE_URL: every link in a message lands there),
prints where everything is, and on Ctrl-C (or SIGTERM) stops every child and exits.

RabbitMQ and PostgreSQL are expected on localhost; `DATABASE_URL` / `RABBITMQ_URL` point elsewhere.
`make run AT=2026-12-01T23:00+07:00` (`--at`) runs every process as if at that instant (development mode's
`CLOCK_OFFSET_SECONDS`), to see what happens at night, at a month's end or during Tết.
Zalo is off unless `ZALO_ACCESS_TOKEN` or `ZALO_REFRESH_TOKEN` (and the other ZALO_* settings) point at a
real Official Account: notify then records Zalo deliveries as not sent and emails as usual.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from devtools.mailsink import SmtpSink
from devtools.processes import WITH_WEB, ServiceGroup, last_line, run_cli
from shared.clock import offset_to

REPO = Path(__file__).resolve().parents[1]
# Where logs, mail and credentials go, and the services' first port (intake; then routing, notify, reporting,
# web).
RUN_DIR = Path(os.environ.get("RUN_DIR", REPO / ".run"))
PORT_BASE = int(os.environ.get("RUN_PORT_BASE", "8000"))
PORTS = {name: PORT_BASE + i for i, name in enumerate(WITH_WEB, start=1)}
WEB_URL = f"http://127.0.0.1:{PORTS['web']}"
DEFAULTS = {
    "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432/caunoi",
    "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
    "BROKER_NAMESPACE": "caunoi",
    "LOG_FORMAT": "text",
    "DEVELOPMENT_MODE": "true",  # `make run` uses the committed development keys and secrets
    # Links in messages (case pages, accept/decline, invitations) land on the web pages.
    "PUBLIC_BASE_URL": WEB_URL,
    "WEB_BASE_URL": WEB_URL,
    "INTAKE_URL": f"http://127.0.0.1:{PORTS['intake']}",
    "ROUTING_URL": f"http://127.0.0.1:{PORTS['routing']}",
    "REPORTING_URL": f"http://127.0.0.1:{PORTS['reporting']}",
}
DEMO_UNIT = "phuong-tan-ninh"
DEMO_REPORTER_EMAIL = "canbo.tanninh@demo.example"


def say(text: str = "") -> None:
    print(text, flush=True)


async def ensure_database(database_url: str) -> None:
    """CREATE DATABASE if it is missing (connecting to the server's `postgres` database to do it)."""
    parts = urlsplit(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    conn = await asyncpg.connect(admin)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
            say(f"created database {name}")
    finally:
        await conn.close()


def credential(env: dict[str, str], role: str, name: str, *extra: str) -> str:
    return last_line(run_cli("intake", "accounts", "create", "--role", role, "--name", name, *extra, env=env))


async def main(at: datetime | None = None) -> int:
    env = {key: os.environ.get(key, default) for key, default in DEFAULTS.items()}  # the rest is inherited
    if at is not None:
        env["CLOCK_OFFSET_SECONDS"] = str(offset_to(at))
        say(f"every process lives as if at {at.isoformat()} (then time runs on)")
    os.makedirs(RUN_DIR, exist_ok=True)
    await ensure_database(env["DATABASE_URL"])

    say("migrating …")
    for service in WITH_WEB:
        run_cli(service, "migrate", env=env)
    say("loading units, categories and the demo club …")
    run_cli("intake", "seed", env=env)
    run_cli("routing", "seed", env=env)

    sink: SmtpSink | None = None
    if "SMTP_HOST" not in os.environ:
        sink = SmtpSink(port=int(os.environ.get("SMTP_PORT", "1025")), directory=RUN_DIR / "mail").start()
        env.update(SMTP_HOST=sink.host, SMTP_PORT=str(sink.port), SMTP_TLS="none")

    if not os.environ.get("WEB_SERVICE_TOKEN"):
        # The web service's own account, so intake trusts the address it reports for sign-in attempt limits.
        env["WEB_SERVICE_TOKEN"] = credential(env, "web", "Dịch vụ web (demo)")
    group = ServiceGroup(env, RUN_DIR / "logs", WITH_WEB, ports=PORTS)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        say("starting the five services …")
        starting = asyncio.create_task(group.start())
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if starting not in done:
            starting.cancel()
            return 130
        starting.result()
        waiter.cancel()

        creds = {
            "admin": credential(env, "admin", "Quản trị (demo)"),
            "reporter": credential(env, "reporter", "Cán bộ phường Tân Ninh (demo)", "--unit", DEMO_UNIT),
            "committee": credential(env, "committee", "Ban Thường trực (demo)"),
        }
        invitations = {
            DEMO_REPORTER_EMAIL: credential(
                env, "reporter", "Cán bộ phường Tân Ninh", "--unit", DEMO_UNIT, "--email", DEMO_REPORTER_EMAIL
            )
        }
        (RUN_DIR / "credentials.env").write_text(
            "".join(f"CAUNOI_{role.upper()}_TOKEN={token}\n" for role, token in creds.items()), encoding="utf-8"
        )
        print_banner(group, creds, sink, env)
        say("Sign in to the web pages: open an invitation link, choose a password (links also in the mail sink):")
        for email, link in invitations.items():
            say(f"  {email:<32} {link}")
        say("  members: python -m services.intake accounts create --role member --member-id <id> --name … --email …\n")

        while not stop.is_set():
            crashed = group.crashed()
            if crashed:
                say(f"\n{', '.join(crashed)} stopped unexpectedly:\n{group.tails(30)}")
                return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=1.0)
        return 0
    finally:
        say("\nstopping …")
        codes = await asyncio.to_thread(group.stop)
        if sink is not None:
            sink.stop()
        # -15: uvicorn re-raises SIGTERM after its graceful shutdown, so that is a clean stop too.
        clean = {0, -signal.SIGTERM}
        say("stopped: " + ", ".join(f"{n} ({'ok' if c in clean else c})" for n, c in codes.items()))


def print_banner(group: ServiceGroup, creds: dict[str, str], sink: SmtpSink | None, env: dict[str, str]) -> None:
    say("\nCầu Nối is running. Ctrl-C stops everything.\n")
    say(f"  web pages  {group.url('web')}   (public: /tu-van, /tra-cuu; people: /dang-nhap)\n")
    for name in WITH_WEB:
        url = group.url(name)
        say(f"  {name:<10} {url}   API docs {url}/docs   health {url}/readyz   metrics {url}/metrics")
    say(f"\n  logs       {RUN_DIR / 'logs'}/<service>.log")
    if sink is not None:
        say(f"  mail sink  smtp://{sink.host}:{sink.port}  → every message in {sink.directory}/ (.eml files)")
    else:
        # Your server: inherited from the environment (`env` holds only what this script sets).
        server = env.get("SMTP_HOST") or os.environ["SMTP_HOST"]
        port = env.get("SMTP_PORT") or os.environ.get("SMTP_PORT", "")
        say(f"  mail       SMTP_HOST={server}{f' SMTP_PORT={port}' if port else ''} (your server)")
    zalo = "on" if env.get("ZALO_ACCESS_TOKEN") or env.get("ZALO_REFRESH_TOKEN") else "off (set ZALO_* to a real OA)"
    say(f"  zalo       {zalo}")
    say(f"  rabbitmq   {_hide_password(env['RABBITMQ_URL'])}  namespace {env['BROKER_NAMESPACE']}")
    say(f"  database   {_hide_password(env['DATABASE_URL'])}")
    say(f"\nDemo credentials (also in {RUN_DIR / 'credentials.env'}), header `Authorization: Bearer <token>`:")
    for role, token in creds.items():
        say(f"  {role:<10} {token}")
    intake = group.url("intake")
    say(
        "\nReport a case:\n"
        f"  curl -s -X POST {intake}/v1/cases -H 'Authorization: Bearer {creds['reporter']}' \\\n"
        "       -H 'Content-Type: application/json' \\\n"
        f'       -d \'{{"unit":"{DEMO_UNIT}","category":"neglect","urgency":"medium",'
        '"summary":"Trẻ thường xuyên bị bỏ mặc một mình"}\'\n'
    )


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a UTC offset, e.g. 2026-12-01T23:00+07:00")
    return moment


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m scripts.dev", description="The whole system on this machine.")
    parser.add_argument("--at", type=_instant, default=None, help="run as if at this instant (development)")
    sys.exit(asyncio.run(main(parser.parse_args().at)))
