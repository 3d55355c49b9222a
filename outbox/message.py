"""What a channel's sender receives from the outbox: one message to deliver, with its buttons."""

from __future__ import annotations

from dataclasses import dataclass

from outbox.models import OutboxMessage


@dataclass(frozen=True)
class Button:
    title: str
    payload: str
    choice_id: int | None = None  # durable id (button_choices) for platforms that limit payload length


@dataclass(frozen=True)
class OutboundMessage:
    """One message to deliver, as the channel's sender receives it from the outbox."""

    id: int
    idempotency_key: str
    channel: str
    conversation_id: str
    text: str
    buttons: tuple[Button, ...] = ()
    reply_to: str | None = None
    public: bool = False
    case_id: int | None = None
    attempts: int = 0
    parts_delivered: int = 0  # parts of a split text already sent (a restart continues after them)
    platform_message_id: str | None = None  # the last part sent, for threading the next one
    account: str | None = None  # the city's account it leaves from; None: the channel's default


def outbound_of(row: OutboxMessage) -> OutboundMessage:
    """The sender's view of an outbox row."""
    return OutboundMessage(
        id=row.id, idempotency_key=row.idempotency_key, channel=row.channel, conversation_id=row.conversation_id,
        text=row.text, buttons=tuple(Button(b["title"], b["payload"], b.get("choice_id")) for b in row.buttons or []),
        reply_to=row.reply_to, public=bool(row.public), case_id=row.case_id, attempts=row.attempts or 0,
        parts_delivered=row.parts_delivered or 0, platform_message_id=row.platform_message_id, account=row.account)
