"""Helpers of the sign-in tests: invite a person through the admin API, read the link intake emitted for them,
sign in from a given client address (vouched for by a `web` credential)."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

from services.intake import store
from tests.support.credentials import grant
from tests.support.sealed import opened

PASSWORD = "Mật khẩu đủ dài 2026"
_addresses = itertools.count(1)


def new_address() -> str:
    """A client address no other test uses (per-address limits count across the whole package)."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def new_email() -> str:
    return f"nguoi-{uuid.uuid4().hex[:10]}@tinhdoan-tayninh.vn"


async def web_headers(intake: Any) -> dict[str, str]:
    if "web" not in intake.headers:
        intake.headers["web"] = await grant(intake.sessions, store.credentials, "web")
    return intake.headers["web"]


async def invite(intake: Any, email: str, *, role: str = "chair", name: str = "Huỳnh Văn Đức") -> uuid.UUID:
    response = await intake.client.post(
        "/v1/accounts", json={"role": role, "name": name, "email": email}, headers=intake.headers["admin"]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert "token" not in body and body["email"] == email.lower()
    return uuid.UUID(body["account_id"])


async def links(intake: Any, account_id: uuid.UUID) -> list[dict[str, Any]]:
    """Payloads of the `account.link_issued` events intake emitted for an account, oldest first, each with
    the `link` notify opens from `sealed_link` (the link never travels in clear)."""
    payloads = [json.loads(e)["payload"] for e in await intake.events("account.link_issued", str(account_id))]
    for payload in payloads:
        assert "/moi/" not in payload["sealed_link"]
        payload["link"] = opened("notify", payload["sealed_link"], f"account:{account_id}:link")
    return payloads


async def latest_token(intake: Any, account_id: uuid.UUID) -> str:
    payload = (await links(intake, account_id))[-1]
    return str(payload["link"]).rsplit("/moi/", 1)[1]


async def person_with_password(intake: Any, *, role: str = "chair") -> tuple[uuid.UUID, str]:
    email = new_email()
    account_id = await invite(intake, email, role=role)
    token = await latest_token(intake, account_id)
    response = await intake.client.post(f"/v1/invitations/{token}", json={"password": PASSWORD})
    assert response.status_code == 204, response.text
    return account_id, email


async def sign_in(intake: Any, email: str, password: str, address: str, **headers: str) -> Any:
    body = {"email": email, "password": password, "client_address": address}
    return await intake.client.post("/v1/sessions", json=body, headers={**await web_headers(intake), **headers})
