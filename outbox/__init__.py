"""The one outbox for everything that leaves the desk: chat replies, staff answers, e-mail notices.

Owners queue rows in their own transaction (`store.enqueue`); each channel's sender claims its due rows, delivers
them with retries (`sender.OutboxSender`) and marks what the receiving server accepted. States: OutboxState.
"""

from outbox.message import Button, OutboundMessage, outbound_of
from outbox.models import OutboxMessage, OutboxState

__all__ = ["Button", "OutboundMessage", "OutboxMessage", "OutboxState", "outbound_of"]
