"""Per-client-address limit on anonymous counseling requests (sliding window, in this process).

With several replicas each keeps its own window, so the effective limit is per replica; the point is to
stop one address from flooding the club, not exact accounting.
"""

from __future__ import annotations

import time
from collections import deque


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[str, deque[float]] = {}

    def allow(self, client: str, now: float | None = None) -> tuple[bool, int]:
        """(allowed, seconds to wait when not). A refused attempt is not counted."""
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(client, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False, max(1, int(hits[0] + self.window - now) + 1)
        hits.append(now)
        if len(self._hits) > 100_000:  # forget idle addresses rather than grow without bound
            for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                del self._hits[key]
        return True, 0
