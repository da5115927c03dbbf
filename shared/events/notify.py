"""Events emitted by notify (thông báo)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from shared.events.base import Event


class NotificationSent(Event):
    """A message was accepted by the provider (the SMTP server, or Zalo with `error: 0`).

    Emitted by notify; reporting counts deliveries.
    """

    TYPE = "notification.sent"
    PRODUCER = "notify"
    CONSUMERS = ("reporting",)

    notification_id: uuid.UUID
    source_event_id: uuid.UUID
    template: str
    channel: str = Field(pattern="^(email|zalo)$")
    case_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    attempts: int
    sent_at: datetime


class NotificationFailed(Event):
    """A message could not be delivered on a channel: `final` when no retry or fallback remains.

    Emitted by notify; reporting counts failures, operators see them.
    """

    TYPE = "notification.failed"
    PRODUCER = "notify"
    CONSUMERS = ("reporting",)

    notification_id: uuid.UUID
    source_event_id: uuid.UUID
    template: str
    channel: str = Field(pattern="^(email|zalo)$")
    case_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    attempts: int
    reason: str
    final: bool
    failed_at: datetime
