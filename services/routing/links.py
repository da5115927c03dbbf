"""Signed, expiring, single-use accept/decline links that notify puts in a member's message.

The signature is an HMAC-SHA256 over the assignment, the action and the expiry, keyed with
`LINK_SECRET` (shared by every replica). Single use: the signature is recorded in `used_links` in the
transaction that answers the assignment.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode

ACTIONS = ("accept", "decline")


def signature(secret: str, assignment_id: uuid.UUID, action: str, expires: int) -> str:
    message = f"{assignment_id}.{action}.{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def link_url(
    base_url: str, path: str, secret: str, assignment_id: uuid.UUID, action: str, now: datetime, ttl: timedelta
) -> str:
    expires = int((now + ttl).timestamp())
    query = urlencode({"expires": expires, "signature": signature(secret, assignment_id, action, expires)})
    return f"{base_url.rstrip('/')}{path}/assignments/{assignment_id}/{action}?{query}"


def verify(secret: str, assignment_id: uuid.UUID, action: str, expires: int, given: str, now: datetime) -> str | None:
    """None when the link is genuine and unexpired, else why not."""
    if action not in ACTIONS:
        return "unknown action"
    # compare_digest raises on non-ASCII text: such a signature is simply not ours (403, never 500).
    if not given.isascii() or not hmac.compare_digest(signature(secret, assignment_id, action, expires), given):
        return "the link's signature does not match"
    if now.timestamp() >= expires:
        return "the link has expired"
    return None
