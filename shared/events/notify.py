"""Events emitted by notify (thông báo)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.events.base import Event

# The most deliveries one `notification.sent` carries (notify splits a larger group).
MOST_SENT_PER_EVENT = 200


class SentDelivery(BaseModel):
    """One message a provider accepted (a row of notify's delivery log)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notification_id: uuid.UUID
    template: str
    channel: str = Field(pattern="^(email|zalo)$")
    member_id: uuid.UUID | None = None
    attempts: int
    sent_at: datetime


class NotificationSent(Event):
    """Messages were accepted by their providers (the SMTP server, or Zalo with `error: 0`), all of them
    answering one event (`source_event_id`, which the envelope names as its cause).

    Emitted by notify, one per recorder batch and cause (at most 200 deliveries); reporting counts each
    delivery. Version 2: the deliveries of a batch travel together (version 1 was one event per delivery,
    six for every case); each delivery appears once.
    """

    TYPE = "notification.sent"
    VERSION = 2
    PRODUCER = "notify"
    CONSUMERS = ("reporting",)

    source_event_id: uuid.UUID
    case_id: uuid.UUID | None = None
    deliveries: tuple[SentDelivery, ...] = Field(min_length=1, max_length=MOST_SENT_PER_EVENT)

    @model_validator(mode="after")
    def _each_delivery_once(self) -> NotificationSent:
        if len({d.notification_id for d in self.deliveries}) != len(self.deliveries):
            raise ValueError("a delivery is listed twice")
        return self


class NotificationSentV1(Event):
    """Version 1 of `notification.sent` (one event per delivery), still read from queues and reporting's event
    store: it upgrades itself to version 2 with one delivery."""

    TYPE = "notification.sent"
    VERSION = 1
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

    def upgrade(self) -> NotificationSent:
        delivery = SentDelivery(**self.model_dump(exclude={"source_event_id", "case_id"}))
        return NotificationSent(source_event_id=self.source_event_id, case_id=self.case_id, deliveries=(delivery,))


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
