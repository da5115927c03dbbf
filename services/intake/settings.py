"""The environment intake reads."""

from __future__ import annotations

from pydantic import Field

from shared.crypto import DEV_CHILD_DATA_KEYS as DEV_CHILD_DATA_KEYS
from shared.crypto import ChildDataSettings
from shared.sealed import SealingSettings
from shared.settings import DEVELOPMENT_SECRET

# Development-only keys, so a fresh checkout runs (DEVELOPMENT_MODE=true). Production must set its own: a
# process refuses to start with these outside development mode (see docs/intake.md).
DEV_DUPLICATE_HASH_KEY = "ZGV2LW9ubHktZHVwbGljYXRlLWhhc2gta2V5"


class IntakeSettings(ChildDataSettings, SealingSettings):
    http_port: int = Field(default=8001)
    consumer_batch_wait: float = Field(
        default=0.25,
        ge=0,
        description="Seconds a batch's first event waits for more (the case's state and members it keeps are read "
        "later, by people; one transaction per event or two costs several times the CPU per event of one per batch, "
        "and came at the moment notify sends the first email).",
    )
    duplicate_hash_key: str = Field(
        default=DEV_DUPLICATE_HASH_KEY,
        description="Base64 HMAC key for the possible-duplicate hash of a child's name and date of birth. "
        "Separate from the encryption keys.",
        json_schema_extra=DEVELOPMENT_SECRET,
    )
    duplicate_window_days: int = Field(default=30, ge=1)
    monthly_report_due_day: int = Field(
        default=5, ge=1, le=28, description="Day of the following month by which a monthly report is on time."
    )
    counseling_rate_limit: int = Field(
        default=5, ge=1, description="Counseling requests accepted per client address in one window."
    )
    counseling_global_limit: int = Field(
        default=300,
        ge=1,
        description="Counseling requests accepted from everyone together in one window (protects members from a "
        "flood from many addresses).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses/networks of reverse proxies whose X-Forwarded-For is believed (the "
        "counseling limit then counts the client behind them). Empty: the connecting address counts.",
    )
    counseling_rate_window_seconds: int = Field(
        default=3600, ge=1, description="Length of the counseling rate-limit window."
    )
    counseling_max_body_bytes: int = Field(default=16_384, ge=1024)
    reference_cache_ttl_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest time the in-process copy of units and categories is kept without a reload "
        "(changes normally apply at once, through NOTIFY).",
    )
    credential_cache_ttl_seconds: float = Field(
        default=5.0,
        ge=0,
        le=5,
        description="Longest time a credential row is cached (bound on revocation by another process; ≤ 5 s).",
    )
    web_base_url: str = Field(
        default="http://127.0.0.1:8005",
        description="Address of the web service: invitation and password-reset links are `{WEB_BASE_URL}/moi/{token}`.",
    )
    invitation_ttl_hours: int = Field(default=72, ge=1, le=720, description="How long an invitation link works.")
    reset_ttl_hours: int = Field(default=2, ge=1, le=72, description="How long a password-reset link works.")
    session_absolute_hours: int = Field(
        default=12, ge=1, le=720, description="Lifetime of a sign-in session's bearer credential (`POST /v1/sessions`)."
    )
    password_hash_time_cost: int = Field(
        default=3, ge=1, le=20, description="argon2id passes over memory per password hash (RFC 9106: 3 with 64 MiB)."
    )
    password_hash_memory_kib: int = Field(
        default=65_536, ge=8_192, le=1_048_576, description="argon2id memory per password hash, in KiB (64 MiB)."
    )
    signin_window_seconds: int = Field(
        default=900, ge=1, description="Window in which failed sign-in attempts are counted (per account, per address)."
    )
    signin_max_failures_per_account: int = Field(
        default=5, ge=1, description="Failed sign-ins for one account within the window before 429."
    )
    signin_max_failures_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins from one client address within the window before 429."
    )
    reset_max_per_hour: int = Field(
        default=3, ge=1, description="Password-reset emails sent to one account per hour (more requests still get 202)."
    )
    retention_days_after_close: int = Field(
        default=365,
        ge=0,
        description="Days after a case is closed before its child's data and free text are erased (crypto-shredded; "
        "the counts stay). 365 keeps a closed case readable through the year's review (sơ kết) and a reopening; "
        "the 3- and 5-year reviews of the plan need counts only. 0: never. See `retention --dry-run`.",
    )
    retention_interval_seconds: float = Field(
        default=3600, gt=0, description="Seconds between runs of the retention job."
    )
    zalo_app_id: str = Field(default="", description="Zalo app id, part of the webhook signature.")
    zalo_oa_secret: str = Field(default="", description="Zalo OA secret key, part of the webhook signature.")
