"""The environment the web service reads."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field

from shared.settings import DEVELOPMENT_SECRET, ServiceSettings

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class WebSettings(ServiceSettings):
    http_port: int = Field(default=8005)
    # Web consumes and emits no events, so it never connects to the broker: no broker secret to refuse.
    rabbitmq_url: str = Field(default="", description="Unused by web (it never connects to the broker).")
    public_base_url: str = Field(
        default="http://127.0.0.1:8005", description="Where people reach these pages (links in messages land here)."
    )
    intake_url: str = Field(default="http://127.0.0.1:8001", description="Intake's HTTP API.")
    routing_url: str = Field(default="http://127.0.0.1:8002", description="Routing's HTTP API.")
    reporting_url: str = Field(default="http://127.0.0.1:8004", description="Reporting's HTTP API.")
    notify_url: str = Field(default="http://127.0.0.1:8003", description="Notify's HTTP API (operators' pages).")
    api_timeout: float = Field(default=10.0, gt=0, description="Seconds a call to another service may take.")
    web_session_key: str = Field(
        default="dev-only-web-session-key-change-me",
        min_length=16,
        description="Secret that encrypts the stored session tokens (AES-GCM) and signs CSRF tokens; set it in "
        "production and keep it the same on every replica.",
        json_schema_extra=DEVELOPMENT_SECRET,
    )
    web_service_token: str = Field(
        default="",
        description="Bearer token of the web service's own intake account (role `web`), sent with sign-ins so "
        "intake trusts the person's address for its attempt limit; empty: intake limits by the TCP peer.",
    )
    session_idle_minutes: int = Field(default=30, ge=1, description="A session unused this long ends.")
    session_absolute_hours: int = Field(default=12, ge=1, description="A session ends this long after sign-in.")
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark cookies Secure (HTTPS only). Default: yes unless PUBLIC_BASE_URL is localhost.",
    )
    link_path: str = Field(
        default="/v1/links", description="Path of routing's accept/decline links (routing's LINK_PATH), served here."
    )
    sign_in_retry_seconds: float = Field(
        default=3.0,
        ge=0,
        description="Right after sign-in another service may not know the new token yet: retry its 401 this long.",
    )

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return (urlsplit(self.public_base_url).hostname or "") not in LOCAL_HOSTS
