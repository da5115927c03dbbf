"""Calls to the other services' public HTTP APIs (intake, routing, reporting, notify), always with the signed-in
person's own bearer token, or none for the public endpoints. Nothing here logs a body: bodies may hold a
child's data."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from services.web.settings import WebSettings

RETRIED_SERVICES = ("routing", "reporting", "notify")


@dataclass
class Answer:
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> Any:
        return self.body.get("detail") if isinstance(self.body, dict) else self.body


class ServiceDown(Exception):
    """Another service could not be reached or answered 5xx."""


class Apis:
    """One pooled HTTP client for every call; `call` answers an `Answer` for any 2xx–4xx."""

    def __init__(self, settings: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = {
            "intake": settings.intake_url,
            "routing": settings.routing_url,
            "reporting": settings.reporting_url,
            "notify": settings.notify_url,
        }
        self.retry_401_for = settings.sign_in_retry_seconds
        self.service_token = settings.web_service_token
        self.client = httpx.AsyncClient(timeout=settings.api_timeout, transport=transport)

    async def close(self) -> None:
        await self.client.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        fresh_token: bool = False,
        raw: bool = False,
    ) -> Answer:
        """`fresh_token`: the token was issued moments ago, so a 401 from routing or reporting may only mean
        its `credential.issued` event has not arrived yet: retry for up to SIGN_IN_RETRY_SECONDS. `raw`: the body
        is the bytes as they came (a file to pass on), not JSON."""
        sent = {"Accept": "application/json", "Accept-Language": "vi", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        deadline = time.monotonic() + (self.retry_401_for if fresh_token and service in RETRIED_SERVICES else 0)
        while True:
            try:
                response = await self.client.request(
                    method, f"{self.base[service]}{path}", json=json, headers=sent, params=params
                )
            except httpx.HTTPError as exc:
                raise ServiceDown(f"{service} unreachable: {type(exc).__name__}") from exc
            if response.status_code == 401 and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                continue
            break
        if response.status_code >= 500:
            raise ServiceDown(f"{service} answered {response.status_code}")
        if raw:
            return Answer(response.status_code, response.content, response.headers)
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        return Answer(response.status_code, body, response.headers)
