"""The accounts file: several accounts per channel, credentials from named variables; none: today's settings."""

from __future__ import annotations

import pytest

from accounts import (
    AccountsError,
    Channel,
    account_suffix_of,
    accounts_of,
    broadcast_accounts,
    conversation_id_for,
    default_account,
    find_account,
    load_accounts,
    platform_conversation_of,
    resolve_account,
)
from settings import Settings

ACCOUNTS = """
accounts:
  - name: telegram
    channel: telegram
    display_name: Alderbrook City
    credentials: {token: TG_MAIN}
  - name: transport
    channel: telegram
    display_name: Alderbrook Transport
    credentials: {token: TG_TRANSPORT}
    department: transport
    broadcasts: false
  - name: city-x
    channel: x
    display_name: "@alderbrook"
    credentials: {api_key: X_KEY, api_secret: X_SECRET, access_token: X_TOKEN, access_token_secret: X_TOKEN_SECRET}
  - name: web
    channel: web
    display_name: Web chat
"""
ENV = {"TG_MAIN": "111:main", "TG_TRANSPORT": "222:transport", "X_KEY": "k", "X_SECRET": "s", "X_TOKEN": "t"}


def settings_with(tmp_path, text: str | None = ACCOUNTS, **values) -> Settings:
    if text is None:
        return Settings(data_dir=tmp_path, _env_file=None, **values)
    path = tmp_path / "accounts.yml"
    path.write_text(text, encoding="utf-8")
    return Settings(data_dir=tmp_path, accounts_file=path, _env_file=None, **values)


def test_the_file_lists_accounts_with_credentials_from_the_named_variables(tmp_path):
    accounts = load_accounts(settings_with(tmp_path), environ=ENV)
    assert [(a.name, a.channel, a.department, a.broadcasts) for a in accounts] == [
        ("telegram", Channel.TELEGRAM, None, True), ("transport", Channel.TELEGRAM, "transport", False),
        ("city-x", Channel.X, None, True), ("web", Channel.WEB, None, True)]
    transport = find_account(accounts, "transport")
    assert transport.credential("token") == "222:transport"
    assert transport.display_name == "Alderbrook Transport" and not transport.missing_credentials
    assert "222:transport" not in repr(transport)  # secrets stay out of logs
    assert find_account(accounts, "city-x").missing_credentials == ["X_TOKEN_SECRET"]
    assert [a.name for a in accounts_of(accounts, "telegram")] == ["telegram", "transport"]
    assert [a.name for a in broadcast_accounts(accounts, Channel.TELEGRAM)] == ["telegram"]
    assert default_account(accounts, "telegram").name == "telegram"
    assert default_account(accounts, "x").name == "city-x"  # none named "x": the channel's first
    assert resolve_account(accounts, "telegram", None).name == "telegram"  # rows from before accounts
    assert resolve_account(accounts, "telegram", "transport") is transport
    with pytest.raises(KeyError, match="is on x"):
        resolve_account(accounts, "telegram", "city-x")
    with pytest.raises(KeyError, match="transport"):
        find_account(accounts, "parks")


def test_without_a_file_each_channel_has_one_account_from_todays_settings(tmp_path):
    accounts = load_accounts(settings_with(tmp_path, None, telegram_bot_token="999:old", x_api_key="key"))
    assert [(a.name, a.channel) for a in accounts] == [("telegram", "telegram"), ("x", "x"), ("web", "web")]
    telegram, x, _ = accounts
    assert telegram.credential("token") == "999:old" and telegram.is_default
    assert x.missing_credentials == ["X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET"]


@pytest.mark.parametrize(("text", "message"), [
    ("accounts: []", "non-empty list"),
    ("accounts:\n  - {name: a, channel: telegram}\n  - {name: a, channel: x}", "two accounts are named 'a'"),
    ("accounts:\n  - {name: Transport Office, channel: telegram}", "name"),
    ("accounts:\n  - {name: a, channel: fax}", "channel"),
    ("accounts:\n  - {name: a, channel: telegram, credentials: {password: P}}", "unknown credential"),
    ("accounts:\n  - {name: a, channel: telegram, colour: red}", "colour"),
    ("accounts: [", "not valid YAML"),
])
def test_a_wrong_file_is_refused_with_the_reason(tmp_path, text, message):
    with pytest.raises(AccountsError, match=message):
        load_accounts(settings_with(tmp_path, text), environ={})


def test_conversation_ids_stay_unique_across_accounts_and_keep_the_old_form_for_the_default():
    assert conversation_id_for("telegram", 5) == "tg-5" == conversation_id_for("telegram", 5, "telegram")
    assert conversation_id_for("telegram", 5, "transport") == "tg-5@transport"
    assert conversation_id_for("telegram", -1005, "transport") == "tg--1005@transport"
    assert platform_conversation_of("tg--1005@transport", "telegram") == "-1005"
    assert platform_conversation_of("x-42", "x") == "42"
    assert account_suffix_of("tg-5@transport") == "transport" and account_suffix_of("tg-5") is None
    with pytest.raises(ValueError, match="not a x conversation"):
        platform_conversation_of("tg-5", "x")
