"""Per-service RabbitMQ users, permissions generated from the event catalogue (shared/broker_permissions.py).

    python -m scripts.broker_users plan                       # the users and their permissions, as JSON
    python -m scripts.broker_users apply [--vhost /] [--via rabbitmqctl|http]

`apply` declares the topology with the administrator's login (`BROKER_ADMIN_URL`, AMQP), then creates or
updates each service's user `<BROKER_NAMESPACE>-<service>` with the password in
`RABBITMQ_<SERVICE>_PASSWORD` and sets its permissions and topic permissions. `--via rabbitmqctl` runs
on the broker's host (or container); `--via http` uses the management API at `BROKER_MANAGEMENT_URL`
(`http://admin:password@rabbitmq:15672`). Idempotent: run it on every deploy, before the services
(docker-compose's `broker-users` job; a Kubernetes Job, see docs/operations.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from urllib.parse import quote, urlsplit

import aio_pika
import httpx

from shared.broker_permissions import BrokerUser, broker_users
from shared.topology import Topology


def password_of(user: BrokerUser) -> str:
    name = f"RABBITMQ_{user.service.upper()}_PASSWORD"
    password = os.environ.get(name, "")
    if not password:
        raise SystemExit(f"{name} is not set (the password of broker user {user.name})")
    return password


async def declare_topology(admin_url: str, topology: Topology) -> None:
    connection = await aio_pika.connect(admin_url)
    async with connection:
        await topology.declare(await connection.channel())


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=False)


def apply_rabbitmqctl(users: list[BrokerUser], vhost: str, passwords: dict[str, str]) -> None:
    # Each rabbitmqctl call starts an Erlang VM (seconds): the users are set up side by side.
    with ThreadPoolExecutor(max_workers=len(users) or 1) as pool:
        list(pool.map(lambda user: _apply_one(user, vhost, passwords[user.name]), users))


def _apply_one(user: BrokerUser, vhost: str, password: str) -> None:
    if True:
        # "--" ends the options: a password (or name) starting with "-" is an argument, not an unknown option.
        added = _rabbitmqctl("add_user", "--", user.name, password)
        if added.returncode != 0:
            if "already exists" not in added.stderr + added.stdout:
                raise SystemExit(f"rabbitmqctl add_user {user.name}: {added.stderr.strip()}")
            changed = _rabbitmqctl("change_password", "--", user.name, password)
            if changed.returncode != 0:
                raise SystemExit(f"rabbitmqctl change_password {user.name}: {changed.stderr.strip()}")
        for args in (
            ("set_permissions", "-p", vhost, user.name, user.configure, user.write, user.read),
            *(
                ("set_topic_permissions", "-p", vhost, user.name, exchange, write, read)
                for exchange, write, read in user.topic_permissions()
            ),
        ):
            done = _rabbitmqctl(*args)
            if done.returncode != 0:
                raise SystemExit(f"rabbitmqctl {args[0]} {user.name}: {done.stderr.strip()}")


def apply_http(users: list[BrokerUser], vhost: str, passwords: dict[str, str], management_url: str) -> None:
    parts = urlsplit(management_url)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port or 15672}{parts.path.rstrip('/')}/api"
    auth = (parts.username or "", parts.password or "")
    v = quote(vhost, safe="")
    with httpx.Client(auth=auth, timeout=30) as client:
        for user in users:
            u = quote(user.name, safe="")
            for path, body in (
                (f"/users/{u}", {"password": passwords[user.name], "tags": ""}),
                (f"/permissions/{v}/{u}", {"configure": user.configure, "write": user.write, "read": user.read}),
                *(
                    (f"/topic-permissions/{v}/{u}", {"exchange": exchange, "write": write, "read": read})
                    for exchange, write, read in user.topic_permissions()
                ),
            ):
                client.put(base + path, json=body).raise_for_status()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.broker_users", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("plan", "apply"))
    parser.add_argument("--namespace", default=os.environ.get("BROKER_NAMESPACE", "caunoi"))
    parser.add_argument("--vhost", default=os.environ.get("BROKER_VHOST", "/"))
    parser.add_argument("--via", choices=("rabbitmqctl", "http"), default="rabbitmqctl")
    args = parser.parse_args(argv)
    topology = Topology(args.namespace, int(os.environ.get("DELIVERY_LIMIT", "5")))
    users = broker_users(topology)
    if args.command == "plan":
        json.dump([asdict(user) for user in users], sys.stdout, indent=2)
        print()
        return
    passwords = {user.name: password_of(user) for user in users}
    admin_url = os.environ.get("BROKER_ADMIN_URL", "")
    if not admin_url:
        raise SystemExit("BROKER_ADMIN_URL is not set (AMQP URL of an administrator, to declare the topology)")
    asyncio.run(declare_topology(admin_url, topology))
    if args.via == "rabbitmqctl":
        apply_rabbitmqctl(users, args.vhost, passwords)
    else:
        apply_http(users, args.vhost, passwords, os.environ.get("BROKER_MANAGEMENT_URL", ""))
    print(f"broker users of {args.namespace}: {', '.join(user.name for user in users)} applied to vhost {args.vhost}")


if __name__ == "__main__":
    main()
