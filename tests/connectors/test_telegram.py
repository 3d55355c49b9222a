"""The Telegram connector with the real python-telegram-bot against a local Bot API, and a local Rasa REST server.

The whole assistant (real Rasa, actions, desk) is in tests/e2e/test_telegram_connector.py; these check the
connector's own behaviour fast: updates in, exact messages out, duplicates, other kinds, buttons, splitting, 429,
webhook.
"""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from connectors import replies
from connectors.telegram.render import MAX_MESSAGE_CHARS, split_text
from connectors.telegram.webhook import REJECTED_CONVERSATION, SECRET_HEADER
from outbox.models import OutboxMessage
from outbox.store import enqueue
from settings import Settings
from tests.connectors.pipeline_support import outbox, transcript
from tests.connectors.telegram_support import running_connector, telegram_settings
from tests.fakes.telegram_api import FakeTelegramApi
from tests.support import free_port

CHAT = 5550001


@pytest.fixture
def fake():
    with FakeTelegramApi() as api:
        yield api


@pytest.fixture
def settings(tmp_path, db_url, rasa, fake) -> Settings:
    port = int(rasa.url.rsplit(":", 1)[1])
    return telegram_settings(Settings(data_dir=tmp_path, database_url=db_url, rasa_port=port), fake)


def texts(fake: FakeTelegramApi, chat: int = CHAT) -> list[str]:
    return [m.text for m in fake.sent_to(chat)]


def test_a_question_is_answered_in_the_same_chat(settings, fake, sessions):
    with running_connector(settings):
        fake.send_text(CHAT, "When is bulk pickup?")
        fake.send_text(CHAT + 1, "How do I get a library card?")
        assert fake.wait_for(lambda: len(fake.sent) == 2, timeout=30)
    assert texts(fake) == ["You said: When is bulk pickup?"]
    assert texts(fake, CHAT + 1) == ["You said: How do I get a library card?"]
    records = transcript(sessions, f"tg-{CHAT}")
    assert [(r.author_role, r.public_text) for r in records] == [
        ("citizen", "When is bulk pickup?"), ("bot", "You said: When is bulk pickup?")]
    [row] = outbox(sessions, f"tg-{CHAT}")
    assert row.delivered_at is not None and row.platform_message_id == str(fake.sent_to(CHAT)[0].message_id)


def test_a_redelivered_update_is_ignored(settings, fake, rasa):
    with running_connector(settings):
        update = fake.send_text(CHAT, "Is city hall open on Monday?")
        assert fake.wait_for(lambda: len(fake.sent) == 1, timeout=30)
    with running_connector(settings):  # Telegram delivers an unconfirmed update again after a restart
        fake.inject({"message": update["message"]}, update_id=update["update_id"])
        fake.send_text(CHAT, "thanks")
        assert fake.wait_for(lambda: len(fake.sent) == 2, timeout=30)
    assert texts(fake) == ["You said: Is city hall open on Monday?", "You said: thanks"]
    assert [r["message"] for r in rasa.received] == ["Is city hall open on Monday?", "thanks"]


@pytest.mark.parametrize("kind", ["photo", "sticker", "voice"])
def test_photos_stickers_and_voice_get_a_polite_reply(settings, fake, rasa, kind):
    with running_connector(settings):
        getattr(fake, f"send_{kind}")(CHAT)
        assert fake.wait_for(lambda: len(fake.sent) == 1, timeout=30)
    assert texts(fake) == [replies.UNSUPPORTED[kind]]
    assert rasa.received == []


def test_a_location_is_kept_and_acknowledged(settings, fake, rasa, sessions):
    with running_connector(settings):
        fake.send_location(CHAT, 40.7128, -74.006)
        assert fake.wait_for(lambda: len(fake.sent) == 1, timeout=30)
        fake.send_text(CHAT, "the streetlight here is broken")
        assert fake.wait_for(lambda: len(fake.sent) == 2, timeout=30)
    assert texts(fake)[0] == replies.LOCATION_KEPT.format(lat=40.7128, long=-74.006)
    assert rasa.received[0]["metadata"]["location"] == {"lat": 40.7128, "long": -74.006}
    assert transcript(sessions, f"tg-{CHAT}")[0].meta["location"] == {"lat": 40.7128, "long": -74.006}


def test_buttons_become_an_inline_keyboard_and_a_press_sends_the_payload(settings, fake, rasa):
    long_payload = '/choose_entry{"kb_entry_id":"demo-0002-with-a-rather-long-identifier-beyond-64-bytes"}'
    rasa.script["trash"] = [{"text": "Did you mean:", "buttons": [
        {"title": "Bulk pickup", "payload": long_payload},
        {"title": "Recycling", "payload": '/choose_entry{"kb_entry_id":"demo-0003"}'}]}]
    rasa.script[long_payload] = [{"text": "Bulk items go on the first Monday."}]
    with running_connector(settings):
        fake.send_text(CHAT, "trash")
        assert fake.wait_for(lambda: len(fake.sent) == 1, timeout=30)
        keyboard = fake.sent[0].reply_markup["inline_keyboard"]
        assert [[b["text"] for b in row] for row in keyboard] == [["Bulk pickup"], ["Recycling"]]
        short_key = keyboard[0][0]["callback_data"]
        assert short_key.startswith("#") and len(short_key.encode()) <= 64
        assert keyboard[1][0]["callback_data"] == '/choose_entry{"kb_entry_id":"demo-0003"}'
        fake.press_button(CHAT, short_key, message_id=fake.sent[0].message_id)
        assert fake.wait_for(lambda: len(fake.sent) == 2, timeout=30)
    assert rasa.received[-1]["message"] == long_payload
    assert texts(fake)[1] == "Bulk items go on the first Monday."
    assert len(fake.callback_answers) == 1


def test_a_long_answer_is_split_on_paragraphs_and_sentences(settings, fake, rasa, sessions):
    paragraph = " ".join(f"Sentence number {i} of the city's long answer." for i in range(60))
    long_answer = "\n\n".join([paragraph] * 4)  # about 11,000 characters
    rasa.script["tell me everything"] = [{"text": long_answer}]
    with running_connector(settings):
        fake.send_text(CHAT, "tell me everything")
        assert fake.wait_for(lambda: len(fake.sent) >= 4 and outbox(sessions, f"tg-{CHAT}")[0].delivered_at,
                             timeout=30)
    parts = texts(fake)
    assert parts == split_text(long_answer)
    assert all(len(p) <= MAX_MESSAGE_CHARS for p in parts)
    assert all(p.endswith(".") for p in parts)  # never cut inside a sentence
    assert " ".join(parts).replace("\n\n", " ") == long_answer.replace("\n\n", " ")
    [row] = outbox(sessions, f"tg-{CHAT}")
    assert row.parts_delivered == len(parts)


def test_a_429_is_waited_out(settings, fake):
    fake.rate_limit(retry_after=1, times=4)  # more than the rate limiter retries itself: the outbox waits too
    with running_connector(settings):
        fake.send_text(CHAT, "hello")
        assert fake.wait_for(lambda: len(fake.sent) == 1, timeout=30)
    assert texts(fake) == ["You said: hello"]
    assert [c for c, _ in fake.calls].count("sendMessage") == 5


def test_sending_is_retried_with_backoff_and_a_poison_message_is_given_up(settings, fake, sessions):
    from outbox.sender import OutboxSender
    from outbox.store import failed_messages, requeue

    fake.fail_sends = True
    with running_connector(settings) as connector:
        connector.sender.base_delay_s = 0.1
        connector.sender.max_attempts = 3
        fake.send_text(CHAT, "hello")
        assert fake.wait_for(lambda: failed_messages(sessions, "telegram"), timeout=30)
    [row] = outbox(sessions, f"tg-{CHAT}")
    assert (row.attempts, row.delivered_at) == (3, None)
    assert "500" in row.last_error or "Internal Server Error" in row.last_error
    assert fake.failed_send_attempts == 3 and fake.sent == []
    assert isinstance(connector.sender, OutboxSender)
    # listed among the failed messages, and sent once the cause is gone and it is queued again (what
    # `citydesk connector failed [--retry]` does: tests/desk/test_connector_cli.py)
    [shown] = failed_messages(sessions)
    assert (shown.id, shown.attempts, shown.text) == (row.id, 3, "You said: hello")
    requeue(sessions, row.id)
    fake.fail_sends = False
    with running_connector(settings):
        assert fake.wait_for(lambda: outbox(sessions, f"tg-{CHAT}")[0].delivered_at, timeout=30)
    assert texts(fake) == ["You said: hello"]


def test_staff_answers_from_the_outbox_are_delivered_once(settings, fake, sessions):
    from datetime import UTC, datetime

    with sessions.begin() as session:
        enqueue(session, key="event-1", channel="telegram", conversation_id=f"tg-{CHAT}",
                text="CD-2026-000001: the pothole was filled.", now=datetime.now(UTC))
    with running_connector(settings):
        assert fake.wait_for(lambda: len(fake.sent) == 1, timeout=30)
    with running_connector(settings):
        fake.send_text(CHAT, "thanks")
        assert fake.wait_for(lambda: len(fake.sent) == 2, timeout=30)
    assert texts(fake) == ["CD-2026-000001: the pothole was filled.", "You said: thanks"]


def test_after_a_crash_mid_send_a_reply_is_sent_again_and_a_received_note_is_not(settings, fake, sessions):
    from datetime import UTC, datetime

    from outbox.models import OutboxState
    from outbox.store import AT_MOST_ONCE_SUFFIX

    with sessions.begin() as session:  # what a process killed while talking to Telegram leaves behind
        note = enqueue(session, key=f"in-1{AT_MOST_ONCE_SUFFIX}", channel="telegram", conversation_id=f"tg-{CHAT}",
                       text=replies.RECEIVED, now=datetime.now(UTC))
        answer = enqueue(session, key="in-1-0", channel="telegram", conversation_id=f"tg-{CHAT}",
                         text="The library card is free.", now=datetime.now(UTC))
        note.state = answer.state = OutboxState.SENDING
    with running_connector(settings):
        assert fake.wait_for(lambda: texts(fake), timeout=30)
    assert texts(fake) == ["The library card is free."]
    assert [row.state for row in outbox(sessions, f"tg-{CHAT}")] == [OutboxState.DROPPED, OutboxState.SENT]


def test_webhook_mode_checks_the_secret(settings, fake, sessions, rasa):
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    hooked = settings.model_copy(update={"telegram_webhook_url": url, "telegram_webhook_port": port,
                                         "telegram_webhook_secret": SecretStr("s3cret-token")})
    with running_connector(hooked, ready_url=f"http://127.0.0.1:{port}/"):
        assert fake.webhook["url"] == url and fake.webhook["secret_token"] == "s3cret-token"
        update = fake.build_text_update(CHAT, "forged: send me everything")
        forged = httpx.post(url, json=update, headers={SECRET_HEADER: "guess"})
        missing = httpx.post(url, json=update)
        broken = httpx.post(url, content=b"{not json", headers={SECRET_HEADER: "s3cret-token",
                                                                 "Content-Type": "application/json"})
        good = httpx.post(url, json=fake.build_text_update(CHAT, "real question"),
                          headers={SECRET_HEADER: "s3cret-token"})
        assert fake.wait_for(lambda: len(fake.sent) == 1, timeout=30)
    assert (forged.status_code, missing.status_code, broken.status_code, good.status_code) == (403, 403, 400, 200)
    assert texts(fake) == ["You said: real question"]
    assert [r["message"] for r in rasa.received] == ["real question"]
    rejected = transcript(sessions, REJECTED_CONVERSATION)
    assert [(r.author_role, r.public_text) for r in rejected] == [
        ("system", "Rejected a webhook delivery: wrong secret token."),
        ("system", "Rejected a webhook delivery: missing secret token.")]
    assert all("forged" not in r.public_text for r in transcript(sessions, f"tg-{CHAT}"))
    with sessions() as session:
        assert session.scalar(select(OutboxMessage.text).where(OutboxMessage.conversation_id == f"tg-{CHAT}")) == (
            "You said: real question")
    assert json.loads(broken.text)["ok"] is False


def test_webhook_mode_without_a_secret_is_refused(settings):
    from connectors.telegram.app import build_connector

    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        build_connector(settings.model_copy(update={"telegram_webhook_url": "https://city.example/tg"}))


def test_split_text_keeps_short_texts_whole_and_cuts_unbroken_words():
    assert split_text("short") == ["short"]
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]
