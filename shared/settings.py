"""Settings read from the environment (pydantic-settings).

`ServiceSettings` holds what every service reads; each service subclasses it with its own fields, so
the environment a service needs is exactly the fields of its settings class (a test checks
docker-compose.yml against them).
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/caunoi",
        description="PostgreSQL (asyncpg driver). Each service keeps its tables in its own schema.",
    )
    rabbitmq_url: str = Field(default="amqp://guest:guest@127.0.0.1:5672/", description="RabbitMQ (AMQP 0-9-1).")
    db_pool_size: int = Field(
        default=5, ge=1, description="Database connections kept per process (as many again may open under load)."
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
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    http_port: int = Field(default=8000, description="Port of the HTTP server (each service has its own default).")
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
    outbox_batch_size: int = Field(default=200, ge=1)
    outbox_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between outbox polls when no NOTIFY arrives."
    )
    outbox_retention_days: int = Field(default=14, ge=1, description="Published outbox rows kept this long.")
    development_mode: bool = Field(
        default=False,
        description="Development and test conveniences (a shifted clock, development secrets). "
        "`make run` and the tests turn it on; never set it in production.",
    )
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
