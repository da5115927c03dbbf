"""Settings read from the environment (pydantic-settings).

`ServiceSettings` holds what every service reads; each service subclasses it with its own fields, so
the environment a service needs is exactly the fields of its settings class (a test checks
docker-compose.yml against them).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.roles import Role


def development_secret(*also: str) -> dict[str, Any]:
    """`json_schema_extra` of a field whose committed default (and `also`, other values once committed, e.g.
    in docker-compose.yml) is a development value: a process refuses to start with it unless DEVELOPMENT_MODE
    is on (`refuse_development_secrets`)."""
    return {"development_secret": True, "development_values": list(also)}


DEVELOPMENT_SECRET = development_secret()


class DevelopmentSecretsRefused(RuntimeError):
    """A secret still has its committed development value outside development mode."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    development_mode: bool = Field(
        default=False,
        description="Development and tests only (`make run`, the tests and bench turn it on): allows the committed "
        "development values of secrets (keys, link secret, broker password) and a shifted clock "
        "(CLOCK_OFFSET_SECONDS). Never set in production.",
    )

    service_role: Role = Field(
        default="all",
        description="What this process runs (`shared.roles`): `all` (the HTTP API, the event consumer, the outbox "
        "relay and the background workers), `api` (the HTTP API only; its events wait in the outbox for a "
        "`workers` process) or `workers` (consumer, relay and workers; over HTTP only /healthz, /readyz, /metrics).",
    )

    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/caunoi",
        description="PostgreSQL (asyncpg driver). Each service keeps its tables in its own schema.",
    )
    rabbitmq_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/",
        description="RabbitMQ (AMQP 0-9-1). In production each service logs in as its own user "
        "(`python -m scripts.broker_users`).",
        json_schema_extra=DEVELOPMENT_SECRET,
    )
    db_pool_size: int = Field(
        default=5,
        ge=1,
        description="Database connections per process: up to twice this many open under load, and stay open "
        "(until recycled after 30 minutes) instead of being closed and opened again. When all are busy, callers wait "
        "for one in the order they came (`shared.fair_pool`).",
    )
    db_pool_pre_ping: bool = Field(
        default=False,
        description="Test each pooled connection before use (BEGIN, `;`, ROLLBACK: three round trips per checkout, "
        "8 % of notify's CPU under load). Off: after a database restart a request may meet a dead connection and "
        "get a 503 (retry) once, and a worker or consumer retries its transaction; the pool then reconnects.",
    )
    broker_namespace: str = Field(
        default="caunoi",
        description="Prefix of every exchange and queue name, so several deployments can share a vhost.",
    )
    public_base_url: str = Field(default="http://127.0.0.1:8000", description="Base of links put in messages.")
    club_name: str = Field(
        default="Câu lạc bộ tư vấn, giúp đỡ trẻ em tỉnh Tây Ninh",
        description="The club's name as its plan writes it; used in mails, Zalo messages, documents and pages.",
    )
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    http_port: int = Field(default=8000, description="Port of the HTTP server (each service has its own default).")
    max_body_bytes: int = Field(
        default=262_144, ge=1024, description="Largest request body a service accepts (413 beyond)."
    )
    ops_token: str = Field(
        default="",
        description="When set, `/metrics`, `/docs`, `/redoc` and `/openapi.json` answer only to "
        "`Authorization: Bearer <OPS_TOKEN>` (Prometheus: `authorization.credentials`); empty: open, for a "
        "deployment that keeps those paths off the public proxy.",
    )
    log_level: str = Field(default="INFO")
    log_format: str = Field(default="json", description="`json` (one object a line) or `text`.")
    delivery_limit: int = Field(
        default=5, ge=1, description="Deliveries of one event to a consumer before it is dead-lettered."
    )
    consumer_prefetch: int = Field(
        default=100,
        ge=1,
        description="Unacknowledged events one consumer may hold (raised to the batch size if lower).",
    )
    consumer_batch_size: int = Field(
        default=50,
        ge=1,
        description="Events handled in one transaction when that many are waiting (1: one transaction per event).",
    )
    consumer_batch_wait: float = Field(
        default=0.0,
        ge=0,
        description="Seconds a batch's first event waits for more to join it when fewer than a batch are waiting "
        "(0: at once); a few tenths make fewer, larger transactions at low rates, where latency does not matter.",
    )
    outbox_batch_size: int = Field(default=200, ge=1)
    outbox_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between outbox polls when no NOTIFY arrives."
    )
    outbox_retention_days: int = Field(default=14, ge=1, description="Published outbox rows kept this long.")
    clock_offset_seconds: float = Field(
        default=0.0,
        description="Development only: the process clock runs this many seconds ahead of (or behind) the real "
        "time, so the system can be run as if at another instant (`make run AT=…`, the e2e tests). Refused "
        "unless DEVELOPMENT_MODE is on.",
    )

    @model_validator(mode="after")
    def _clock_offset_only_in_development(self) -> ServiceSettings:
        if self.clock_offset_seconds and not self.development_mode:
            raise ValueError("CLOCK_OFFSET_SECONDS is refused unless DEVELOPMENT_MODE=true (never in production)")
        return self

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, value: str) -> str:
        """A plain `postgresql://` URL (as CloudNativePG's app Secret gives it, key `uri`) gets the asyncpg driver."""
        for plain in ("postgresql://", "postgres://"):
            if value.startswith(plain):
                return "postgresql+asyncpg://" + value.removeprefix(plain)
        return value


def development_secrets(settings: BaseSettings) -> list[str]:
    """Environment names of the secrets that still hold their committed development value."""
    names = []
    for name, field in type(settings).model_fields.items():
        extra = field.json_schema_extra
        if not isinstance(extra, dict) or not extra.get("development_secret"):
            continue
        known = [field.default, *(extra.get("development_values") or [])]  # type: ignore[misc]
        if getattr(settings, name) in known:
            names.append(name.upper())
    return sorted(names)


def refuse_development_secrets(settings: BaseSettings) -> None:
    """Raise unless every marked secret was set, or DEVELOPMENT_MODE is on (called at every start-up)."""
    if getattr(settings, "development_mode", False):
        return
    found = development_secrets(settings)
    if found:
        raise DevelopmentSecretsRefused(
            f"{', '.join(found)} still hold the committed development values; set your own "
            '(docs/operations.md, "Secrets") or DEVELOPMENT_MODE=true on a development machine'
        )
