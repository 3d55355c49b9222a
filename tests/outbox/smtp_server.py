"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port) and the mailbox of what it accepted.

Tests of the layers above the outbox (handoff, desk) use it too: what arrived here is delivered; queued is not.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support import free_port


@dataclass(frozen=True)
class Arrived:
    """One e-mail the server accepted: the envelope's recipients and the parsed message."""

    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content().replace("\r\n", "\n") if part is not None else ""


@dataclass
class Mailbox:
    """aiosmtpd's handler: keeps every accepted message; `refuse_data` / `refuse_recipient` make it say no."""

    arrived: list[Arrived] = field(default_factory=list)
    refuse_data: str | None = None  # e.g. "451 4.3.0 try again later"
    refuse_recipient: str | None = None  # e.g. "550 5.1.1 no such user"
    _changed: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if self.refuse_recipient:
            return self.refuse_recipient
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._changed:
            self.arrived.append(Arrived(tuple(envelope.rcpt_tos), message))  # type: ignore[arg-type]
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Arrived]:
        return [m for m in self.arrived if address in m.recipients]

    def wait_for(self, found: Callable[[list[Arrived]], bool], timeout_s: float) -> list[Arrived]:
        """Wait until `found(arrived)` holds (or the time is up); what arrived."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not found(self.arrived) and time.monotonic() < deadline:
                self._changed.wait(timeout=min(0.2, max(0.0, deadline - time.monotonic())))
            return list(self.arrived)


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@contextmanager
def smtp_server(port: int | None = None) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 for the block; stopped after it."""
    mailbox = Mailbox()
    port = port or free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()
