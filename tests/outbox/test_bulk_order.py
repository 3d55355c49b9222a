"""Bulk messages (an alert to thousands) are claimed after the channel's other due messages."""

from __future__ import annotations

from datetime import UTC, datetime

from outbox import store


def test_an_answer_queued_after_a_broadcast_is_claimed_first(sessions):
    now = datetime.now(UTC)
    with sessions.begin() as session:
        for n in range(3):
            store.enqueue(session, key=f"{store.BULK_PREFIX}bc1:telegram:tg-{n}", channel="telegram",
                          conversation_id=f"tg-{n}", text="Flood warning", now=now)
        store.enqueue(session, key="in-7-0", channel="telegram", conversation_id="tg-99", text="Your answer", now=now)
    first = store.due(sessions, "telegram", now, limit=2)
    assert [m.conversation_id for m in first] == ["tg-99", "tg-0"]
    assert [m.conversation_id for m in store.due(sessions, "telegram", now, limit=10)] == ["tg-99", "tg-0", "tg-1",
                                                                                           "tg-2"]
