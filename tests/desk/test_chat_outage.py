"""The web chat while the assistant is down: every message kept, answered once, later, through /updates, in order.

A desk app in-process on a local stand-in of Rasa's REST channel (tests/desk/conftest.py: desk_without_rasa); its
resume worker runs in the app's lifespan as in production.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app


@pytest.fixture(scope="module")
def client(desk_without_rasa):
    with TestClient(create_app(desk_without_rasa)) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def assistant_up(rasa):
    rasa.down = False
    rasa.script.clear()
    yield


def post(client, sender: str, message_id: str, text: str) -> list[dict]:
    response = client.post("/api/chat", json={"sender": sender, "message": text, "message_id": message_id})
    assert response.status_code == 200, response.text
    return response.json()


def updates(client, sender: str, timeout_s: float = 15.0) -> list[dict]:
    """What the page's poll shows, waiting (as the page does) until something arrives."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get("/api/chat/updates", params={"sender": sender})
        assert response.status_code == 200
        if response.json():
            return response.json()
        time.sleep(0.3)
    return []


def test_a_message_sent_while_the_assistant_is_down_is_answered_through_updates_once(client, rasa):
    rasa.down = True
    [note] = post(client, "web-a", "a1", "is the pool open?")
    assert note["pending"] is True and note["message_id"] == "a1"
    rasa.down = False
    [answer] = updates(client, "web-a")
    assert (answer["text"], answer["message_id"], answer["author"], answer["pending"]) == (
        "You said: is the pool open?", "a1", "bot", False)
    assert updates(client, "web-a", timeout_s=4) == []  # handed out once
    assert [m["message"] for m in rasa.received].count("is the pool open?") == 1


@pytest.mark.parametrize("failure", ["no reply", "desk unavailable"])
def test_an_answer_without_replies_or_saying_the_desk_is_down_is_not_an_answer(client, rasa, failure):
    """Rasa answers 200 without replies when its action server is down, and the actions say the desk is down."""
    sender = f"web-{failure.replace(' ', '-')}"
    rasa.script["when is bulk pickup?"] = [] if failure == "no reply" else [
        {"text": "Sorry, I can't look that up right now."}, {"custom": {"citydesk": {"unavailable": "desk"}}}]
    [note] = post(client, sender, f"b1-{sender}", "when is bulk pickup?")
    assert note["pending"] is True
    rasa.script.clear()
    [answer] = updates(client, sender)
    assert (answer["text"], answer["message_id"]) == ("You said: when is bulk pickup?", f"b1-{sender}")


def test_answers_keep_the_order_of_the_messages_after_an_outage(client, rasa):
    rasa.down = True
    assert post(client, "web-c", "c1", "first question here")[0]["pending"]
    assert post(client, "web-c", "c2", "second question here")[0]["pending"]  # waits behind c1
    rasa.down = False
    # the next message is answered after the two kept ones, whose answers come first in its response
    shown = post(client, "web-c", "c3", "third question here")
    assert [(r["message_id"], r["text"]) for r in shown] == [
        ("c1", "You said: first question here"), ("c2", "You said: second question here"),
        ("c3", "You said: third question here")]
    asked = [m["message"] for m in rasa.received if m["sender"] == "web-c"]
    assert asked == ["first question here", "second question here", "third question here"]
    assert updates(client, "web-c", timeout_s=4) == []


def test_a_retried_message_is_not_answered_again(client, rasa):
    first = post(client, "web-d", "d1", "where do I pay a parking fine?")
    again = post(client, "web-d", "d1", "where do I pay a parking fine?")
    assert [r["id"] for r in again] == [r["id"] for r in first]  # the same replies: the page shows them once
    assert [m["message"] for m in rasa.received if m["sender"] == "web-d"] == ["where do I pay a parking fine?"]


def test_an_answer_whose_response_was_lost_comes_again_to_a_page_that_says_what_it_has(client, rasa):
    rasa.down = True
    post(client, "web-e", "e1", "first message lost")
    rasa.down = False
    [answer] = updates(client, "web-e")  # without `after`: once (older pages)
    rasa.down = True
    post(client, "web-e", "e2", "second message lost")
    rasa.down = False
    deadline = time.monotonic() + 15
    lost: list[dict] = []
    while not lost and time.monotonic() < deadline:  # this response never reaches the page
        lost = client.get("/api/chat/updates", params={"sender": "web-e", "after": answer["id"]}).json()
        time.sleep(0.3)
    again = client.get("/api/chat/updates", params={"sender": "web-e", "after": answer["id"]}).json()
    assert [(r["message_id"], r["text"]) for r in again] == [("e2", "You said: second message lost")] == [
        (r["message_id"], r["text"]) for r in lost]
    assert client.get("/api/chat/updates", params={"sender": "web-e", "after": again[-1]["id"]}).json() == []
    # a POST says what the page has too: what it had not got comes first in the response
    shown = client.post("/api/chat", json={"sender": "web-e", "message": "third", "message_id": "e3",
                                           "after": answer["id"]}).json()
    assert [r["message_id"] for r in shown] == ["e2", "e3"]
