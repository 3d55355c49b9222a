"""Read the accounts file, or make the zero-configuration accounts from today's settings."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values
from pydantic import SecretStr, ValidationError

from accounts.model import CREDENTIALS, Account, Channel
from settings import PROJECT_ROOT, Settings

ENV_FILE = PROJECT_ROOT / ".env"  # the settings' own .env file: credentials may live there too


class AccountsError(ValueError):
    """The accounts file cannot be used, with the reason (and the account it concerns)."""


def load_accounts(settings: Settings, *, environ: Mapping[str, str] | None = None) -> list[Account]:
    """The city's accounts: from `settings.accounts_file` when set, else one per channel from the settings.

    `environ`: where the credentials' variables are read (default: the process environment over the .env file).
    """
    if settings.accounts_file is None:
        return default_accounts(settings)
    if environ is None:
        environ = {**{k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}, **os.environ}
    return read_accounts_file(settings.accounts_file, environ)


def default_accounts(settings: Settings) -> list[Account]:
    """One account per channel, named after it, with today's settings' credentials."""

    def secret(value: SecretStr | str | None) -> SecretStr | None:
        if value is None:
            return None
        return value if isinstance(value, SecretStr) else SecretStr(value)

    telegram = {"token": ("TELEGRAM_BOT_TOKEN", secret(settings.telegram_bot_token)),
                "webhook_secret": ("TELEGRAM_WEBHOOK_SECRET", secret(settings.telegram_webhook_secret))}
    x = {"api_key": ("X_API_KEY", secret(settings.x_api_key)),
         "api_secret": ("X_API_SECRET", secret(settings.x_api_secret)),
         "access_token": ("X_ACCESS_TOKEN", secret(settings.x_access_token)),
         "access_token_secret": ("X_ACCESS_TOKEN_SECRET", secret(settings.x_access_token_secret)),
         "bearer_token": ("X_BEARER_TOKEN", secret(settings.x_bearer_token)),
         "user_id": ("X_ACCOUNT_ID", secret(settings.x_account_id))}
    city = settings.city_name
    made: list[Account] = []
    for channel, display, credentials in ((Channel.TELEGRAM, f"{city} on Telegram", telegram),
                                          (Channel.X, f"{city} on X", x), (Channel.WEB, f"{city} web chat", {})):
        made.append(Account(
            name=channel.value, channel=channel, display_name=display,
            credentials={key: value for key, (_, value) in credentials.items() if value is not None},
            credential_env={key: env for key, (env, _) in credentials.items()}))
    return made


def read_accounts_file(path: Path, environ: Mapping[str, str]) -> list[Account]:
    """The accounts of a YAML file: `accounts:` a list of {name, channel, display_name, credentials: {key: ENV_NAME},
    department, broadcasts, broadcast_chat}."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AccountsError(f"cannot read the accounts file {path}: {error}") from None
    except yaml.YAMLError as error:
        raise AccountsError(f"the accounts file {path} is not valid YAML: {error}") from None
    entries = document.get("accounts") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise AccountsError(f"the accounts file {path} needs a non-empty list `accounts:`")
    accounts = [_account_of(entry, index, environ, path) for index, entry in enumerate(entries, start=1)]
    seen: set[str] = set()
    for account in accounts:
        if account.name in seen:
            raise AccountsError(f"{path}: two accounts are named {account.name!r}; names must be unique")
        seen.add(account.name)
    return accounts


def _account_of(entry: Any, index: int, environ: Mapping[str, str], path: Path) -> Account:
    if not isinstance(entry, dict):
        raise AccountsError(f"{path}: account {index} is not a mapping")
    label = f"{path}: account {entry.get('name', index)!r}"
    env_names = entry.get("credentials") or {}
    if not isinstance(env_names, dict) or not all(isinstance(v, str) for v in env_names.values()):
        raise AccountsError(f"{label}: `credentials` maps each credential to the environment variable holding it, "
                            "e.g. {token: TELEGRAM_TRANSPORT_TOKEN}")
    channel = entry.get("channel")
    if channel in {c.value for c in Channel}:
        required, optional = CREDENTIALS[Channel(channel)]
        if unknown := sorted(set(env_names) - set(required) - set(optional)):
            raise AccountsError(f"{label}: unknown credential(s) {', '.join(unknown)} for {channel}; it takes "
                                f"{', '.join((*required, *optional)) or 'none'}")
    fields = {**entry, "credential_env": dict(env_names),
              "credentials": {key: SecretStr(environ[env]) for key, env in env_names.items() if environ.get(env)}}
    fields.setdefault("display_name", entry.get("name"))
    try:
        return Account.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise AccountsError(f"{label}: {problems}") from None


def accounts_of(accounts: Sequence[Account], channel: Channel | str) -> list[Account]:
    """The accounts of one channel, in the file's order."""
    return [account for account in accounts if account.channel == channel]


def broadcast_accounts(accounts: Sequence[Account], channel: Channel | str | None = None) -> list[Account]:
    """The accounts that carry broadcasts (of one channel)."""
    return [a for a in accounts if a.broadcasts and (channel is None or a.channel == channel)]


def find_account(accounts: Sequence[Account], name: str) -> Account:
    """The account named `name`; KeyError names the known ones."""
    for account in accounts:
        if account.name == name:
            return account
    raise KeyError(f"no account {name!r}; the accounts are {', '.join(a.name for a in accounts) or 'none'}")


def default_account(accounts: Sequence[Account], channel: Channel | str) -> Account | None:
    """The channel's default account: the one named after the channel, else its first; None when it has none.
    Rows written before accounts (account NULL) belong to it."""
    of_channel = accounts_of(accounts, channel)
    return next((a for a in of_channel if a.is_default), of_channel[0] if of_channel else None)


def resolve_account(accounts: Sequence[Account], channel: Channel | str, name: str | None) -> Account:
    """The account of a row (its `account` column, None for rows from before accounts) on `channel`."""
    if name is None:
        account = default_account(accounts, channel)
        if account is None:
            raise KeyError(f"no {channel} account")
        return account
    account = find_account(accounts, name)
    if account.channel != channel:
        raise KeyError(f"account {name!r} is on {account.channel}, not {channel}")
    return account
