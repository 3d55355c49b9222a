"""The connectors `citydesk serve` may start, and why one is skipped (its token or credentials are not set)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from accounts import AccountsError, Channel, accounts_of, load_accounts
from settings import Settings


@dataclass(frozen=True)
class ConnectorSpec:
    name: str  # `citydesk connector <name>`
    missing: Callable[[Settings], str | None]  # why it cannot run with these settings; None: it runs


def _unset(settings: Settings, *fields: str) -> list[str]:
    names = []
    for name in fields:
        value = getattr(settings, name)
        if value is None or not (value.get_secret_value() if hasattr(value, "get_secret_value") else value):
            names.append(name.upper())
    return names


def _accounts_missing(settings: Settings, channel: Channel) -> str | None:
    """Why no account of `channel` can run: none listed, or each lacks a credential; None when one can."""
    try:
        accounts = accounts_of(load_accounts(settings), channel)
    except AccountsError as error:
        return str(error)
    if not accounts:
        return f"the accounts file lists no {channel} account"
    if any(not account.missing_credentials for account in accounts):
        return None
    return "; ".join(f"{', '.join(a.missing_credentials)} {'is' if len(a.missing_credentials) == 1 else 'are'} not set"
                     + ("" if a.is_default and len(accounts) == 1 else f" (account {a.name})") for a in accounts)


def telegram_missing(settings: Settings) -> str | None:
    if missing := _accounts_missing(settings, Channel.TELEGRAM):
        return missing
    if settings.telegram_webhook_url and _unset(settings, "telegram_webhook_secret"):
        return "TELEGRAM_WEBHOOK_URL is set without TELEGRAM_WEBHOOK_SECRET"
    return None


def x_missing(settings: Settings) -> str | None:
    return _accounts_missing(settings, Channel.X)


CONNECTORS: list[ConnectorSpec] = [ConnectorSpec("telegram", telegram_missing), ConnectorSpec("x", x_missing)]


def plan_connectors(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """The connectors to start, and the skipped ones with the reason."""
    started, skipped = [], {}
    for spec in CONNECTORS:
        reason = spec.missing(settings)
        if reason is None:
            started.append(spec.name)
        else:
            skipped[spec.name] = reason
    return started, skipped
