"""The environment intake reads."""

from __future__ import annotations

from pydantic import Field

from shared.settings import DEVELOPMENT_SECRET, ServiceSettings

# Development-only keys, so a fresh checkout runs (DEVELOPMENT_MODE=true). Production must set its own: a
# process refuses to start with these outside development mode (see docs/intake.md).
DEV_CHILD_DATA_KEYS = "dev1:ZGV2LW9ubHktY2hpbGQtZGF0YS1rZXktMzItYnl0ZXM="
DEV_DUPLICATE_HASH_KEY = "ZGV2LW9ubHktZHVwbGljYXRlLWhhc2gta2V5"


class IntakeSettings(ServiceSettings):
    http_port: int = Field(default=8001)
    child_data_keys: str = Field(
        default=DEV_CHILD_DATA_KEYS,
        description="AES-256-GCM keys for children's data: `key_id:base64(32 bytes)`, comma-separated. "
        "Old keys stay listed so old values can still be read.",
        json_schema_extra=DEVELOPMENT_SECRET,
    )
    child_data_active_key: str = Field(
        default="", description="Key id new values are encrypted with (default: the first of CHILD_DATA_KEYS)."
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
    zalo_app_id: str = Field(default="", description="Zalo app id, part of the webhook signature.")
    zalo_oa_secret: str = Field(default="", description="Zalo OA secret key, part of the webhook signature.")
