"""The command line other engineers script against: the token alone on the last line, and it works."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import pytest

from devtools import infra
from devtools.waiting import eventually
from tests.support.sealed import opened

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def cli(intake, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.intake",
        *args,
        cwd=infra.REPO,
        env={**os.environ, **intake.env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def test_accounts_create_prints_a_working_token_on_the_last_line_and_revoke_stops_it(intake):
    code, output = await cli(
        intake, "accounts", "create", "--role", "reporter", "--unit", "phuong-tan-ninh", "--name", "Cán bộ Đoàn"
    )
    assert code == 0, output
    token = output.strip().splitlines()[-1]
    assert token.startswith("cn_")
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await intake.client.get("/v1/cases", headers=bearer)).status_code == 200
    key_id = token.split("_")[1]
    assert len(await intake.events("credential.issued", key_id)) == 1
    code, listing = await cli(intake, "accounts", "list")
    assert code == 0 and key_id in listing and token not in listing
    assert (await cli(intake, "accounts", "revoke", key_id))[0] == 0

    async def refused() -> bool:  # another process revoked it: at once by NOTIFY, at the latest after 5 s
        return (await intake.client.get("/v1/cases", headers=bearer)).status_code == 401

    await eventually(refused, timeout=6)
    bad, message = await cli(intake, "accounts", "create", "--role", "reporter", "--unit", "nowhere", "--name", "x")
    assert bad != 0 and "Unknown unit" in message


async def test_seeding_twice_changes_and_announces_nothing_the_second_time(intake):
    code, output = await cli(intake, "seed")
    assert code == 0 and "0 units new or changed, 0 categories new or changed" in output, output


async def test_accounts_create_with_an_email_prints_a_working_invitation_link_on_the_last_line(intake):
    email = f"can-bo-{uuid.uuid4().hex[:8]}@tinhdoan-tayninh.vn"
    code, output = await cli(
        intake,
        "accounts",
        "create",
        "--role",
        "reporter",
        "--unit",
        "phuong-tan-ninh",
        "--name",
        "Cán bộ Đoàn",
        "--email",
        email,
    )
    assert code == 0, output
    link = output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8005/moi/"), output
    token = link.rsplit("/", 1)[1]
    found = await intake.client.get(f"/v1/invitations/{token}")
    assert found.status_code == 200 and found.json() == {"name": "Cán bộ Đoàn", "email": email, "kind": "invitation"}
    (event,) = await intake.events("account.link_issued", email)
    payload = json.loads(event)["payload"]  # the same link is emailed (through notify), sealed for it
    assert link not in event
    assert opened("notify", payload["sealed_link"], f"account:{payload['account_id']}:link") == link
    code, listing = await cli(intake, "accounts", "list")
    assert f"email {email}  invited, no password yet" in listing and token not in listing

    account_id = (await intake.rows("SELECT id FROM intake.accounts WHERE email = :e", e=email))[0]["id"]
    code, output = await cli(intake, "accounts", "invite", str(account_id))
    assert code == 0, output
    renewed = output.strip().splitlines()[-1]
    assert renewed.startswith("http://127.0.0.1:8005/moi/") and renewed != link
    assert (await intake.client.get(f"/v1/invitations/{token}")).status_code == 404  # replaced
    bad, message = await cli(intake, "accounts", "create", "--role", "chair", "--name", "x", "--email", email)
    assert bad != 0 and "email" in message
