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
import logging

import aiosmtplib

from services.notify.settings import NotifySettings
from services.notify.smtp import Email, SmtpOutcome, sender

log = logging.getLogger(__name__)


class SmtpPool:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.smtp_pool_size)
        self.opened = 0  # connections opened so far (tests and logs read it)

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
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = [r.code for r in exc.recipients]
                self._keep(client)  # the client reset the transaction; the connection is fine
                detail = "; ".join(r.message for r in exc.recipients)[:300]
                return SmtpOutcome(False, max(codes) if codes else None, detail)
            except aiosmtplib.SMTPResponseException as exc:
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
        await client.sendmail(sender(self.settings)[1], [message.to_address], message.data)

    def _keep(self, client: aiosmtplib.SMTP | None) -> None:
        if client is not None and client.is_connected:
            self._idle.append(client)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            await _close(client)


async def _close(client: aiosmtplib.SMTP) -> None:
    """QUIT politely when the connection still answers, else just drop it."""
    with contextlib.suppress(Exception):
        if client.is_connected:
            await asyncio.wait_for(client.quit(), timeout=2)
    with contextlib.suppress(Exception):
        client.close()
