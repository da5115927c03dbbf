"""Request and response bodies of sign-in: sessions, invitation/reset links, password resets."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from services.intake.passwords import MAX_LENGTH, MIN_LENGTH

EMAIL_PATTERN = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[^@\s\x00-\x1f.]+(\.[^@\s\x00-\x1f.]+)+$")


def normalize_email(value: str) -> str:
    """The one spelling an address is stored and looked up by: NFC, trimmed, lower-cased."""
    return unicodedata.normalize("NFC", value).strip().lower()


def _email(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        raise PydanticCustomError("value_error.email", "Not a valid email address")
    value = normalize_email(value)
    if len(value) > 254 or not EMAIL_PATTERN.match(value):
        raise PydanticCustomError("value_error.email", "Not a valid email address")
    return value


def _password(value: Any) -> Any:
    """NFC (the same Vietnamese password typed on a phone or a PC is the same password), never trimmed."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("a password must not contain NUL characters")
        return unicodedata.normalize("NFC", value)
    return value


def _length(min_length: int) -> Any:
    def check(value: str) -> str:
        if len(value) < min_length:
            raise PydanticCustomError(
                "string_too_short", "String should have at least {min_length} characters", {"min_length": min_length}
            )
        if len(value) > MAX_LENGTH:
            raise PydanticCustomError(
                "string_too_long", "String should have at most {max_length} characters", {"max_length": MAX_LENGTH}
            )
        return value

    return AfterValidator(check)


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise PydanticCustomError("value_error", "Not an IP address") from None


Email = Annotated[str, BeforeValidator(_email), Field(max_length=254, json_schema_extra={"format": "email"})]
Password = Annotated[
    str,
    BeforeValidator(_password),
    _length(MIN_LENGTH),
    Field(json_schema_extra={"minLength": MIN_LENGTH, "maxLength": MAX_LENGTH}),
]
AnyPassword = Annotated[
    str, BeforeValidator(_password), _length(1), Field(json_schema_extra={"minLength": 1, "maxLength": MAX_LENGTH})
]
ClientAddress = Annotated[str, Field(max_length=64), AfterValidator(_address)]
LinkKind = Literal["invitation", "reset"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionIn(Strict):
    email: Email
    password: AnyPassword
    client_address: ClientAddress | None = Field(
        default=None,
        description="The person's address, trusted only from a caller signed in with a `web` credential "
        "(otherwise the TCP peer is used).",
    )


class AccountView(BaseModel):
    id: uuid.UUID
    name: str
    role: str
    unit: str | None
    member: uuid.UUID | None = Field(description="Member id in routing's registry (members).")
    email: str | None


class SessionOut(BaseModel):
    token: str = Field(description="Bearer credential `cn_<key_id>_<secret>`; every service accepts it.")
    expires_at: datetime
    account: AccountView


class LinkOut(BaseModel):
    name: str
    email: str
    kind: LinkKind


class SetPasswordIn(Strict):
    password: Password


class ResetIn(Strict):
    email: Email


class InvitationIn(Strict):
    email: Email | None = Field(default=None, description="Set or change the account's email first.")


class InvitedOut(BaseModel):
    account_id: uuid.UUID
    role: str
    unit: str | None
    member_id: uuid.UUID | None
    email: str
    invitation_expires_at: datetime
