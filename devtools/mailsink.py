"""The one SMTP sink: a real SMTP server (aiosmtpd in a thread) that keeps what it receives and can refuse on
demand. Tests and benchmarks read `sink.messages`; `make run` gives it a `directory`, where it keeps every
message as an `.eml` file and prints one line per message (`python -m devtools.mailsink [port] [dir]` runs it
alone). Never for production: it accepts anything from anyone, without TLS or authentication by default.

    with SmtpSink() as sink:                      # plain SMTP on 127.0.0.1:<free port>
        ...  # point SMTP_HOST/SMTP_PORT at sink.host/sink.port
        sink.fail_next(451)                       # next DATA answered "451" (transient)
        sink.fail_next(550, times=2, at="RCPT")   # next two RCPT answered "550" (permanent)
        assert sink.messages[0]["Subject"] == "…"

`SmtpSink(tls="starttls")` requires STARTTLS, `SmtpSink(tls="tls")` speaks implicit TLS; both use a
self-signed certificate for 127.0.0.1/localhost whose PEM path is `sink.ca_file` (give it to the client as
its CA bundle). `SmtpSink(username=..., password=...)` requires AUTH (over TLS when TLS is on).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import socket
import ssl
import tempfile
import threading
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, overload

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

TLS_MODES = ("none", "starttls", "tls")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class Received(Sequence[EmailMessage]):
    """The messages a sink accepted, in order, with the monotonic time each arrived. Kept as bytes and parsed
    on first access: parsing with the modern `email.policy` costs milliseconds a message, which a real
    SMTP server does not spend, and under load it slowed the sink that stands in for one."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.times: list[float] = []
        self._parsed: dict[int, EmailMessage] = {}

    def append_raw(self, raw: bytes) -> None:
        self.times.append(time.monotonic())
        self.raw.append(raw)

    def clear(self) -> None:
        self.raw.clear()
        self.times.clear()
        self._parsed.clear()

    def __len__(self) -> int:
        return len(self.raw)

    @overload
    def __getitem__(self, index: int) -> EmailMessage: ...
    @overload
    def __getitem__(self, index: slice) -> list[EmailMessage]: ...
    def __getitem__(self, index: int | slice) -> EmailMessage | list[EmailMessage]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self.raw))[index]
        message = self._parsed.get(i)
        if message is None:
            parsed = email.message_from_bytes(self.raw[i], policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            message = self._parsed[i] = parsed
        return message


class _Handler:
    """aiosmtpd handler: refuses from the failure queue, otherwise parses and keeps the message."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list) -> str:
        failure = self.sink._take_failure("RCPT")
        if failure is not None:
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        failure = self.sink._take_failure("DATA")
        if failure is not None:
            return failure
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)  # a slow server: widens the window between DATA and "250"
        raw = envelope.original_content or envelope.content
        with self.sink._lock:
            self.sink.messages.append_raw(raw)
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.sink.count += 1
            number = self.sink.count
        if self.sink.directory is not None:
            self.sink.keep(raw, list(envelope.rcpt_tos), number)
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 and a free port, in a background thread."""

    def __init__(
        self,
        *,
        tls: str = "none",
        username: str | None = None,
        password: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        directory: Path | None = None,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {TLS_MODES}")
        self.tls = tls
        self.host = host
        self.port = port  # 0: a free port, chosen at start
        self.directory = directory  # when set, every message is also kept there as an .eml file
        self.count = 0
        self.username = username
        self.password = password
        self.messages = Received()
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TOs) of each accepted message
        self.refused: list[tuple[str, int]] = []  # (stage, code) of each injected refusal
        self.ca_file: str | None = None
        self.delay = 0.0  # seconds the server waits before accepting a message's DATA
        self._failures: deque[tuple[str, int]] = deque()
        self._lock = threading.Lock()
        self._controller: Controller | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # -- failure injection -------------------------------------------------------------------------
    def fail_next(self, code: int, times: int = 1, at: str = "DATA") -> None:
        """Answer the next `times` DATA (or RCPT) commands with `code`: 4xx transient, 5xx permanent."""
        if not 400 <= code <= 599:
            raise ValueError("an SMTP failure code is 4xx or 5xx")
        if at not in ("DATA", "RCPT"):
            raise ValueError("at is DATA or RCPT")
        with self._lock:
            self._failures.extend([(at, code)] * times)

    def _take_failure(self, stage: str) -> str | None:
        with self._lock:
            if self._failures and self._failures[0][0] == stage:
                _, code = self._failures.popleft()
                self.refused.append((stage, code))
                text = "Try again later" if code < 500 else "Mailbox unavailable"
                return f"{code} {'4.3.0' if code < 500 else '5.1.1'} {text} (injected by the test)"
        return None

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()
            self.refused.clear()
            self._failures.clear()

    # -- life cycle --------------------------------------------------------------------------------
    def start(self) -> SmtpSink:
        kwargs: dict[str, Any] = {}
        if self.tls != "none":
            self._tmp = tempfile.TemporaryDirectory(prefix="smtp-sink-")
            cert, key = self_signed_certificate(Path(self._tmp.name))
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.ca_file = str(cert)
            if self.tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs.update(ssl_context=context)
        if self.username is not None:
            kwargs.update(
                auth_required=True,
                # Implicit TLS is invisible to aiosmtpd's STARTTLS bookkeeping, so only STARTTLS mode asks.
                auth_require_tls=self.tls == "starttls",
                authenticator=self._authenticate,
            )
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, server_hostname="localhost", **kwargs
        )
        self._controller.start()
        return self

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def keep(self, raw: bytes, recipients: list[str], number: int) -> None:
        """Write the message to `directory` and print one line about it (the development mail sink)."""
        assert self.directory is not None
        message = email.message_from_bytes(raw, policy=email.policy.default)
        path = self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{number:05d}.eml"
        path.write_bytes(raw)
        print(f"[mail] to {', '.join(recipients)}: {message.get('Subject', '')}  ({path.name})", flush=True)

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers for assertions --------------------------------------------------------------------
    def received_by(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m, (_, rcpts) in zip(self.messages, self.envelopes, strict=True) if address in rcpts]

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(m["Message-ID"]) for m in self.messages]


if __name__ == "__main__":
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 1025
    directory = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".run/mail")
    sink = SmtpSink(port=port, directory=directory).start()
    print(f"mail sink on smtp://{sink.host}:{sink.port}, keeping messages in {directory}/ (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sink.stop()
