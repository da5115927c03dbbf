"""The refusals every service answers with (`shared.http_errors` turns them into the one error shape).

Plain exceptions without input or output, so domain modules may raise them too. Each carries its sentence
in English and Vietnamese; `FieldErrors` carries one entry per bad field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class Refusal(Exception):
    """Refuse a request with `status` and a sentence in both languages."""

    status: ClassVar[int] = 400

    def __init__(self, english: str, vietnamese: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(english)
        self.english = english
        self.vietnamese = vietnamese
        self.headers = dict(headers or {})


class Unauthorized(Refusal):
    status = 401


class Forbidden(Refusal):
    status = 403


class NotFound(Refusal):
    status = 404


class Conflict(Refusal):
    status = 409


class Gone(Refusal):
    """The resource existed and was erased on purpose (a case's child data after consent was withdrawn)."""

    status = 410


class TooManyRequests(Refusal):
    status = 429


class Unavailable(Refusal):
    status = 503


class FieldErrors(Exception):
    """Refuse a request with 422, one entry per field: (field, English, Vietnamese[, type])."""

    def __init__(self, *errors: tuple[str, ...]) -> None:
        super().__init__(", ".join(error[0] for error in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, english: str, vietnamese: str, type_: str = "value_error") -> FieldErrors:
        return cls((field, english, vietnamese, type_))
