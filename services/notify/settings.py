"""Notify's environment. The SMTP_*, MAIL_FROM and ZALO_* names are shared with docker-compose and the README."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import Field

from shared.sealed import SealingSettings

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


class NotifySettings(SealingSettings):
    http_port: int = Field(default=8003)

    smtp_host: str = Field(default="127.0.0.1", description="SMTP server.")
    smtp_port: int = Field(default=1025, description="SMTP port (587 for starttls, 465 for tls in production).")
    smtp_username: str = Field(default="", description="SMTP login; empty = no AUTH.")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="none", description="`none`, `starttls` (mandatory: fails if the server does not offer it) or `tls`."
    )
    smtp_ca_file: str = Field(default="", description="PEM bundle to verify the SMTP server with; empty = system CAs.")
    smtp_timeout: float = Field(default=20.0, gt=0, description="Seconds for one SMTP conversation.")
    smtp_pool_size: int = Field(
        default=8,
        ge=1,
        description="Persistent SMTP connections kept open per process: at most this many emails are sent at once, "
        "each a few round trips, so this bounds the email rate.",
    )
    mail_from: str = Field(
        default="Câu lạc bộ tư vấn, giúp đỡ trẻ em <no-reply@caunoi.local>", description="From header and envelope."
    )
    mail_message_id_domain: str = Field(
        default="", description="Right-hand side of Message-IDs; empty = the domain of MAIL_FROM."
    )

    zalo_api_base: str = Field(default="https://openapi.zalo.me", description="Zalo OA API base.")
    zalo_oauth_base: str = Field(default="https://oauth.zaloapp.com", description="Zalo OAuth base (token refresh).")
    zalo_app_id: str = Field(default="", description="Zalo app id (token refresh).")
    zalo_app_secret: str = Field(default="", description="Zalo app secret key (token refresh header `secret_key`).")
    zalo_access_token: str = Field(
        default="", description="Initial OA access token; after that the pair lives in notify.zalo_tokens."
    )
    zalo_refresh_token: str = Field(default="", description="Initial single-use refresh token.")
    zalo_timeout: float = Field(default=10.0, gt=0, description="Seconds for one Zalo API call.")
    zalo_refresh_margin_seconds: float = Field(
        default=3600.0, ge=0, description="Refresh the access token this long before it expires."
    )
    zalo_rate_limit_delay_seconds: float = Field(default=60.0, gt=0, description="Wait after Zalo answers -32.")
    zalo_interaction_window_days: int = Field(
        default=7, ge=1, description="Zalo consultation messages need a user interaction within this many days."
    )

    notify_max_attempts: int = Field(default=8, ge=1, description="Tries of one delivery before it is dead-lettered.")
    notify_backoff_base_seconds: float = Field(default=30.0, gt=0, description="First retry delay; doubles each try.")
    notify_backoff_max_seconds: float = Field(default=3600.0, gt=0, description="Longest retry delay.")
    notify_dispatch_interval: float = Field(
        default=0.5, gt=0, description="Fallback poll for due deliveries (new rows wake the dispatcher at once)."
    )
    notify_batch_size: int = Field(
        default=50,
        ge=1,
        description="Most deliveries claimed at once, and most claimed but not yet being sent (rows claimed as "
        "they are planned may add up to half as many).",
    )
    notify_concurrency: int = Field(default=16, ge=1, description="Deliveries sent at the same time per process.")
    notify_record_batch: int = Field(default=50, ge=1, description="Most outcomes recorded in one transaction.")
    notify_record_interval: float = Field(
        default=0.2,
        gt=0,
        description="Longest wait (seconds) before an outcome is recorded with others (a case's messages then "
        "mostly share one `notification.sent`).",
    )
    notify_send_lease_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A claimed delivery not recorded within this time (the process died) is sent again.",
    )
    notify_timezone: str = Field(default="Asia/Ho_Chi_Minh", description="Time zone of quiet hours and dates.")
    notify_morning_at: time = Field(default=time(7, 0), description="Local time deferred night-time Zalo goes out.")
    notify_data_dir: Path = Field(default=DATA_DIR, description="Where the unit and category CSV files are.")

    def message_id_domain(self) -> str:
        if self.mail_message_id_domain:
            return self.mail_message_id_domain
        address = self.mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
        return address.rsplit("@", 1)[-1] if "@" in address else "caunoi.local"

    def zalo_configured(self) -> bool:
        return bool(self.zalo_access_token or self.zalo_refresh_token)
