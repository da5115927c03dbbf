"""Notify (thông báo): turns events into email and Zalo OA messages people act on, once each, in Vietnamese.

Handlers plan deliveries (rows in `notify.deliveries`, in the consumer's transaction); the dispatcher worker
sends due rows, retries with backoff that survives restarts, falls back between channels and dead-letters
what cannot be sent.
"""

import sys

# httpx imports its command-line client when it can, and with it rich and pygments (~3 MiB of RSS in every notify
# process); notify never runs it. Without this entry httpx falls back to a stub `main`.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
