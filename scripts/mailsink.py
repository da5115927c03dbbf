"""A development mail sink: a real SMTP server (aiosmtpd) that keeps every message as an `.eml` file and
prints one line per message. `make run` starts it; `python -m scripts.mailsink [port] [dir]` runs it alone.

Never for production: it accepts anything from anyone, without TLS or authentication.
"""

from __future__ import annotations

import email
import email.policy
import sys
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content or envelope.content
        self.sink.keep(raw, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, directory: Path, *, host: str = "127.0.0.1", port: int = 1025) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self.count = 0
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> MailSink:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Keep(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def keep(self, raw: bytes, recipients: list[str]) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self.count += 1
            path = self.directory / f"{time.strftime('%Y%m%d-%H%M%S')}-{self.count:05d}.eml"
        path.write_bytes(raw)
        print(f"[mail] to {', '.join(recipients)}: {message.get('Subject', '')}  ({path.name})", flush=True)


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 1025
    directory = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".run/mail")
    sink = MailSink(directory, port=port).start()
    print(f"mail sink on smtp://{sink.host}:{sink.port}, keeping messages in {directory}/ (Ctrl-C stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sink.stop()
