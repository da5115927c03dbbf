"""Notify's rules, without I/O: which channels, when (quiet hours, mornings), how long to back off, and what a
provider's answer means for the delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from shared.events.common import Recipient

Channel = Literal["email", "zalo"]
ZALO_TEXT_LIMIT = 2000

# What a provider's answer means for one delivery.
Verdict = Literal["sent", "retry", "fallback", "defer_morning", "refresh_token", "rate_limited", "dead"]

ZALO_UNREACHABLE = {
    -213: "zalo_not_following",
    -227: "zalo_user_inactive",
    -230: "zalo_no_interaction_7_days",
    -232: "zalo_no_interaction_7_days",
    -244: "zalo_user_restricted",
}


def zalo_verdict(code: int) -> tuple[Verdict, str]:
    """DOMAIN.md §7 / issue 5: the meaning of a Zalo `error` code for one consultation message."""
    if code == 0:
        return "sent", "ok"
    if code == -32:
        return "rate_limited", "zalo_rate_limit"
    if code in ZALO_UNREACHABLE:
        return "fallback", ZALO_UNREACHABLE[code]
    if code == -234:
        return "defer_morning", "zalo_not_at_night"
    if code in (-216, -220):
        return "refresh_token", "zalo_token_invalid" if code == -216 else "zalo_token_expired"
    return "retry", f"zalo_error_{code}"


def smtp_verdict(code: int | None) -> tuple[Verdict, str]:
    """DOMAIN.md §8: 4xx and dropped connections (no code) are transient; 5xx are permanent."""
    if code is None:
        return "retry", "smtp_connection"
    if 400 <= code < 500:
        return "retry", f"smtp_{code}"
    if 500 <= code < 600:
        return "fallback", f"smtp_{code}"
    return "retry", f"smtp_{code}"


def backoff(attempts: int, base: float, maximum: float) -> timedelta:
    """Exponential: base, 2·base, 4·base … capped; `attempts` is the number of tries already made (≥ 1)."""
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), maximum))


def in_quiet_hours(local: time, start: time | None, end: time | None) -> bool:
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window wraps midnight, e.g. 22:00–06:30


def after_quiet_hours(now: datetime, start: time | None, end: time | None, tz: ZoneInfo) -> datetime:
    """`now` if it is outside the recipient's quiet hours, else the moment they end (local time `end`)."""
    local = now.astimezone(tz)
    if end is None or not in_quiet_hours(local.time(), start, end):
        return now
    return next_local_time(now, end, tz)


def next_local_time(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The next moment (strictly after `now`) the local clock reads `at`."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return candidate


@dataclass(frozen=True)
class ChannelPlan:
    channel: Channel
    address: str


def reachable_channels(recipient: Recipient, zalo_enabled: bool) -> list[ChannelPlan]:
    """The recipient's channels in their order of preference, keeping those we have an address for."""
    plans: list[ChannelPlan] = []
    for channel in recipient.channels:
        if channel == "email" and recipient.email:
            plans.append(ChannelPlan("email", recipient.email))
        elif channel == "zalo" and recipient.zalo_user_id and zalo_enabled:
            plans.append(ChannelPlan("zalo", recipient.zalo_user_id))
    return plans


def choose_channels(recipient: Recipient, *, fan_out: bool, critical: bool, zalo_enabled: bool) -> list[ChannelPlan]:
    """Every reachable channel at once for critical cases and for templates that fan out (a new assignment);
    otherwise the first preferred one, the others being fallbacks if it fails."""
    plans = reachable_channels(recipient, zalo_enabled)
    if fan_out or critical:
        return plans
    return plans[:1]


def fit_zalo(text: str, tail: str) -> str:
    """Zalo texts are at most 2,000 characters: cut at a line or word boundary and add `tail`."""
    if len(text) <= ZALO_TEXT_LIMIT:
        return text
    room = ZALO_TEXT_LIMIT - len(tail) - 2
    cut = text[:room]
    boundary = max(cut.rfind("\n"), cut.rfind(" "))
    if boundary > room // 2:
        cut = cut[:boundary]
    return cut.rstrip() + "…\n" + tail
