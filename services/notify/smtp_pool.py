"""A small pool of persistent SMTP connections.

Opening a connection per email (TCP, greeting, EHLO, STARTTLS or TLS handshake, AUTH) cost more than sending
the message. The pool keeps up to `SMTP_POOL_SIZE` connected `aiosmtplib.SMTP` clients and sends one message
per transaction on them. A connection that fails in any way is closed and dropped, never reused half-broken.

A server may drop an idle connection at any time (timeouts, restarts): when a *reused* connection turns out to
be dead before the server answered anything about the message (`SMTPServerDisconnected` or a reset socket),
the message is tried once more on a fresh connection. A failure on a fresh connection is reported to the
dispatcher as it always was (a dropped connection is a transient failure, retried with backoff).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

import aiosmtplib
from aiosmtplib import SMTPStatus
from aiosmtplib.email import quote_address

from services.notify.settings import NotifySettings
from services.notify.smtp import Email, SmtpOutcome, sender

log = logging.getLogger(__name__)


class SmtpPool:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.smtp_pool_size)
        self.opened = 0  # connections opened so far (tests and logs read it)
        self._from = _quoted(sender(settings)[1])

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username or None,
            password=s.smtp_password or None,
            use_tls=s.smtp_tls == "tls",
            start_tls=s.smtp_tls == "starttls",  # True = mandatory STARTTLS, False = never (None = opportunistic)
            cert_bundle=s.smtp_ca_file or None,
            timeout=s.smtp_timeout,
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._client()
        await client.connect()  # also STARTTLS and AUTH, as configured
        if client.is_ehlo_or_helo_needed:  # no AUTH or STARTTLS asked for it: greet now (the extensions, SIZE)
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        self.opened += 1
        return client

    async def send(self, message: Email) -> SmtpOutcome:
        """Send one message; the answer is what the dispatcher's verdict needs (ok, code, detail)."""
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            reused = client is not None and client.is_connected
            if client is not None and not client.is_connected:
                client = None
            try:
                if client is None:
                    client = await self._connect()
                try:
                    await self._transaction(client, message)
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as exc:
                    if not reused:
                        raise
                    log.info("reused SMTP connection was dropped (%r); reconnecting", exc)
                    await _close(client)
                    client = await self._connect()
                    await self._transaction(client, message)
            except aiosmtplib.SMTPResponseException as exc:  # a refusal: the envelope was reset (RSET)
                self._keep(client)
                return SmtpOutcome(False, exc.code, exc.message[:300])
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                if client is not None:
                    await _close(client)
                return SmtpOutcome(False, None, f"{type(exc).__name__}: {exc}"[:300])
            except BaseException:
                if client is not None:
                    await _close(client)
                raise
            self._keep(client)
            return SmtpOutcome(True, 250, "accepted")

    async def _transaction(self, client: aiosmtplib.SMTP, message: Email) -> None:
        """MAIL, RCPT and DATA for one recipient: what `sendmail` does, without its per-message parsing of both
        addresses (twice each) and its second pass over the message to size it (the message is built with CRLF
        line ends, so its length is its SIZE). A refusal resets the envelope (RSET), as `sendmail` does, so
        the connection stays usable."""
        size = (b"SIZE=%d" % len(message.data),) if client.supports_extension("size") else ()
        try:
            response = await client.execute_command(b"MAIL", b"FROM:" + self._from, *size)
            if response.code != SMTPStatus.completed:
                raise aiosmtplib.SMTPSenderRefused(response.code, response.message, self._from.decode())
            response = await client.execute_command(b"RCPT", b"TO:" + _quoted(message.to_address))
            if response.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
                raise aiosmtplib.SMTPRecipientRefused(response.code, response.message, message.to_address)
            await client.data(message.data)
        except aiosmtplib.SMTPResponseException:
            with contextlib.suppress(aiosmtplib.SMTPException, ConnectionError):
                await client.rset()
            raise

    def _keep(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None and client.is_connected:
            self._idle.append(client)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            await _close(client)


@functools.lru_cache(maxsize=4096)  # members recur: each address parsed and checked once
def _quoted(address: str) -> bytes:
    """`<address>` for MAIL FROM / RCPT TO (ASCII, as `sendmail` sends it without SMTPUTF8; an address it cannot
    send is refused as the server would refuse it, a permanent failure)."""
    try:
        return quote_address(address).encode("ascii")
    except UnicodeEncodeError:
        raise aiosmtplib.SMTPRecipientRefused(553, "address is not ASCII (SMTPUTF8 not used)", address) from None


async def _close(client: aiosmtplib.SMTP) -> None:
    """QUIT politely when the connection still answers, else just drop it."""
    with contextlib.suppress(Exception):
        if client.is_connected:
            await asyncio.wait_for(client.quit(), timeout=2)
    with contextlib.suppress(Exception):
        client.close()
