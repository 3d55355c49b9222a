"""Which connectors `citydesk serve` starts, what it says about the others, and `citydesk connector` commands."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

from pydantic import SecretStr
from typer.testing import CliRunner

from desk.cli import app
from desk.stack import Stack
from outbox.models import OutboxMessage
from outbox.store import enqueue, fail
from settings import Settings


def test_the_telegram_connector_starts_only_with_a_token(tmp_path):
    without = Stack(Settings(data_dir=tmp_path, telegram_bot_token=SecretStr("")))
    assert "telegram" not in [p.name for p in without.processes]
    assert without.skipped["telegram"] == "TELEGRAM_BOT_TOKEN is not set"
    with_token = Stack(Settings(data_dir=tmp_path, telegram_bot_token=SecretStr("123:abc")))
    [telegram] = [p for p in with_token.processes if p.name == "telegram"]
    assert telegram.command == [sys.executable, "-m", "desk.cli", "connector", "telegram"]
    assert telegram.ready_url is None and "telegram" not in with_token.skipped


def test_a_webhook_without_a_secret_is_skipped_with_the_reason(tmp_path):
    stack = Stack(Settings(data_dir=tmp_path, telegram_bot_token=SecretStr("123:abc"),
                           telegram_webhook_url="https://city.example/tg"))
    assert stack.skipped["telegram"] == "TELEGRAM_WEBHOOK_URL is set without TELEGRAM_WEBHOOK_SECRET"


def test_connector_command_without_a_token_says_what_to_do(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    result = CliRunner().invoke(app, ["connector", "telegram"])
    assert result.exit_code == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.output


def test_the_failed_command_lists_the_messages_given_up_on_and_retry_queues_one_again(settings, sessions):
    now = datetime.now(UTC)
    with sessions.begin() as session:
        row = enqueue(session, key="event-1", channel="telegram", conversation_id="tg-5550001", text="You said: hello",
                      now=now)
    fail(sessions, row.id, "500 Internal Server Error", now)  # as the Telegram connector gives a message up
    env = {"DATABASE_URL": settings.resolved_database_url, "CITYDESK_DATABASE_URL": settings.resolved_database_url}
    listed = CliRunner().invoke(app, ["connector", "failed", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    [shown] = json.loads(listed.output.strip().splitlines()[-1])
    assert (shown["id"], shown["channel"], shown["attempts"], shown["text"]) == (row.id, "telegram", 1,
                                                                                  "You said: hello")
    retried = CliRunner().invoke(app, ["connector", "failed", "--retry", str(row.id)], env=env)
    assert retried.exit_code == 0, retried.output
    assert f"Message {row.id} to tg-5550001 queued again." in " ".join(retried.output.split())
    with sessions() as session:
        again = session.get(OutboxMessage, row.id)
        assert (again.failed_at, again.attempts) == (None, 0)
    nothing = CliRunner().invoke(app, ["connector", "failed"], env=env)
    assert nothing.exit_code == 0 and "No failed messages." in nothing.output
