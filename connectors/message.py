"""The one internal message type every connector translates its platform's messages into."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Kind = Literal["text", "photo", "sticker", "voice", "location", "other"]
KINDS: tuple[str, ...] = ("text", "photo", "sticker", "voice", "location", "other")
CHANNEL_PREFIXES = {"web": "web", "telegram": "tg", "x": "x"}


def conversation_id_for(channel: str, platform_conversation: str | int) -> str:
    """The conversation id of a platform chat/user: prefixed by the channel (web-, tg-, x-)."""
    return f"{CHANNEL_PREFIXES[channel]}-{platform_conversation}"


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

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown message kind {self.kind!r}; one of {', '.join(KINDS)}")
        if not self.platform_message_id or not self.conversation_id:
            raise ValueError("a message needs a platform message id and a conversation id")
