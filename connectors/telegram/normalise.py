"""Telegram updates → the internal message type (no business logic)."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Message, Update

from connectors.message import InboundMessage, Kind, conversation_id_for

CHANNEL = "telegram"


def conversation_of(chat_id: int) -> str:
    return conversation_id_for(CHANNEL, chat_id)


def chat_of(conversation_id: str) -> int:
    """The chat id of a tg-<chat id> conversation."""
    prefix = conversation_id_for(CHANNEL, "")
    if not conversation_id.startswith(prefix):
        raise ValueError(f"{conversation_id!r} is not a Telegram conversation")
    return int(conversation_id.removeprefix(prefix))


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


def inbound_of(update: Update, *, button_payload: str | None = None) -> InboundMessage | None:
    """The citizen's message in `update`; None for updates that carry none (edits, the bot's own, ...).

    A pressed button (callback query) becomes a text message whose text is the button's payload.
    """
    if update.callback_query is not None:
        query = update.callback_query
        chat_id = query.message.chat.id if query.message else query.from_user.id
        return InboundMessage(channel=CHANNEL, platform_message_id=f"cb-{query.id}",
                              conversation_id=conversation_of(chat_id), sender_id=str(query.from_user.id),
                              text=button_payload if button_payload is not None else query.data,
                              kind="text", is_button=True, received_at=datetime.now(UTC),
                              raw={"callback_data": query.data})
    message = update.message
    if message is None or message.chat.type != "private" or (message.from_user and message.from_user.is_bot):
        return None
    kind = kind_of(message)
    location = message.location or (message.venue.location if message.venue else None)
    return InboundMessage(
        channel=CHANNEL, platform_message_id=str(update.update_id), conversation_id=conversation_of(message.chat.id),
        sender_id=str(message.from_user.id if message.from_user else message.chat.id),
        text=message.text if kind == "text" else message.caption, kind=kind,
        lat=location.latitude if location else None, long=location.longitude if location else None,
        reply_to=str(message.message_id), public=False,
        received_at=message.date.astimezone(UTC) if message.date else datetime.now(UTC),
        raw={"message_id": message.message_id, "chat_id": message.chat.id})
