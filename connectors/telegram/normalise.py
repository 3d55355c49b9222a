"""Telegram updates → the internal message type (no business logic)."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Message, Update

from accounts import platform_conversation_of
from connectors.message import InboundMessage, Kind, conversation_id_for, platform_id_for

CHANNEL = "telegram"


def conversation_of(chat_id: int, account: str | None = None) -> str:
    """tg-<chat id> with the default account, tg-<chat id>@<account> with another (a chat per bot)."""
    return conversation_id_for(CHANNEL, chat_id, account)


def chat_of(conversation_id: str) -> int:
    """The chat id of a tg-<chat id>[@<account>] conversation."""
    return int(platform_conversation_of(conversation_id, CHANNEL))


def kind_of(message: Message) -> Kind:
    if message.text is not None:
        return "text"
    if message.location is not None or message.venue is not None:
        return "location"
    if message.photo:
        return "photo"
    if message.sticker is not None:
        return "sticker"
    if message.voice is not None or message.audio is not None or message.video_note is not None:
        return "voice"
    return "other"


def inbound_of(update: Update, *, button_payload: str | None = None,
               account: str | None = None) -> InboundMessage | None:
    """The citizen's message in `update` to the bot of `account`; None for updates that carry none (edits, the bot's
    own, ...). Each bot numbers its updates: another account's ids end with "@<account>".

    A pressed button (callback query) becomes a text message whose text is the button's payload.
    """
    if update.callback_query is not None:
        query = update.callback_query
        chat_id = query.message.chat.id if query.message else query.from_user.id
        return InboundMessage(channel=CHANNEL, platform_message_id=platform_id_for(f"cb-{query.id}", account, CHANNEL),
                              conversation_id=conversation_of(chat_id, account), sender_id=str(query.from_user.id),
                              text=button_payload if button_payload is not None else query.data,
                              kind="text", is_button=True, received_at=datetime.now(UTC),
                              raw={"callback_data": query.data}, account=account)
    message = update.message
    if message is None or message.chat.type != "private" or (message.from_user and message.from_user.is_bot):
        return None
    kind = kind_of(message)
    location = message.location or (message.venue.location if message.venue else None)
    return InboundMessage(
        channel=CHANNEL, platform_message_id=platform_id_for(update.update_id, account, CHANNEL),
        conversation_id=conversation_of(message.chat.id, account), account=account,
        sender_id=str(message.from_user.id if message.from_user else message.chat.id),
        text=message.text if kind == "text" else message.caption, kind=kind,
        lat=location.latitude if location else None, long=location.longitude if location else None,
        reply_to=str(message.message_id), public=False,
        received_at=message.date.astimezone(UTC) if message.date else datetime.now(UTC),
        raw={"message_id": message.message_id, "chat_id": message.chat.id})
