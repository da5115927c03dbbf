"""A local Zalo OA server for tests, following DOMAIN.md §7 (itself second-hand), strict where Zalo is strict.

    with ZaloStub() as zalo:                  # uvicorn on 127.0.0.1:<free port>, in a thread
        zalo.follow("u-1")                    # follows the OA and interacted just now (7-day window open)
        ...  # point ZALO_API_BASE/ZALO_OAUTH_BASE/ZALO_APP_ID/ZALO_APP_SECRET/ZALO_*_TOKEN at it
        zalo.fail_next(-32)                   # next consultation message answered {"error": -32}
        zalo.expire_access_token()            # the current access token now answers -220
        assert zalo.messages[0]["text"].startswith("…")

Sending: `POST /v3.0/oa/message/cs`, header `access_token` (underscore, not Authorization; read from the raw
headers so a client sending `access-token` is *not* accepted), body
`{"recipient": {"user_id": …}, "message": {"text": …}}`, text ≤ 2,000 characters. Answers are HTTP 200 with
`{"error": 0, …}` or a negative code: -216 unknown token, -220 expired token, -213 not a follower, -230 no
interaction in the last `window`, -201 bad body, -32 over `rate_limit_per_minute`, and whatever
`fail_next` injects.

Tokens: `POST /v4/oa/access_token` (form `refresh_token`, `app_id`, `grant_type=refresh_token`, header
`secret_key`) returns a new pair with `expires_in` as a *string*. A refresh token works once; refreshing
also retires the previous access token. Refresh errors are negative codes too (-14014 used refresh token,
-14002 wrong app or secret, -14003 bad grant) — the exact numbers are this stub's, not Zalo's.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from fastapi import FastAPI, Request

TEXT_LIMIT = 2000


def _token(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(24)}"


class ZaloStub:
    """A real HTTP server speaking the Zalo OA consultation-message and token-refresh contract."""

    def __init__(
        self,
        *,
        access_token_ttl: float = 90000.0,
        window: timedelta = timedelta(days=7),
        rate_limit_per_minute: int | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = 0
        self.app_id = f"{secrets.randbelow(10**15):015d}"
        self.app_secret = secrets.token_urlsafe(16)
        self.access_token_ttl = access_token_ttl
        self.window = window
        self.rate_limit_per_minute = rate_limit_per_minute
        self.access_token = _token("at")
        self.refresh_token = _token("rt")
        self.access_expires_at = time.time() + access_token_ttl
        self.messages: list[dict[str, Any]] = []  # accepted consultation messages
        self.attempts: list[dict[str, Any]] = []  # every send attempt with its answer code
        self.refreshes: list[dict[str, Any]] = []  # every refresh call with its outcome
        self.followers: set[str] = set()
        self.last_interaction: dict[str, datetime] = {}
        self._retired_access: set[str] = set()
        self._used_refresh: set[str] = set()
        self._failures: deque[tuple[int, str | None]] = deque()
        self._sent_times: deque[float] = deque()
        self._lock = threading.Lock()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = self._build_app()

    # -- test controls -----------------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def oauth_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def follow(self, user_id: str, *, interacted_at: datetime | None = None) -> None:
        """The user follows the OA and interacted at `interacted_at` (default now), opening the 7-day window."""
        with self._lock:
            self.followers.add(user_id)
            self.last_interaction[user_id] = interacted_at or datetime.now(UTC)

    def unfollow(self, user_id: str) -> None:
        with self._lock:
            self.followers.discard(user_id)

    def interact(self, user_id: str, at: datetime | None = None) -> None:
        with self._lock:
            self.last_interaction[user_id] = at or datetime.now(UTC)

    def fail_next(self, code: int, user_id: str | None = None, times: int = 1) -> None:
        """Answer the next `times` consultation messages (to `user_id`, or to anyone) with `{"error": code}`."""
        if code >= 0:
            raise ValueError("Zalo error codes are negative")
        with self._lock:
            self._failures.extend([(code, user_id)] * times)

    def expire_access_token(self) -> None:
        """The current access token expires now: sends with it answer -220 until the client refreshes."""
        with self._lock:
            self.access_expires_at = time.time() - 1

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if m["user_id"] == user_id]

    # -- contract ----------------------------------------------------------------------------------
    def _build_app(self) -> FastAPI:
        app = FastAPI(title="Zalo OA stub")

        @app.post("/v3.0/oa/message/cs")
        async def consultation(request: Request) -> dict[str, Any]:
            # Raw header lookup: Starlette headers are case-insensitive but keep '_' distinct from '-'.
            token = request.headers.get("access_token")
            try:
                body = await request.json()
            except ValueError:
                body = None
            return self._send(token, body)

        @app.post("/v4/oa/access_token")
        async def refresh(request: Request) -> dict[str, Any]:
            # application/x-www-form-urlencoded, parsed by hand (no python-multipart needed).
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            return self._refresh(request.headers.get("secret_key"), form)

        return app

    def _send(self, token: str | None, body: Any) -> dict[str, Any]:
        with self._lock:
            user_id, text = _shape(body)
            code = self._check(token, user_id, text)
            self.attempts.append({"user_id": user_id, "text": text, "access_token": token, "error": code})
            if code != 0:
                return {"error": code, "message": ERROR_MESSAGES.get(code, "Error")}
            message_id = secrets.token_hex(16)
            self.messages.append(
                {
                    "user_id": user_id,
                    "text": text,
                    "access_token": token,
                    "message_id": message_id,
                    "at": datetime.now(UTC),
                }
            )
            return {"error": 0, "message": "Success", "data": {"message_id": message_id, "user_id": user_id}}

    def _check(self, token: str | None, user_id: str | None, text: str | None) -> int:
        if not token or token in self._retired_access or token != self.access_token:
            return -216
        if user_id is None or text is None or not text or len(text) > TEXT_LIMIT:
            return -201
        for i, (code, who) in enumerate(self._failures):
            if who is None or who == user_id:
                del self._failures[i]
                return code
        if time.time() >= self.access_expires_at:
            return -220
        if self.rate_limit_per_minute is not None:
            now = time.monotonic()
            while self._sent_times and now - self._sent_times[0] > 60:
                self._sent_times.popleft()
            if len(self._sent_times) >= self.rate_limit_per_minute:
                return -32
            self._sent_times.append(now)
        if user_id not in self.followers:
            return -213
        last = self.last_interaction.get(user_id)
        if last is None or datetime.now(UTC) - last > self.window:
            return -230
        return 0

    def _refresh(self, secret_key: str | None, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            given = form.get("refresh_token", "")
            if secret_key != self.app_secret or form.get("app_id") != self.app_id:
                outcome: dict[str, Any] = {"error": -14002, "error_name": "Invalid app_id or secret_key"}
            elif form.get("grant_type") != "refresh_token":
                outcome = {"error": -14003, "error_name": "Invalid grant_type"}
            elif given in self._used_refresh or given != self.refresh_token:
                outcome = {"error": -14014, "error_name": "Invalid refresh_token (already used or unknown)"}
            else:
                self._used_refresh.add(given)
                self._retired_access.add(self.access_token)
                self.access_token, self.refresh_token = _token("at"), _token("rt")
                self.access_expires_at = time.time() + self.access_token_ttl
                outcome = {
                    "access_token": self.access_token,
                    "refresh_token": self.refresh_token,
                    "expires_in": str(int(self.access_token_ttl)),
                }
            self.refreshes.append({"refresh_token": given, "ok": "access_token" in outcome})
            return outcome

    # -- life cycle --------------------------------------------------------------------------------
    def start(self) -> ZaloStub:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="zalo-stub", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the Zalo stub did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> ZaloStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _shape(body: Any) -> tuple[str | None, str | None]:
    """(user_id, text) if the body has exactly the consultation-message shape, else Nones where it fails."""
    if not isinstance(body, dict) or set(body) != {"recipient", "message"}:
        return None, None
    recipient, message = body["recipient"], body["message"]
    user_id = recipient.get("user_id") if isinstance(recipient, dict) and set(recipient) == {"user_id"} else None
    text = message.get("text") if isinstance(message, dict) and set(message) == {"text"} else None
    return (user_id if isinstance(user_id, str) else None), (text if isinstance(text, str) else None)


ERROR_MESSAGES = {
    -32: "Exceeded the rate limit",
    -201: "Parameters are invalid",
    -211: "Out of quota",
    -213: "User has not followed the OA",
    -216: "Access token is invalid",
    -220: "Access token has expired",
    -227: "User is inactive",
    -230: "User has not interacted with the OA in the last 7 days",
    -232: "User has not interacted with the OA in the last 7 days",
    -234: "The OA cannot send messages at night",
    -244: "User is restricted",
}
