"""The action server's access to the desk: a conversation's token, for that conversation only (real HTTP)."""

from __future__ import annotations

import sqlite3

import httpx
import pytest

from desk.stack import ACTION_SERVER_WITHHELD, Stack, account_secrets, child_environment, environment_of, plan
from settings import DEMO_KB_FILE, Settings
from settings.secrets import conversation_of_token, conversation_token
from tests.support import free_port

REPORT = "the street light outside 14 elm st has been out for a week"
STAFF_ANSWER = "We fill it on Monday; call Maria Lopez at 555-0199 with questions."


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """The real desk process (no Rasa) with the demo knowledge base; conversation B has a case with a staff answer."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("tokens"), seed_kb_file=DEMO_KB_FILE, internal_token=None,
                        desk_port=free_port(), rasa_port=free_port(), action_port=free_port())
    with Stack(settings, components=("desk",), connectors=()) as running:
        internal = {"Authorization": f"Bearer {settings.resolved_internal_token}"}
        decision = httpx.post(f"{settings.desk_url}/api/messages", headers=internal, timeout=60,
                              json={"text": REPORT, "conversation_id": "web-b", "intent": "report_problem"})
        assert decision.status_code == 200 and decision.json()["route"] == "case", decision.text
        number = decision.json()["case"]["service_request_id"]
        with sqlite3.connect(settings.resolved_database_url.removeprefix("sqlite:///")) as db:
            db.execute("UPDATE cases SET state = 'answered', status_notes = ? WHERE service_request_id = ?",
                       (STAFF_ANSWER, number))
        running.case_number = number  # type: ignore[attr-defined]
        yield running


def call(desk: Stack, method: str, path: str, conversation: str | None, **kwargs) -> httpx.Response:
    token = desk.settings.conversation_token(conversation) if conversation else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{desk.settings.desk_url}{path}", headers=headers, timeout=60, **kwargs)


def test_a_conversations_token_reads_its_own_case_with_the_staff_answer(desk):
    response = call(desk, "GET", "/api/cases/status", "web-b", params={"conversation_id": "web-b"})
    assert response.status_code == 200
    [case] = response.json()
    assert (case["service_request_id"], case["status_notes"]) == (desk.case_number, STAFF_ANSWER)


def test_a_conversations_token_cannot_read_another_conversations_cases(desk):
    response = call(desk, "GET", "/api/cases/status", "web-a", params={"conversation_id": "web-b"})
    assert response.status_code == 403
    assert response.json() == {"detail": "This token speaks for another conversation."}
    assert STAFF_ANSWER not in response.text and desk.case_number not in response.text


def test_a_case_number_typed_in_another_conversation_gets_only_the_public_view(desk):
    response = call(desk, "GET", "/api/cases/status", "web-a",
                    params={"conversation_id": "web-a", "text": f"what about {desk.case_number}?"})
    assert response.status_code == 200
    [case] = response.json()
    assert case["service_request_id"] == desk.case_number
    assert "555-0199" not in case["status_notes"] and "[phone]" in case["status_notes"]  # redacted as in Open311


def test_a_conversations_token_cannot_open_cases_vote_or_choose_for_another_conversation(desk):
    cases_before = count_cases(desk)
    for path, body in (("/api/messages", {"text": REPORT, "conversation_id": "web-b"}),
                       ("/api/messages/choice", {"text": "x", "conversation_id": "web-b", "entry_id": "demo-0001"}),
                       ("/api/kb/feedback", {"entry_id": "demo-0001", "conversation_id": "web-b", "helpful": True})):
        response = call(desk, "POST", path, "web-a", json=body)
        assert response.status_code == 403, (path, response.text)
    assert count_cases(desk) == cases_before


def test_a_conversations_token_works_only_on_the_actions_endpoints(desk):
    response = call(desk, "GET", "/api/conversations/web-a/outcome", "web-a")
    assert response.status_code == 403
    assert "needs the internal token" in response.json()["detail"]


@pytest.mark.parametrize("token", [conversation_token("not-the-key", "web-b"), "c1.d2ViLWI.forged", "c1..", "garbage"])
def test_a_forged_token_is_refused(desk, token):
    response = httpx.get(f"{desk.settings.desk_url}/api/cases/status", params={"conversation_id": "web-b"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 401
    assert STAFF_ANSWER not in response.text


def test_the_token_names_its_conversation_and_only_the_key_makes_it():
    token = conversation_token("key", "tg-12345")
    assert conversation_of_token("key", token) == "tg-12345"
    assert conversation_of_token("other key", token) is None
    assert conversation_token("key", "tg-12345") != conversation_token("key", "tg-12346")


def test_the_action_server_is_started_bound_and_without_the_desks_secrets(tmp_path):
    settings = Settings(data_dir=tmp_path, internal_token="the-internal-token", action_token="the-action-token",
                        database_url=f"sqlite:///{tmp_path}/x.db")
    [actions] = plan(settings, ("actions",))
    assert actions.command[1:] == ["-m", "bot.actions.server", "--host", "127.0.0.1",
                                   "--port", str(settings.action_port)]
    env = environment_of(actions, child_environment(settings))
    assert env["CITYDESK_ACTION_TOKEN"] == "the-action-token"
    assert not set(ACTION_SERVER_WITHHELD) & set(env)
    assert "the-internal-token" not in env.values()
    rasa_env = child_environment(settings)
    assert rasa_env["CITYDESK_ACTION_TOKEN"] == "the-action-token"
    assert rasa_env["SANIC_REQUEST_MAX_SIZE"] == str(settings.rasa_max_body_bytes)


def count_cases(desk: Stack) -> int:
    with sqlite3.connect(desk.settings.resolved_database_url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT count(*) FROM cases").fetchone()[0]


def test_the_desks_access_log_keeps_no_query_strings(desk):
    """The case-status question travels in the query string (what the citizen wrote): it stays out of the log."""
    call(desk, "GET", "/api/cases/status", "web-a", params={"conversation_id": "web-a", "text": "my secret words"})
    log = (desk.settings.data_dir / "logs" / "desk.log").read_text()
    assert "GET /api/cases/status?… HTTP/1.1" in log
    assert "secret" not in log and "conversation_id=" not in log


def test_the_action_server_gets_none_of_the_accounts_credentials(tmp_path, monkeypatch):
    (tmp_path / "accounts.yml").write_text(
        "accounts:\n  - {name: transport, channel: telegram, credentials: {token: TG_TRANSPORT_TOKEN}}\n",
        encoding="utf-8")
    monkeypatch.setenv("TG_TRANSPORT_TOKEN", "222:secret")
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/x.db",
                        accounts_file=tmp_path / "accounts.yml")
    stack = Stack(settings, components=("actions", "desk"), connectors=())
    [actions, desk] = stack.processes
    env = child_environment(settings)
    assert env["TG_TRANSPORT_TOKEN"] == "222:secret" and env["CITYDESK_ACCOUNTS_FILE"].endswith("accounts.yml")
    assert "TG_TRANSPORT_TOKEN" not in environment_of(actions, env, account_secrets(settings))
    assert environment_of(desk, env, account_secrets(settings))["TG_TRANSPORT_TOKEN"] == "222:secret"
