"""What the intake benchmark needs from intake: a migrated database with the default data, a reporter's
credential, and a valid body. Seeding and the credential go through intake's own command line, as an
operator would do it (the same way as the end-to-end tests).
"""

from __future__ import annotations

import asyncio

from devtools.infra import Scratch, migrate

UNIT = "phuong-tan-ninh"


def case_body() -> dict:
    """A valid `POST /v1/cases` body; `__N__` is replaced by a per-request counter."""
    return {
        "unit": UNIT,
        "category": "neglect",
        "urgency": "high",
        "summary": "Trẻ bị bỏ mặc, không được chăm sóc, hàng xóm báo tin lần thứ __N__.",
    }


def env_for(res: Scratch) -> dict[str, str]:
    return {
        "DATABASE_URL": res.database_url,
        "RABBITMQ_URL": res.amqp_url,
        "BROKER_NAMESPACE": "bench",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
        "DEVELOPMENT_MODE": "true",  # the committed development keys
    }


async def prepare(res: Scratch) -> dict[str, str]:
    from devtools.processes import run_cli

    env = env_for(res)
    await migrate(res.database_url)
    await asyncio.to_thread(run_cli, "intake", "seed", env=env)
    return env


async def reporter_headers(res: Scratch) -> dict[str, str]:
    """A reporter credential for UNIT, from `python -m services.intake accounts create`."""
    from devtools.processes import last_line, run_cli

    out = await asyncio.to_thread(
        run_cli,
        "intake",
        "accounts",
        "create",
        "--role",
        "reporter",
        "--name",
        "Bench reporter",
        "--unit",
        UNIT,
        env=env_for(res),
    )
    return {"Authorization": f"Bearer {last_line(out)}"}
