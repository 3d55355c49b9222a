"""Outgoing messages in Telegram's shape: parts of at most 4096 characters, buttons as an inline keyboard."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from outbox.message import Button

MAX_MESSAGE_CHARS = 4096  # Telegram's limit for one text message
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
CHOICE_PREFIX = "#"  # callback_data "#<id>": a long payload kept durably in button_choices


def split_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Parts of at most `limit` characters, cut between paragraphs, else sentences, else words."""
    text = text.strip()
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit + 1]
        cut = _last_boundary(window, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _last_boundary(window: str, limit: int) -> int:
    for pattern in (r"\n\s*\n", r"(?<=[.!?])\s+", r"\n", r"\s+"):
        matches = [m for m in re.finditer(pattern, window) if 0 < m.start() <= limit]
        if matches and matches[-1].start() > limit // 4:  # never a tiny part because of an early boundary
            return matches[-1].start()
    return limit  # one unbroken word longer than a message


def callback_data(button: Button) -> str:
    """The payload itself when it fits Telegram's 64 bytes, else a durable short key."""
    if len(button.payload.encode()) <= MAX_CALLBACK_BYTES and not button.payload.startswith(CHOICE_PREFIX):
        return button.payload
    if button.choice_id is None:
        raise ValueError(f"button {button.title!r}: payload longer than 64 bytes and no stored choice")
    return f"{CHOICE_PREFIX}{button.choice_id}"


def choice_id_of(data: str) -> int | None:
    """The stored choice a callback_data names, if it is a short key."""
    if data.startswith(CHOICE_PREFIX) and data[1:].isdigit():
        return int(data[1:])
    return None


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """One button per row: titles such as "Did you mean …" are long."""
    if not buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.title[:64] or b.payload[:64], callback_data=callback_data(b))]
                                 for b in buttons])
