"""Value objects shared by several events."""

from __future__ import annotations

import uuid
from datetime import time

from pydantic import BaseModel, ConfigDict

from shared.events.base import Channel


class Recipient(BaseModel):
    """An adult the club messages (a member, the chair, the Standing Committee, a unit's officer).

    Carried in events addressed to people so that notify needs no copy of routing's registry.
    Never a child: a child's contact stays in intake.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    member_id: uuid.UUID | None = None
    display_name: str
    email: str | None = None
    zalo_user_id: str | None = None
    channels: tuple[Channel, ...] = ("email", "zalo")
    quiet_start: time | None = None  # local time (Asia/Ho_Chi_Minh); None = no quiet hours
    quiet_end: time | None = None
