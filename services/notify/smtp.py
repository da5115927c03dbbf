"""Email over SMTP (aiosmtplib): build the MIME message (plain text + HTML, RFC 2047 subject, deterministic
Message-ID) and send it, turning the server's answer into a code the dispatcher understands."""

from __future__ import annotations

import base64
import functools
import uuid
from dataclasses import dataclass
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate

from services.notify.settings import NotifySettings
from services.notify.templates import Rendered


def message_id(notification_id: uuid.UUID, domain: str) -> str:
    """The same Message-ID every time a notification is (re)sent, so a resend after a crash is recognisable.

    `email.utils.make_msgid` adds a timestamp, pid and random number; a deterministic id needs the
    notification id as the whole left-hand side instead."""
    return f"<{notification_id}@{domain}>"


@dataclass(frozen=True)
class Email:
    """A message ready for the wire: its recipient and its bytes (RFC 5322, `\n` line ends; aiosmtplib turns
    them into CRLF and dot-stuffs the lines when it sends)."""

    to_address: str
    data: bytes

    def as_bytes(self) -> bytes:
        return self.data


def build_email(
    notification_id: uuid.UUID, to_name: str, to_address: str, rendered: Rendered, settings: NotifySettings
) -> Email:
    """multipart/alternative (UTF-8 text + HTML, each base64) with our own RFC 2047 headers.

    Written out directly: the `email.mime` classes (compat32) cost ~0.3 ms to build a message and aiosmtplib's
    flattening through `email.generator` another ~0.5 ms, 0.8 ms per email and the largest CPU share of an
    email delivery after the SMTP conversation; the same wire format written here costs a few hundredths of
    that (`tests/notify/test_email.py`, `test_case_assigned.py` read it back with the `email` parser)."""
    # Headers with diacritics are encoded here (RFC 2047, UTF-8, folded between encoded words): the
    # modern folder of `email` drops the space before a fold inside encoded text ("Anh/Chị hỗ trợ" came
    # out as "Anh/Chịhỗ trợ").
    boundary = f"===============caunoi{notification_id.hex}=="
    headers = (
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "MIME-Version: 1.0",
        f"From: {_address(*sender(settings), 'From')}",
        f"To: {_address(to_name, to_address, 'To')}",
        f"Subject: {_encoded(rendered.subject, 'Subject')}",
        f"Date: {formatdate(localtime=False, usegmt=True)}",
        f"Message-ID: {message_id(notification_id, settings.message_id_domain())}",
        "Auto-Submitted: auto-generated",
    )
    head = "\n".join(headers)
    if any(len(line) > 998 for line in head.split("\n")):  # never seen: an ASCII header too long to send as is
        return _build_with_email_package(notification_id, to_name, to_address, rendered, settings)
    data = b"".join(
        (
            head.encode("ascii"),
            b"\n\n",
            *_part(boundary, "plain", rendered.text),
            *_part(boundary, "html", rendered.html),
            f"--{boundary}--\n".encode("ascii"),
        )
    )
    return Email(to_address, data)


def _part(boundary: str, subtype: str, text: str) -> tuple[bytes, ...]:
    return (
        f'--{boundary}\nContent-Type: text/{subtype}; charset="utf-8"\nMIME-Version: 1.0\n'
        "Content-Transfer-Encoding: base64\n\n".encode("ascii"),
        base64.encodebytes(text.encode("utf-8")),  # lines of 76 characters, each ending in \n
        b"\n",
    )


def _build_with_email_package(
    notification_id: uuid.UUID, to_name: str, to_address: str, rendered: Rendered, settings: NotifySettings
) -> Email:
    msg = MIMEMultipart("alternative")
    msg["From"] = _address(*sender(settings), "From")
    msg["To"] = _address(to_name, to_address, "To")
    msg["Subject"] = _encoded(rendered.subject, "Subject")
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(notification_id, settings.message_id_domain())
    msg["Auto-Submitted"] = "auto-generated"
    msg.attach(MIMEText(rendered.text, "plain", "utf-8"))
    msg.attach(MIMEText(rendered.html, "html", "utf-8"))
    return Email(to_address, msg.as_bytes())


def _encoded(value: str, header: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8", header_name=header).encode()


@functools.lru_cache(maxsize=4096)  # the sender and the members recur on every email: encoded once each
def _address(name: str, address: str, header: str) -> str:
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))  # quotes specials such as a comma
    return f"{_encoded(name, header)} <{address}>"


def sender(settings: NotifySettings) -> tuple[str, str]:
    """(display name, address) of MAIL_FROM, written `Name <address>` or just `address`."""
    name, _, address = settings.mail_from.rpartition("<")
    if not _:
        return "", settings.mail_from.strip()
    return name.strip().strip('"'), address.rstrip(">").strip()


@dataclass(frozen=True)
class SmtpOutcome:
    ok: bool
    code: int | None  # the SMTP reply code of a refusal; None for a dropped or refused connection
    detail: str
