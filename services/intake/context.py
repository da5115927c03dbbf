"""What intake's endpoints and workers share besides the runtime: keys, the rate limiter, password hashing,
the Zalo wake-up."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request

from services.intake.passwords import Passwords
from services.intake.ratelimit import CounselingLimiter, parse_networks
from services.intake.refcache import ReferenceCache
from services.intake.settings import IntakeSettings
from shared.crypto import FieldCipher


@dataclass
class IntakeContext:
    settings: IntakeSettings
    cipher: FieldCipher
    duplicate_key: bytes
    limiter: CounselingLimiter
    reference: ReferenceCache
    passwords: Passwords


def cipher_from(settings: IntakeSettings) -> FieldCipher:
    return FieldCipher.from_settings(settings)


def build_context(settings: IntakeSettings) -> IntakeContext:
    return IntakeContext(
        settings=settings,
        cipher=cipher_from(settings),
        duplicate_key=base64.b64decode(settings.duplicate_hash_key),
        limiter=CounselingLimiter(
            limit=settings.counseling_rate_limit,
            window=timedelta(seconds=settings.counseling_rate_window_seconds),
            global_limit=settings.counseling_global_limit,
            trusted=parse_networks(settings.trusted_proxies),
        ),
        reference=ReferenceCache(settings.reference_cache_ttl_seconds),
        passwords=Passwords(settings.password_hash_time_cost, settings.password_hash_memory_kib),
    )


def intake_context(request: Request) -> IntakeContext:
    context: IntakeContext = request.app.state.intake
    return context
