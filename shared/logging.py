"""Structured logging: one JSON object a line on stdout, tagged with the service and the current
event's correlation id.

Child-identifying data never goes into a log. Log ids and codes only; `extra` keys that name
sensitive fields are dropped here as a last line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

SENSITIVE_KEYS = frozenset(
    {
        "child",
        "child_name",
        "name",
        "full_name",
        "date_of_birth",
        "dob",
        "address",
        "school",
        "guardian",
        "phone",
        "contact",
        "email",
        "summary",
        "message",
        "text",
        "body",
        "password",
        "token",
        "secret",
    }
)
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if (cid := correlation_id_var.get()) is not None:
            entry["correlation_id"] = cid
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            entry[key] = "[redacted]" if key.lower() in SENSITIVE_KEYS else value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(service: str, level: str = "INFO", fmt: str = "json") -> None:
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Access logs carry URLs only (never bodies); keep them, but quieter libraries stay at WARNING.
    for noisy in ("aiormq", "aio_pika", "faststream", "sqlalchemy.engine", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
