"""A full name written without a cue never reaches the public, on any surface that publishes text (issue 15).

Each test goes through the desk's own app (its one redactor, built by build_redactor at start-up): the disclosure
page and its exports, Open311's GETs, and the knowledge base's learned phrasings. The names are written as citizens
write them: a signature with no "my name is", a name at the start of the message, a neighbour named in passing.
"""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from handoff.service import Actor
from settings import DEMO_KB_FILE, Settings
from tests.support import free_port

NAMES = ("Dana Whitfield", "Whitfield", "Maria Gonzalez", "Gonzalez", "Brandon Keller", "Keller")


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # Published at once (no delay); a phrasing confirmed once is learned, so that what is learned can be read.
    settings = Settings(data_dir=tmp_path_factory.mktemp("names"), seed_kb_file=DEMO_KB_FILE, rasa_port=free_port(),
                        disclosure_delay_hours=0, phrasing_auto_approve_after=1)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def internal(client) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.app.state.settings.resolved_internal_token}"}


def assert_no_name(text: str) -> None:
    for name in NAMES:
        assert name not in text, (name, text)


@pytest.fixture(scope="module")
def chatted(client) -> str:
    """A web chat message signed with a full name, and another naming a neighbour, while the assistant is away:
    recorded (and so published) all the same."""
    for n, message in enumerate(("The streetlight on Cedar Ave has been out for a week. Thanks, Maria Gonzalez",
                                 "Dana Whitfield here, the dog that belongs to Brandon Keller barks all night")):
        client.post("/api/chat", json={"sender": "web-names", "message": message, "message_id": f"names-{n}"})
    return "web-names"


def test_the_disclosure_page_and_exports_publish_no_cue_less_name(client, chatted):
    page = client.get("/disclosure")
    assert page.status_code == 200
    link = next(part.split('"')[0] for part in page.text.split('href="/disclosure/')[1:]
                if not part.startswith(("?", '"')))
    conversation = client.get(f"/disclosure/{link}")
    exported_json = client.get("/api/disclosure/conversations.json")
    exported_csv = client.get("/api/disclosure/conversations.csv")
    assert (conversation.status_code, exported_json.status_code, exported_csv.status_code) == (200, 200, 200)
    texts = [m["text"] for c in exported_json.json()["conversations"] for m in c["messages"]]
    assert "The streetlight on Cedar Ave has been out for a week. Thanks, [name]" in texts
    assert "[name] here, the dog that belongs to [name] barks all night" in texts
    rows = list(csv.DictReader(io.StringIO(exported_csv.text)))
    assert {r["text"] for r in rows} >= {"[name] here, the dog that belongs to [name] barks all night"}
    for body in (page.text, conversation.text, exported_json.text, exported_csv.text):
        assert_no_name(body)
    assert "[name]" in conversation.text
    # nor can the public find the conversation by the name (the search box shows what was typed, nothing else)
    assert "barks all night" not in client.get("/disclosure", params={"q": "Whitfield"}).text
    assert client.get("/api/disclosure/conversations.json", params={"q": "Whitfield"}).json()["conversations"] == []


def test_open311_gets_publish_no_cue_less_name(client, internal):
    """Requests, one request, the updates (JSON and XML): the filer's and the officer's words, redacted."""
    decided = client.post("/api/messages", headers=internal, json={
        "text": "Dana Whitfield here, there is a deep pothole on Cedar Ave near the school",
        "conversation_id": "web-pothole", "intent": "report_problem"})
    assert decided.status_code == 200, decided.text
    number = decided.json()["case"]["service_request_id"]
    client.app.state.cases.reply(service_request_id=number, actor=Actor("rosa", role="staff",
                                                                         department="public-works"),
                                 text="Spoke with Brandon Keller next door: a crew comes on Tuesday.")
    one = client.get(f"/open311/v2/requests/{number}.json")
    listed = client.get("/open311/v2/requests.json")
    assert (one.status_code, listed.status_code) == (200, 200)
    [body] = one.json()
    assert body["description"] == "[name] here, there is a deep pothole on Cedar Ave near the school"
    assert body["status_notes"] == "Spoke with [name] next door: a crew comes on Tuesday."
    updates = client.get("/open311/v2/servicerequestupdates.json")
    as_xml = client.get("/open311/v2/requests.xml")
    assert (updates.status_code, as_xml.status_code) == (200, 200)
    assert "Spoke with [name] next door: a crew comes on Tuesday." in updates.text
    for body in (one.text, listed.text, updates.text, as_xml.text):
        assert_no_name(body)


def test_a_learned_phrasing_keeps_no_cue_less_name(client, internal):
    """A question confirmed by a "Yes" becomes a phrasing of the published entry: redacted before it is kept."""
    question = "Maria Gonzalez here, what day is bulky trash picked up?"
    decided = client.post("/api/messages", headers=internal, json={"text": question,
                                                                   "conversation_id": "web-bulky"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["route"] == "answer", decided.json()
    entry_id = decided.json()["answer"]["id"]
    vote = client.post("/api/kb/feedback", headers=internal, json={"entry_id": entry_id,
                                                                   "conversation_id": "web-bulky", "helpful": True})
    assert vote.status_code == 201, vote.text
    learned = client.get(f"/api/kb/entries/{entry_id}", headers=internal)  # as an editor reads it
    assert learned.status_code == 200, learned.text
    phrasings = learned.json()["entry"]["alt_questions"]
    assert "[name] here, what day is bulky trash picked up?" in phrasings
    assert_no_name(learned.text)
