"""The internal API (messages, case status, conversation outcomes): only callers with the internal token."""

from __future__ import annotations

import json
import stat

import pytest
from fastapi.testclient import TestClient

from desk.api.conversations import NO_DECISION_REASON
from desk.api.internal_auth import MISSING, WRONG
from desk.app import create_app
from settings import DEMO_KB_FILE, Settings
from settings.secrets import load_or_create_secret, read_secret

DEMO = {e["id"]: e for e in map(json.loads, DEMO_KB_FILE.read_text().splitlines())}
POTHOLE = "There's a huge pothole on Main St near 5th, nearly wrecked my bike"
INTERNAL_CALLS = [
    ("POST", "/api/messages", {"json": {"text": POTHOLE, "conversation_id": "web-auth-check"}}),
    ("GET", "/api/cases/status", {"params": {"conversation_id": "web-auth-check"}}),
    ("GET", "/api/conversations/web-auth-check/outcome", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), INTERNAL_CALLS)
def test_an_internal_endpoint_without_a_token_is_refused_with_a_clear_401(client, method, path, kwargs):
    response = client.request(method, path, **kwargs)
    assert response.status_code == 401
    assert response.json() == {"detail": MISSING}
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path", "kwargs"), INTERNAL_CALLS)
def test_an_internal_endpoint_with_a_wrong_token_is_refused_with_a_clear_401(client, method, path, kwargs):
    for header in ("Bearer not-the-token", "Basic dXNlcjpwYXNz", "Bearer "):
        response = client.request(method, path, headers={"Authorization": header}, **kwargs)
        assert response.status_code == 401, header
        assert response.json() == {"detail": WRONG if header == "Bearer not-the-token" else MISSING}, header


def test_a_refused_message_opens_no_case_and_records_nothing(client, desk_settings, internal):
    sender = "web-refused"
    refused = client.post("/api/messages", json={"text": POTHOLE, "conversation_id": sender},
                          headers={"Authorization": "Bearer wrong"})
    assert refused.status_code == 401
    assert client.get("/api/cases/status", params={"conversation_id": sender}, headers=internal).json() == []
    assert client.get(f"/api/conversations/{sender}/outcome", headers=internal).json()["decisions"] == 0


def test_knowledge_base_search_stays_public(client):
    response = client.post("/api/kb/search", json={"text": "how do i get a library card"})
    assert response.status_code == 200
    assert response.json()["answer"]["id"] == "demo-0054"


def test_the_token_is_generated_once_into_the_data_folder_readable_only_by_its_owner(client, desk_settings):
    path = desk_settings.data_dir / "internal_token"
    assert path.read_text().strip() == desk_settings.resolved_internal_token
    assert len(desk_settings.resolved_internal_token) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = Settings(data_dir=desk_settings.data_dir, internal_token=None)
    assert again.resolved_internal_token == desk_settings.resolved_internal_token


def test_the_internal_token_setting_wins_over_the_file(tmp_path):
    settings = Settings(data_dir=tmp_path, internal_token="from-the-environment", seed_kb_file=DEMO_KB_FILE)
    assert settings.resolved_internal_token == "from-the-environment"
    assert not (tmp_path / "internal_token").exists()


def test_load_or_create_secret_keeps_the_first_secret(tmp_path):
    path = tmp_path / "nested" / "session_key"
    assert read_secret(path) is None
    first = load_or_create_secret(path)
    assert load_or_create_secret(path) == first
    assert read_secret(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["session_key"]


def test_the_outcome_of_a_hand_off_names_the_case_department_and_class(client, internal):
    sender = "web-outcome-case"
    decided = client.post("/api/messages", json={"text": POTHOLE, "conversation_id": sender,
                                                 "intent": "report_problem"}, headers=internal)
    assert decided.status_code == 200
    number = decided.json()["case"]["service_request_id"]
    outcome = client.get(f"/api/conversations/{sender}/outcome", headers=internal)
    assert outcome.status_code == 200
    assert outcome.json() == {
        "conversation_id": sender, "route": "case", "reason": "intent report_problem", "entry_id": None,
        "confidence": outcome.json()["confidence"],
        "case": {"service_request_id": number, "department": "public-works", "department_name": "Public Works",
                 "sla": "simple", "is_emergency": False},
        "decisions": 1}


def test_the_outcome_of_an_answer_names_the_entry(client, internal):
    sender = "web-outcome-answer"
    client.post("/api/messages", json={"text": "how do I get a library card?", "conversation_id": sender,
                                       "intent": "ask_question"}, headers=internal)
    body = client.get(f"/api/conversations/{sender}/outcome", headers=internal).json()
    assert (body["route"], body["entry_id"], body["case"], body["decisions"]) == ("answer", "demo-0054", None, 1)
    assert body["confidence"] >= 0.6


def test_a_conversation_the_desk_never_decided_on_is_small_talk(client, internal):
    body = client.get("/api/conversations/web-only-said-hello/outcome", headers=internal).json()
    assert body == {"conversation_id": "web-only-said-hello", "route": "smalltalk", "reason": NO_DECISION_REASON,
                    "entry_id": None, "confidence": None, "case": None, "decisions": 0}


def test_the_desk_started_alone_creates_its_token_at_start(tmp_path):
    settings = Settings(data_dir=tmp_path, seed_kb_file=None, internal_token=None)
    with TestClient(create_app(settings)):
        assert read_secret(tmp_path / "internal_token") == settings.resolved_internal_token
