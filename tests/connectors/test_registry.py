"""Which connectors `citydesk serve` starts, and what it says about the others."""

from __future__ import annotations

import sys

from pydantic import SecretStr
from typer.testing import CliRunner

from desk.cli import app
from desk.stack import Stack
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
