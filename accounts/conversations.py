"""Conversation ids: a chat with the default account keeps its old id ("tg-5"); with another account the id ends
with "@<account>" ("tg-5@transport"), so the same chat with two bots is two conversations."""

from __future__ import annotations

CHANNEL_PREFIXES = {"web": "web", "telegram": "tg", "x": "x"}
SEPARATOR = "@"


def conversation_id_for(channel: str, platform_conversation: str | int, account: str | None = None) -> str:
    """The conversation id of a platform chat/user on `account` (None or the channel's name: the default account)."""
    base = f"{CHANNEL_PREFIXES[channel]}-{platform_conversation}"
    return base if account is None or account == channel else f"{base}{SEPARATOR}{account}"


def platform_conversation_of(conversation_id: str, channel: str) -> str:
    """The platform's chat/user id in a conversation id of `channel` (without prefix and account)."""
    prefix = f"{CHANNEL_PREFIXES[channel]}-"
    if not conversation_id.startswith(prefix):
        raise ValueError(f"{conversation_id!r} is not a {channel} conversation")
    return conversation_id.removeprefix(prefix).partition(SEPARATOR)[0]


def account_suffix_of(conversation_id: str) -> str | None:
    """The account named in a conversation id; None for the default account's."""
    _, separator, account = conversation_id.partition(SEPARATOR)
    return account if separator else None
