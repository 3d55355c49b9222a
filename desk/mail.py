"""The desk sends the outbox's e-mail itself, in its lifespan, when an SMTP server is configured."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.orm import sessionmaker

from outbox.mail import mail_sender, server_of
from outbox.sender import OutboxSender
from settings import Settings

log = logging.getLogger("citydesk.mail")


@contextlib.asynccontextmanager
async def sending_mail(settings: Settings, sessions: sessionmaker) -> AsyncIterator[OutboxSender | None]:
    """For the app's lifespan: send queued e-mail until shutdown (the sender), or nothing without CITYDESK_SMTP_URL."""
    server = server_of(settings)
    if server is None:
        log.warning("No SMTP server configured (CITYDESK_SMTP_URL): e-mail notices stay queued, unsent")
        yield None
        return
    sender = mail_sender(sessions, server, sender=settings.mail_from, max_attempts=settings.mail_max_attempts,
                         base_delay_s=settings.mail_retry_base_s, poll_interval_s=settings.mail_poll_interval_s)
    log.info("Sending e-mail notices through %s as %s", server.describe(), settings.mail_from)
    task = asyncio.create_task(sender.run_forever(), name="e-mail sender")
    try:
        yield sender
    finally:
        sender.stop()  # finishes the pass under way: a message the server accepted is marked sent
        try:
            await asyncio.wait_for(task, timeout=settings.smtp_timeout_s + 5)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
