"""What intake's endpoints and workers share besides the runtime: keys, the rate limiter, password hashing,
the Zalo wake-up."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from fastapi import Request

from services.intake.passwords import Passwords
from services.intake.ratelimit import RateLimiter
from services.intake.refcache import ReferenceCache
from services.intake.settings import IntakeSettings
from shared.crypto import FieldCipher


@dataclass
class IntakeContext:
    settings: IntakeSettings
    cipher: FieldCipher
    duplicate_key: bytes
    limiter: RateLimiter
    reference: ReferenceCache
    passwords: Passwords


def cipher_from(settings: IntakeSettings) -> FieldCipher:
    return FieldCipher.from_settings(settings)


def build_context(settings: IntakeSettings) -> IntakeContext:
    return IntakeContext(
        settings=settings,
        cipher=cipher_from(settings),
        duplicate_key=base64.b64decode(settings.duplicate_hash_key),
        limiter=RateLimiter(settings.counseling_rate_limit, settings.counseling_rate_window_seconds),
        reference=ReferenceCache(settings.reference_cache_ttl_seconds),
        passwords=Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib),
    )


def intake_context(request: Request) -> IntakeContext:
    context: IntakeContext = request.app.state.intake
    return context
