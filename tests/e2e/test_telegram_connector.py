"""Telegram and the web chat through the whole assistant: the local Bot API → `citydesk connector telegram` (a real
process) → pipeline → Rasa → actions → desk → reply → the local Bot API; and the web chat through the desk.

The crash tests kill the connector with SIGKILL at a deterministic point: the local Bot API refuses every
sendMessage (500) while `fail_sends` is set, so the reply is recorded and queued but not yet sent when the
process dies; or Rasa's port points at nothing, so the message is recorded but not yet answered.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

import database
from connectors.models import InboundRecord
from desk.stack import child_environment
from handoff.directory import load_directory
from handoff.models import Case
from handoff.service import Actor, CaseDesk
from outbox.models import OutboxMessage
from settings import DEMO_KB_FILE, PROJECT_ROOT
from tests.fakes.telegram_api import FakeTelegramApi
from tests.support import free_port
from tests.transcripts.conftest import writer_for
from transcripts.models import TranscriptRecord

pytestmark = pytest.mark.e2e

DEMO = {e["id"]: e for e in map(json.loads, DEMO_KB_FILE.read_text().splitlines())}
LIBRARY = next(e for e in DEMO.values() if "library card" in e["question"].lower())
_chats = itertools.count(7001)


@pytest.fixture(scope="module")
def fake():
    with FakeTelegramApi() as api:
        yield api


@pytest.fixture(scope="module")
def sessions(stack):
    return database.session_factory(database.create_db_engine(stack.settings.resolved_database_url))


@contextmanager
def connector_process(stack, fake: FakeTelegramApi, log: Path, **env: str):
    """`python -m desk.cli connector telegram` (what `citydesk connector telegram` runs) against the local Bot API."""
    environment = {**child_environment(stack.settings), "TELEGRAM_BOT_TOKEN": fake.token,
                   "TELEGRAM_BASE_URL": fake.bot_base_url, **env}
    with log.open("ab") as output:
        process = subprocess.Popen([sys.executable, "-m", "desk.cli", "connector", "telegram"], cwd=PROJECT_ROOT,
                                   env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while "Telegram connector running" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the connector did not start"
            time.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def kill(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def texts(fake: FakeTelegramApi, chat: int) -> list[str]:
    return [m.text for m in fake.sent_to(chat)]


def answered_library(fake: FakeTelegramApi, chat: int) -> bool:
    """The library card entry's answer and its link reached the chat (in one message or several)."""
    joined = "\n".join(texts(fake, chat))
    return LIBRARY["answer"] in joined and LIBRARY["url"] in joined


def records(sessions, conversation_id: str) -> list[TranscriptRecord]:
    with sessions() as session:
        return list(session.scalars(select(TranscriptRecord).where(TranscriptRecord.conversation_id == conversation_id)
                                    .order_by(TranscriptRecord.id)))


def test_a_question_gets_the_right_answer_in_the_right_chat(stack, fake, sessions, tmp_path):
    chat, other = next(_chats), next(_chats)
    with connector_process(stack, fake, tmp_path / "connector.log"):
        fake.send_text(chat, "hi, how can i get a library card?")
        fake.send_text(other, "hello there")
        assert fake.wait_for(lambda: answered_library(fake, chat) and texts(fake, other), timeout=120), (
            texts(fake, chat))
    assert "Alderbrook" in texts(fake, other)[0]
    roles = [(r.author_role, r.channel) for r in records(sessions, f"tg-{chat}")]
    assert roles[0] == ("citizen", "telegram") and all(role == ("bot", "telegram") for role in roles[1:])


def test_a_crash_after_recording_before_sending_yields_exactly_one_answer(stack, fake, sessions, tmp_path):
    chat = next(_chats)
    log = tmp_path / "connector.log"
    fake.fail_sends = True
    try:
        with connector_process(stack, fake, log) as process:
            fake.send_text(chat, "how do i get a library card")
            assert fake.wait_for(lambda: fake.failed_send_attempts > 0, timeout=120), log.read_text()[-3000:]
            kill(process)
    finally:
        fake.fail_sends = False
    with sessions() as session:
        queued = session.scalars(select(OutboxMessage).where(OutboxMessage.conversation_id == f"tg-{chat}")).all()
        assert queued and all(row.delivered_at is None for row in queued)
    assert texts(fake, chat) == []
    with connector_process(stack, fake, log):
        assert fake.wait_for(lambda: len(texts(fake, chat)) >= len(queued), timeout=60)
        time.sleep(3)  # anything sent twice would arrive now
    assert texts(fake, chat) == [row.text for row in queued]
    assert answered_library(fake, chat)
    citizen = [r for r in records(sessions, f"tg-{chat}") if r.author_role == "citizen"]
    assert len(citizen) == 1


def test_a_crash_before_the_assistant_answered_yields_exactly_one_answer(stack, fake, sessions, tmp_path):
    chat = next(_chats)
    log = tmp_path / "connector.log"
    with connector_process(stack, fake, log, CITYDESK_RASA_PORT=str(free_port())) as process:
        fake.send_text(chat, "how do i get a library card")

        def recorded() -> bool:
            with sessions() as session:
                return session.scalar(select(InboundRecord.state).where(
                    InboundRecord.conversation_id == f"tg-{chat}")) == "recorded"

        assert fake.wait_for(recorded, timeout=60), log.read_text()[-3000:]
        kill(process)
    with connector_process(stack, fake, log):
        assert fake.wait_for(lambda: answered_library(fake, chat), timeout=90), log.read_text()[-3000:]
        time.sleep(3)
    kept = records(sessions, f"tg-{chat}")
    assert len([r for r in kept if r.author_role == "citizen"]) == 1
    arrived = texts(fake, chat)
    # nothing arrived twice and all that arrived is in the transcript; the "received" note may be missing (the
    # kill can interrupt it: it is sent at most once), the answer arrives exactly once
    assert len(arrived) == len(set(arrived)), arrived
    assert len(arrived) <= len([r for r in kept if r.author_role == "bot"]), arrived
    assert "\n".join(arrived).count(LIBRARY["url"]) == 1, arrived


def test_a_staff_answer_reaches_the_telegram_chat_once(stack, fake, sessions, tmp_path):
    chat = next(_chats)
    with connector_process(stack, fake, tmp_path / "connector.log"):
        fake.send_text(chat, "There's a huge pothole on Main St near 5th, nearly wrecked my bike")
        assert fake.wait_for(lambda: texts(fake, chat), timeout=120)
        with sessions() as session:
            case = session.scalar(select(Case).where(Case.conversation_id == f"tg-{chat}"))
        assert case is not None and case.channel == "telegram", texts(fake, chat)
        assert any(case.service_request_id in text for text in texts(fake, chat))
        before = len(texts(fake, chat))
        cases = CaseDesk(sessions, load_directory(), stack.settings.city_timezone, transcript=writer_for(sessions))
        cases.reply(service_request_id=case.service_request_id, actor=Actor("pw.officer", "supervisor"),
                    text="A crew will fill it tomorrow morning.")
        assert fake.wait_for(lambda: len(texts(fake, chat)) > before, timeout=30)
        time.sleep(2)
    assert texts(fake, chat)[before:] == [f"{case.service_request_id}: A crew will fill it tomorrow morning."]


def test_the_web_chat_is_recorded_and_a_repeated_message_id_is_answered_once(stack, sessions):
    url = f"{stack.settings.desk_url}/api/chat"
    body = {"sender": "web-e2e-pipeline", "message": "How do I get a library card?", "message_id": "m-1"}
    first = httpx.post(url, json=body, timeout=120)
    again = httpx.post(url, json=body, timeout=120)
    assert first.status_code == again.status_code == 200
    joined = "\n".join(r["text"] or "" for r in first.json())
    assert LIBRARY["answer"] in joined and LIBRARY["url"] in joined
    assert again.json() == first.json()
    kept = records(sessions, "web-e2e-pipeline")
    assert [r.author_role for r in kept][:1] == ["citizen"] and kept[0].platform_message_id == "m-1"
    assert len([r for r in kept if r.author_role == "citizen"]) == 1
    assert httpx.get(f"{url}/updates", params={"sender": "web-e2e-pipeline"}).json() == []
