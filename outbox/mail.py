"""E-mail from the one outbox: the SMTP transport (aiosmtplib) for its rows of channel "email".

A notice's row holds the whole e-mail as plain text (`compose_text`): a "Subject: …" line, a blank line, the body;
its `conversation_id` is the recipient's address. The desk's sender (`mail_sender`, an OutboxSender) claims the due
rows, sends each as a message with a plain-text and a simple HTML part, and marks it sent with the Message-ID the
server accepted; a refused or unreachable server is retried with backoff, and after `max_attempts` the row is
failed (`citydesk connector failed`). Without an SMTP server (CITYDESK_SMTP_URL) nothing sends them: queued.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Literal
from urllib.parse import unquote, urlsplit

import aiosmtplib
from sqlalchemy.orm import sessionmaker

from outbox.message import OutboundMessage
from outbox.sender import OutboxSender, PartSent, PermanentFailure
from settings import Settings

CHANNEL = "email"
SUBJECT_PREFIX = "Subject: "
MAX_SUBJECT_CHARS = 200
Security = Literal["none", "starttls", "tls"]
SCHEMES: dict[str, tuple[Security, int]] = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587),
                                            "smtps": ("tls", 465)}
URL = re.compile(r"https?://[^\s<>\"]+")


class SmtpUrlError(ValueError):
    """CITYDESK_SMTP_URL cannot be used, with the reason."""


@dataclass(frozen=True)
class SmtpServer:
    """Where the desk's e-mail goes: host, port, how the connection is secured, and the login if any."""

    host: str
    port: int
    security: Security = "none"
    username: str | None = None
    password: str | None = None
    timeout_s: float = 30.0

    @classmethod
    def from_url(cls, url: str, *, username: str | None = None, password: str | None = None,
                 timeout_s: float = 30.0) -> SmtpServer:
        """smtp://host:port (plain), smtp+starttls://host:port, smtps://host:port (TLS from the start); a user and
        password in the URL win over `username` and `password`."""
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in SCHEMES:
            raise SmtpUrlError(f"the SMTP URL must start with one of {', '.join(s + '://' for s in SCHEMES)} "
                               f"(it starts with {parts.scheme + '://' if parts.scheme else 'no scheme'})")
        if not parts.hostname:
            raise SmtpUrlError("the SMTP URL names no host, e.g. smtp://mail.example.org:25")
        security, default_port = SCHEMES[parts.scheme.lower()]
        try:
            port = parts.port or default_port
        except ValueError as error:
            raise SmtpUrlError(f"the SMTP URL's port is not a number: {error}") from None
        return cls(host=parts.hostname, port=port, security=security,
                   username=unquote(parts.username) if parts.username else username,
                   password=unquote(parts.password) if parts.password else password, timeout_s=timeout_s)

    def describe(self) -> str:
        """The server for logs and pages, never the password."""
        scheme = next(name for name, (security, _) in SCHEMES.items() if security == self.security)
        who = f"{self.username}@" if self.username else ""
        return f"{scheme}://{who}{self.host}:{self.port}"


def server_of(settings: Settings) -> SmtpServer | None:
    """The SMTP server of the settings; None when CITYDESK_SMTP_URL is unset (notices stay queued)."""
    if not settings.smtp_configured or settings.smtp_url is None:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpServer.from_url(settings.smtp_url.get_secret_value(), username=settings.smtp_user or None,
                               password=password or None, timeout_s=settings.smtp_timeout_s)


def compose_text(subject: str, body: str) -> str:
    """The outbox text of an e-mail: its subject line, a blank line, its body."""
    subject = " ".join(subject.split())[:MAX_SUBJECT_CHARS]
    return f"{SUBJECT_PREFIX}{subject}\n\n{body.strip()}\n"


def split_text(text: str) -> tuple[str, str]:
    """Subject and body of an outbox e-mail text; a text without a subject line gets its first line as subject."""
    if text.startswith(SUBJECT_PREFIX):
        subject, _, body = text.partition("\n\n")
        return subject.removeprefix(SUBJECT_PREFIX).strip(), body
    first = text.strip().splitlines()[0] if text.strip() else "(no text)"
    return f"[CityDesk] {first}"[:MAX_SUBJECT_CHARS], text


def subject_of(text: str) -> str:
    return split_text(text)[0]


def html_of(body: str) -> str:
    """A simple HTML part for a plain-text body: paragraphs, quoted lines ("> …") as a quote, links clickable."""

    def inline(line: str) -> str:
        out, last = [], 0
        for match in URL.finditer(line):
            out += [html.escape(line[last:match.start()]),
                    f'<a href="{html.escape(match.group(), quote=True)}">{html.escape(match.group())}</a>']
            last = match.end()
        return "".join(out) + html.escape(line[last:])

    blocks = []
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        lines = paragraph.splitlines()
        if lines and all(line.startswith(">") for line in lines):
            quoted = "<br>".join(inline(line[1:].strip()) for line in lines)
            blocks.append(f'<blockquote style="border-left:3px solid #ccc;margin:0;padding-left:1em">{quoted}'
                          "</blockquote>")
        else:
            blocks.append(f"<p>{'<br>'.join(inline(line) for line in lines)}</p>")
    return ('<!doctype html><html><body style="font-family:sans-serif">' + "\n".join(blocks) + "</body></html>")


def message_id(idempotency_key: str, sender: str) -> str:
    """The same Message-ID for every attempt at one notice, so that a receiver can drop a repeated one."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "citydesk.invalid"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(message: OutboundMessage, *, sender: str, now: datetime) -> EmailMessage:
    """The e-mail of one outbox row: From the desk, To the row's address, plain text plus HTML."""
    subject, body = split_text(message.text)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.conversation_id
    mail["Subject"] = subject
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(message.idempotency_key, sender)
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to the desk
    mail.set_content(body)
    mail.add_alternative(html_of(body), subtype="html")
    return mail


class SmtpDeliver:
    """The e-mail channel's `deliver` for OutboxSender: one message per row, through one SMTP server."""

    def __init__(self, server: SmtpServer, *, sender: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.server = server
        self.sender = sender
        self.clock = clock

    async def __call__(self, message: OutboundMessage, part_sent: PartSent) -> str:
        mail = build_message(message, sender=self.sender, now=self.clock())
        try:
            await aiosmtplib.send(mail, hostname=self.server.host, port=self.server.port,
                                  username=self.server.username, password=self.server.password,
                                  use_tls=self.server.security == "tls",
                                  start_tls=self.server.security == "starttls", timeout=self.server.timeout_s)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            # the server will never take this address (5xx); a 4xx is worth another try
            codes = [r.code for r in refused.recipients]
            reason = "; ".join(f"{r.code} {r.message}" for r in refused.recipients)
            if codes and all(code >= 500 for code in codes):
                raise PermanentFailure(f"the SMTP server refused {message.conversation_id}: {reason}") from None
            raise
        return str(mail["Message-ID"])


def mail_sender(sessions: sessionmaker, server: SmtpServer, *, sender: str, max_attempts: int = 10,
                base_delay_s: float = 5.0, poll_interval_s: float = 2.0,
                clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> OutboxSender:
    """The sender of the outbox's e-mail: the same claim, retry and mark machinery as every channel's."""
    return OutboxSender(sessions, channel=CHANNEL, deliver=SmtpDeliver(server, sender=sender, clock=clock),
                        max_attempts=max_attempts, base_delay_s=base_delay_s, poll_interval_s=poll_interval_s,
                        concurrency=4, clock=clock)
