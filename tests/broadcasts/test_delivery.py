"""The core promise: 2,000 Telegram subscribers, the sender (`citydesk connector telegram`, a real process) killed
with SIGKILL halfway through the delivery and started again: every subscriber has exactly one message.

The local Bot API enforces Telegram's flood limits (30 messages a second overall, one a second per chat: 429 with
retry_after beyond them). The kill comes at a deterministic point: once 1,000 messages are accepted, the Bot API
holds the next calls unanswered, so the process dies with requests in flight and rows claimed but not sent, after
every accepted message was marked sent. (A message accepted in the instant before a kill, its mark not yet
committed, is sent again after the restart: Telegram's Bot API has no idempotency key. The README says so.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from broadcasts.models import Subscription
from broadcasts.service import Broadcasts
from settings import PROJECT_ROOT
from tests.broadcasts.conftest import add_subscribers
from tests.fakes.telegram_api import FakeTelegramApi
from tests.support import free_port

SUBSCRIBERS = 2_000
FIRST_CHAT = 500_000


@contextmanager
def connector_process(settings, fake: FakeTelegramApi, log: Path):
    """`python -m desk.cli connector telegram` on the test's database, against the local Bot API."""
    environment = {**os.environ, "CITYDESK_DATA_DIR": str(settings.data_dir),
                   "CITYDESK_DATABASE_URL": settings.resolved_database_url, "TELEGRAM_BOT_TOKEN": fake.token,
                   "TELEGRAM_BASE_URL": fake.bot_base_url, "CITYDESK_RASA_PORT": str(free_port()),
                   "HF_HUB_OFFLINE": "1"}
    environment.pop("DATABASE_URL", None)
    with log.open("ab") as output:
        process = subprocess.Popen([sys.executable, "-m", "desk.cli", "connector", "telegram"], cwd=PROJECT_ROOT,
                                   env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


def wait_until(predicate, process: subprocess.Popen, log: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.2)


@pytest.mark.kill
def test_a_sender_killed_halfway_reaches_every_subscriber_exactly_once(service: Broadcasts, sessions, settings,
                                                                        tmp_path):
    chats = list(range(FIRST_CHAT, FIRST_CHAT + SUBSCRIBERS))
    add_subscribers(sessions, "telegram", [f"tg-{chat}" for chat in chats])
    blocked = chats[-1]  # deleted their chat: 403, removed, never retried
    alert = service.draft(template="flood", text="The river is rising.", by="ana", channels=["telegram"],
                          area="Riverside")
    service.approve(alert.id, by="ben")
    assert service.release(alert.id) == {"telegram": SUBSCRIBERS}
    assert service.release(alert.id) == {}  # again: nobody queued twice
    log = tmp_path / "telegram.log"
    with FakeTelegramApi(max_per_second=30, chat_period_s=1.0) as fake:
        fake.blocked_chats.add(blocked)
        fake.hold_after(SUBSCRIBERS // 2)
        with connector_process(settings, fake, log) as first:
            # requests in flight (held, unanswered), and every accepted one marked sent: then the kill
            wait_until(lambda: len(fake.sent) >= SUBSCRIBERS // 2 and fake.held > 0
                       and service.status(alert.id).channels["telegram"].sent == len(fake.sent), first, log)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        halfway = service.status(alert.id).channels["telegram"]
        assert 0 < halfway.sent <= SUBSCRIBERS // 2 and halfway.pending > 0
        fake.release_held()
        with connector_process(settings, fake, log) as second:
            wait_until(lambda: service.status(alert.id).pending == 0, second, log)
        received = Counter(message.chat_id for message in fake.sent)
    assert received[blocked] == 0
    assert {chat: n for chat, n in received.items() if n != 1} == {}, "a subscriber got a message twice"
    assert set(received) == set(chats) - {blocked}, "a subscriber got nothing"
    assert all("Riverside" in m.text and "The river is rising." in m.text for m in fake.sent)
    counts = service.status(alert.id).channels["telegram"]
    assert (counts.sent, counts.failed, counts.pending) == (SUBSCRIBERS - 1, 1, 0)
    with sessions() as session:
        removed = session.query(Subscription).filter_by(address=f"tg-{blocked}").one()
    assert removed.removed_at is not None and "blocked" in removed.removed_reason
