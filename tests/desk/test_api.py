"""The desk's HTTP API, with the real model and the demo knowledge base on a temporary SQLite file."""

from __future__ import annotations

import json

from desk.api.chat import MAX_MESSAGE_CHARS
from knowledge_base.service import MAX_QUERY_CHARS
from settings import DEMO_KB_FILE

DEMO_ENTRY_COUNT = sum(1 for line in DEMO_KB_FILE.read_text().splitlines() if line.strip())
DEMO = {e["id"]: e for e in map(json.loads, DEMO_KB_FILE.read_text().splitlines())}


def test_health_reports_the_seeded_demo_knowledge_base(client, desk_settings):
    response = client.get("/health")
    assert response.status_code == 200
    # no explicit threshold in the settings: the one calibrated on the demo knowledge base
    assert desk_settings.answer_threshold is None
    knowledge_base = client.app.state.knowledge_base
    assert knowledge_base.calibration is not None
    assert response.json() == {"status": "ok", "entries": DEMO_ENTRY_COUNT,
                               "entries_by_state": {"draft": 0, "published": DEMO_ENTRY_COUNT, "retired": 0},
                               "answer_threshold": knowledge_base.calibration.threshold}


def test_health_counts_only_published_entries_as_answering(tmp_path):
    from fastapi.testclient import TestClient

    from desk.app import create_app
    from knowledge_base.editor import EntryEditor
    from settings import Settings
    from tests.conftest import write_jsonl
    from tests.knowledge_base.conftest import SMALL_ENTRIES
    from tests.support import free_port

    seed = write_jsonl(tmp_path / "seed.jsonl", [e.model_dump(mode="json") for e in SMALL_ENTRIES])
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", seed_kb_file=seed, answer_threshold=0.6,
                                        rasa_port=free_port()))) as client:
        editor = EntryEditor(client.app.state.knowledge_base)
        editor.retire("t-dog", editor="eddie", note="no longer")
        editor.save(SMALL_ENTRIES[0].model_copy(update={"id": "t-new"}), editor="eddie", note="a draft")
        editor.save(SMALL_ENTRIES[1].model_copy(update={"answer": "Edited."}), editor="eddie", note="waits")
        body = client.get("/health").json()
    # the edited entry's published version still answers while its draft waits
    assert (body["entries"], body["entries_by_state"]) == (len(SMALL_ENTRIES) - 1,
                                                          {"draft": 1, "published": 4, "retired": 1})


def test_search_answers_a_demo_question_with_its_entry(client):
    entry = next(e for e in DEMO.values() if "library card" in e["question"].lower())
    response = client.post("/api/kb/search", json={"text": entry["question"]})
    assert response.status_code == 200
    body = response.json()
    assert body["answer"]["id"] == entry["id"]
    assert body["answer"]["answer"] == entry["answer"]
    assert body["answer"]["url"] == entry["url"]
    assert body["answer"]["department"] == entry["department"]
    assert body["answer"]["confidence"] >= body["threshold"]
    assert body["results"][0] == body["answer"]
    assert len(body["results"]) == 5


def test_search_does_not_answer_an_off_topic_question(client):
    body = client.post("/api/kb/search", json={"text": "who won the champions league final?"}).json()
    assert body["answer"] is None
    assert all(hit["confidence"] < body["threshold"] for hit in body["results"][:1])


def test_search_filters_by_department_and_limits_results(client):
    body = client.post("/api/kb/search", json={"text": "how much does it cost", "top_k": 3,
                                               "department": "Parking Services"}).json()
    assert len(body["results"]) == 3
    assert {hit["department"] for hit in body["results"]} == {"Parking Services"}


def test_search_rejects_empty_and_oversized_text_with_a_clear_error(client):
    empty = client.post("/api/kb/search", json={"text": "   "})
    assert empty.status_code == 422
    assert "text is empty" in empty.text
    huge = client.post("/api/kb/search", json={"text": "a" * (MAX_QUERY_CHARS + 1)})
    assert huge.status_code == 422
    assert "at most" in huge.text
    broken = client.post("/api/kb/search", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422


def test_chat_page_is_served(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Ask Alderbrook" in response.text
    assert "/static/chat.js" in response.text
    assert client.get("/static/chat.js").status_code == 200


def test_chat_says_clearly_when_the_assistant_is_down_and_keeps_the_message(client):
    response = client.post("/api/chat", json={"sender": "web-test", "message": "hello", "message_id": "m-down"})
    assert response.status_code == 200
    [note] = response.json()
    assert note["pending"] is True and note["message_id"] == "m-down" and note["id"] is None
    assert note["text"].startswith("Thank you, your message is received.")
    from connectors.models import InboundRecord

    with client.app.state.cases._sessions() as session:
        from sqlalchemy import select

        record = session.scalar(select(InboundRecord).where(InboundRecord.platform_message_id == "m-down"))
        assert (record.conversation_id, record.text, record.state) == ("web-test", "hello", "recorded")


def test_chat_answers_empty_and_too_long_messages_clearly_and_refuses_bad_requests(client):
    from connectors import replies

    # another conversation than the one whose message waits for the assistant (answers keep the messages' order)
    empty = client.post("/api/chat", json={"sender": "web-test-empty", "message": "  "})
    assert empty.status_code == 200
    [reply] = empty.json()
    assert (reply["text"], reply["buttons"], reply["author"], reply["pending"]) == (replies.EMPTY, [], "bot", False)
    too_long = client.post("/api/chat", json={"sender": "web-test-empty", "message": "x" * 20_000})
    assert too_long.status_code == 200
    assert too_long.json()[0]["text"] == replies.TOO_LONG.format(length=20_000, limit=MAX_MESSAGE_CHARS)
    assert client.post("/api/chat", json={"sender": "web-test", "message": "x" * 50_001}).status_code == 422
    assert client.post("/api/chat", json={"sender": "../etc", "message": "hi"}).status_code == 422


def test_restart_keeps_edits_instead_of_seeding_again(client, desk_settings):
    """The seed file is loaded only into an empty knowledge base: a restart never overwrites edits."""
    from fastapi.testclient import TestClient

    from desk.app import create_app

    kb = client.app.state.knowledge_base
    edited = kb.store.get("demo-0001").model_copy(update={"answer": "Edited by an editor."})
    kb.import_entries([edited])
    with TestClient(create_app(desk_settings)) as again:
        body = again.post("/api/kb/search", json={"text": edited.question}).json()
        assert body["answer"]["id"] == "demo-0001"
        assert body["answer"]["answer"] == "Edited by an editor."
        assert again.get("/health").json()["entries"] == DEMO_ENTRY_COUNT
