"""The one internal message type every connector translates its platform's messages into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from accounts import conversation_id_for
from accounts.conversations import CHANNEL_PREFIXES, SEPARATOR

Kind = Literal["text", "photo", "sticker", "voice", "location", "other"]
KINDS: tuple[str, ...] = ("text", "photo", "sticker", "voice", "location", "other")

__all__ = ["CHANNEL_PREFIXES", "KINDS", "InboundMessage", "Kind", "conversation_id_for", "platform_id_for"]


def platform_id_for(platform_message_id: str | int, account: str | None, channel: str) -> str:
    """A platform message id unique across the channel's accounts (two bots number their updates alike): the default
    account's as before, another's with "@<account>"."""
    return str(platform_message_id) if account is None or account == channel else \
        f"{platform_message_id}{SEPARATOR}{account}"


@dataclass(frozen=True)
class InboundMessage:
    """A citizen's message as it arrived, normalised; `raw` keeps a small part of the platform's message."""

    channel: str
    platform_message_id: str
    conversation_id: str
    sender_id: str
    text: str | None
    kind: Kind = "text"
    lat: float | None = None
    long: float | None = None
    reply_to: str | None = None  # the platform id of the post/message to answer to (X threads)
    public: bool = False  # True for public posts (X mentions): a reply is seen by everyone
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    is_button: bool = False  # the text is a button's payload (pressed, or a numbered choice)
    raw: dict[str, Any] = field(default_factory=dict)
    account: str | None = None  # the city's account written to; None: the channel's default

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown message kind {self.kind!r}; one of {', '.join(KINDS)}")
        if not self.platform_message_id or not self.conversation_id:
            raise ValueError("a message needs a platform message id and a conversation id")
