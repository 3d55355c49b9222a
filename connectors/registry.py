"""The connectors `citydesk serve` may start, and why one is skipped (its token or credentials are not set)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def telegram_missing(settings: Settings) -> str | None:
    if _unset(settings, "telegram_bot_token"):
        return "TELEGRAM_BOT_TOKEN is not set"
    if settings.telegram_webhook_url and _unset(settings, "telegram_webhook_secret"):
        return "TELEGRAM_WEBHOOK_URL is set without TELEGRAM_WEBHOOK_SECRET"
    return None


def x_missing(settings: Settings) -> str | None:
    from connectors.x.client import missing_credentials

    if missing := missing_credentials(settings):
        return f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set"
    return None


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
