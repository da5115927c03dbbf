"""Notify (thông báo): turns events into email and Zalo OA messages people act on, once each, in Vietnamese.

Handlers plan deliveries (rows in `notify.deliveries`, in the consumer's transaction); the dispatcher worker
sends due rows, retries with backoff that survives restarts, falls back between channels and dead-letters
what cannot be sent.
"""
