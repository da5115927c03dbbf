"""Email over SMTP (aiosmtplib): build the MIME message (plain text + HTML, RFC 2047 subject, deterministic
Message-ID) and send it, turning the server's answer into a code the dispatcher understands."""

from __future__ import annotations

import base64
import functools
import re
import uuid
from dataclasses import dataclass
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
    """A message ready for the wire: its recipient and its bytes (RFC 5322 with CRLF line ends, as sent in the
    DATA command: its length is the SIZE announced in MAIL FROM; no line starts with a dot)."""

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
    head = "\r\n".join(headers)
    if any(len(line) > 998 for line in head.split("\r\n")):  # never seen: an ASCII header too long to send as is
        return _build_with_email_package(notification_id, to_name, to_address, rendered, settings)
    data = b"".join(
        (
            head.encode("ascii"),
            b"\r\n\r\n",
            *_part(boundary, "plain", rendered.text),
            *_part(boundary, "html", rendered.html),
            f"--{boundary}--\r\n".encode("ascii"),
        )
    )
    return Email(to_address, data)


def _part(boundary: str, subtype: str, text: str) -> tuple[bytes, ...]:
    return (
        f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n".encode("ascii"),
        # lines of 76 characters (never starting with a dot: base64 has none), each ending in CRLF
        base64.encodebytes(text.encode("utf-8")).replace(b"\n", b"\r\n"),
        b"\r\n",
    )


def _build_with_email_package(
    notification_id: uuid.UUID, to_name: str, to_address: str, rendered: Rendered, settings: NotifySettings
) -> Email:
    msg = MIMEMultipart("alternative")
    # the email package folds with `\n` (the whole message is turned into CRLF below)
    msg["From"] = _address(*sender(settings), "From").replace("\r\n", "\n")
    msg["To"] = _address(to_name, to_address, "To").replace("\r\n", "\n")
    msg["Subject"] = _encoded(rendered.subject, "Subject").replace("\r\n", "\n")
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id(notification_id, settings.message_id_domain())
    msg["Auto-Submitted"] = "auto-generated"
    msg.attach(MIMEText(rendered.text, "plain", "utf-8"))
    msg.attach(MIMEText(rendered.html, "html", "utf-8"))
    data = LINE_END.sub(b"\r\n", msg.as_bytes())
    return Email(to_address, DOT_START.sub(b"..", data))


LINE_END = re.compile(rb"\r\n|\n|\r")
DOT_START = re.compile(rb"(?m)^\.")
# RFC 2047: an encoded word is at most 75 characters, `=?utf-8?b?` and `?=` included (63 left: 60 base64
# characters, 45 bytes); a header line stays within 78 characters, so the first word, after `Subject: `, is shorter.
_WORD_BYTES = 45
_LINE = 78


@functools.lru_cache(maxsize=1024)  # a case's members share its subject: encoded once
def _encoded(value: str, header: str) -> str:
    """`value` as RFC 2047 encoded words (UTF-8, base64), folded between words; ASCII as it is.

    Written out here: `email.header.Header(...).encode()` cost ~80 µs a subject. Words never split a
    character, so each decodes on its own; a decoder ignores the folding whitespace between two words."""
    if value.isascii():
        return value
    budget = min(_WORD_BYTES, (_LINE - len(header) - 2 - 12) // 4 * 3)  # the first line holds "Header: "
    words: list[str] = []
    chunk = bytearray()
    for char in value:
        encoded = char.encode("utf-8")
        if chunk and len(chunk) + len(encoded) > budget:
            words.append(_word(chunk))
            chunk, budget = bytearray(), _WORD_BYTES
        chunk += encoded
    words.append(_word(chunk))
    return "\r\n ".join(words)


def _word(chunk: bytes | bytearray) -> str:
    return f"=?utf-8?b?{base64.b64encode(chunk).decode('ascii')}?="


@functools.lru_cache(maxsize=4096)  # the sender and the members recur on every email: encoded once each
def _address(name: str, address: str, header: str) -> str:
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))  # quotes specials such as a comma
    encoded = _encoded(name, header)
    last = encoded.rpartition("\r\n")[2]
    used = len(last) + (0 if "\r\n" in encoded else len(header) + 2)
    fold = " " if used + len(address) + 3 <= _LINE else "\r\n "  # the address on its own line if need be
    return f"{encoded}{fold}<{address}>"


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
