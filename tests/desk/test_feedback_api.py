"""POST /api/kb/feedback: the action server records 'was this helpful?' votes; one vote per conversation and entry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk.api.internal_auth import MISSING, WRONG
from knowledge_base.feedback import FeedbackRow, FeedbackStore

VOTE = {"entry_id": "demo-0001", "entry_version": 1, "conversation_id": "web-fb-1", "channel": None,
        "helpful": False}


@pytest.fixture
def feedback(client) -> FeedbackStore:
    return client.app.state.feedback


def test_a_vote_without_the_internal_token_is_refused_and_not_recorded(client, feedback):
    before = feedback.counts("demo-0001")
    missing = client.post("/api/kb/feedback", json=VOTE)
    wrong = client.post("/api/kb/feedback", json=VOTE, headers={"Authorization": "Bearer nope"})
    assert (missing.status_code, missing.json()) == (401, {"detail": MISSING})
    assert (wrong.status_code, wrong.json()) == (401, {"detail": WRONG})
    assert feedback.counts("demo-0001") == before


def test_a_vote_is_recorded_and_a_second_vote_in_the_conversation_replaces_it(client, internal, feedback):
    vote = {**VOTE, "entry_id": "demo-0002", "conversation_id": "web-replace"}
    first = client.post("/api/kb/feedback", json=vote, headers=internal)
    assert first.status_code == 201
    assert set(first.json()) == {"id"}
    counts = feedback.counts("demo-0002")
    assert (counts.helpful, counts.unhelpful) == (0, 1)
    second = client.post("/api/kb/feedback", json={**vote, "helpful": True}, headers=internal)
    assert second.status_code == 201
    assert second.json() == first.json()  # the same vote, changed
    counts = feedback.counts("demo-0002")
    assert (counts.helpful, counts.unhelpful) == (1, 0)
    other = client.post("/api/kb/feedback", json={**vote, "conversation_id": "tg-42"}, headers=internal)
    assert other.json()["id"] != first.json()["id"]
    counts = feedback.counts("demo-0002")
    assert (counts.helpful, counts.unhelpful, counts.total) == (1, 1, 2)


def test_the_channel_defaults_to_the_conversation_prefix(client, internal, feedback):
    client.post("/api/kb/feedback", json={**VOTE, "entry_id": "demo-0003", "conversation_id": "tg-777"},
                headers=internal)
    client.post("/api/kb/feedback", json={**VOTE, "entry_id": "demo-0003", "conversation_id": "web-778",
                                          "channel": "kiosk", "entry_version": None}, headers=internal)
    with feedback._sessions() as session:
        rows = session.execute(select(FeedbackRow.conversation_id, FeedbackRow.channel, FeedbackRow.entry_version)
                                .where(FeedbackRow.entry_id == "demo-0003").order_by(FeedbackRow.id)).all()
    assert [tuple(r) for r in rows] == [("tg-777", "telegram", 1), ("web-778", "kiosk", None)]


def test_a_vote_on_an_unknown_entry_is_404_and_not_recorded(client, internal, feedback):
    response = client.post("/api/kb/feedback", json={**VOTE, "entry_id": "no-such-entry"}, headers=internal)
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no knowledge base entry 'no-such-entry'."}
    assert feedback.counts("no-such-entry").total == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"helpful": "maybe"}, "helpful"), ({"helpful": None}, "helpful"), ({"conversation_id": ""}, "conversation_id"),
    ({"entry_id": ""}, "entry_id"), ({"entry_version": 0}, "entry_version"), ({"channel": "x" * 31}, "channel"),
    ({"extra": 1}, "extra"),
])
def test_bad_input_is_422_naming_the_field(client, internal, change, field):
    response = client.post("/api/kb/feedback", json={**VOTE, **change}, headers=internal)
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


def test_a_missing_field_is_422(client, internal):
    body = {k: v for k, v in VOTE.items() if k != "helpful"}
    response = client.post("/api/kb/feedback", json=body, headers=internal)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "helpful"]


def test_the_most_unhelpful_entries_come_first(sessions):
    store = FeedbackStore(sessions)
    votes = {"a": [False, False, True], "b": [False, False, False], "c": [True, True], "d": [False, True, True]}
    for entry_id, helpful in votes.items():
        for n, vote in enumerate(helpful):
            store.record(entry_id=entry_id, entry_version=None, conversation_id=f"web-{n}", channel="web",
                         helpful=vote)
    ranked = [(c.entry_id, c.helpful, c.unhelpful, round(c.unhelpful_share, 2)) for c in store.most_unhelpful()]
    assert ranked == [("b", 0, 3, 1.0), ("a", 1, 2, 0.67), ("d", 2, 1, 0.33)]
    assert store.counts("c").helpful == 2
    assert store.counts("c").last_vote is not None and store.counts("c").last_vote.tzinfo is not None
