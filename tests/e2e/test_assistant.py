"""The whole assistant as real processes: desk, action server and Rasa server, talking over HTTP."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
import uuid
from pathlib import Path

import httpx
import pytest

from desk.stack import Stack
from settings import DEMO_KB_FILE
from tests.transcripts.conftest import writer_for

pytestmark = pytest.mark.e2e

DEMO = {e["id"]: e for e in map(json.loads, DEMO_KB_FILE.read_text().splitlines())}
EMERGENCY_NUMBER = "911"


def ask(stack: Stack, text: str, sender: str | None = None) -> list[str]:
    """One message through Rasa's REST channel, with the conversation's desk token as the pipeline gives it; the
    texts of the replies (not the transcript metadata elements)."""
    sender = sender or f"e2e-{uuid.uuid4().hex[:8]}"
    response = httpx.post(f"{stack.settings.rasa_url}/webhooks/rest/webhook", timeout=60, json={
        "sender": sender, "message": text, "metadata": {"desk_token": stack.settings.conversation_token(sender)}})
    assert response.status_code == 200
    return [r.get("text") or "" for r in response.json() if "custom" not in r]


def all_answers() -> set[str]:
    return {e["answer"] for e in DEMO.values()}


def test_a_demo_question_gets_the_right_entrys_answer(stack):
    entry = next(e for e in DEMO.values() if "library card" in e["question"].lower())
    replies = ask(stack, "hi, how can i get a library card?")
    # each paragraph of a reply is its own message; "Was this helpful?" rides on the last one
    assert replies == [entry["answer"], f"More: {entry['url']}\nWas this helpful?"]


def test_an_off_topic_question_is_not_answered_from_the_knowledge_base(stack):
    replies = ask(stack, "can you recommend a good pizza place for tonight?")
    assert replies, "the assistant must reply"
    assert not any(answer in reply for reply in replies for answer in all_answers())


def test_a_greeting_is_answered(stack):
    replies = ask(stack, "hello there")
    assert len(replies) == 1
    assert "Alderbrook" in replies[0]


def test_an_emergency_gets_the_emergency_number(stack):
    replies = ask(stack, "help there is a fire in my neighbours kitchen and smoke everywhere")
    assert any(EMERGENCY_NUMBER in reply for reply in replies), replies


def test_the_web_chat_goes_through_the_desk_to_the_assistant(stack):
    entry = next(e for e in DEMO.values() if "library card" in e["question"].lower())
    response = httpx.post(f"{stack.settings.desk_url}/api/chat",
                          json={"sender": "web-e2e", "message": "How do I get a library card?"}, timeout=60)
    assert response.status_code == 200
    replies = response.json()
    assert [{"text": r["text"], "buttons": r["buttons"]} for r in replies] == [
        {"text": entry["answer"], "buttons": []},
        {"text": f"More: {entry['url']}\nWas this helpful?",
         "buttons": [{"title": "Yes", "payload": feedback_payload("true", entry["id"])},
                     {"title": "No", "payload": feedback_payload("false", entry["id"])}]}]
    # each reply's id (the page shows an id once), the message it answers (the server named it), not a note
    message_id = replies[0]["message_id"]
    assert message_id.startswith("srv-")
    assert [(r["author"], r["pending"], r["message_id"]) for r in replies] == [("bot", False, message_id)] * 2
    assert replies[1]["id"] > replies[0]["id"]


def feedback_payload(helpful: str, entry_id: str) -> str:
    """A "Was this helpful?" button's payload: the vote and the answer (entry, version 1) it is on."""
    return f'/feedback{{"helpful":{helpful},"kb_entry_id":"{entry_id}","kb_entry_version":1}}'


def test_every_message_is_kept_in_the_conversation_store(stack):
    sender = f"e2e-{uuid.uuid4().hex[:8]}"
    ask(stack, "good morning", sender=sender)
    database = stack.settings.resolved_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT type_name, data FROM events WHERE sender_id = ? ORDER BY id",
                                  (sender,)).fetchall()
    user_texts = [json.loads(data)["text"] for kind, data in rows if kind == "user"]
    assert user_texts == ["good morning"]
    assert any(kind == "bot" for kind, _ in rows)


def test_a_pothole_report_is_handed_off_answered_by_staff_and_followed_up(stack):
    """Hand-off end to end: case opened with a 3-hour deadline, staff reply in the inbox reaches the chat."""
    import re
    from datetime import timedelta

    from database import create_db_engine, session_factory
    from handoff.directory import load_directory
    from handoff.service import CaseDesk
    from handoff.staff import StaffAccounts

    sender = f"web-e2e-{uuid.uuid4().hex[:8]}"
    [reply] = ask(stack, "There's a huge pothole on Main St near 5th, nearly wrecked my bike", sender=sender)
    assert reply.startswith("I've passed this to Public Works as case CD-"), reply
    number = reply.split("as case ")[1].split(".")[0]

    sessions = session_factory(create_db_engine(stack.settings.resolved_database_url))
    directory = load_directory(stack.settings.directory_file)
    cases = CaseDesk(sessions, directory, stack.settings.city_timezone, transcript=writer_for(sessions))
    case = cases.get(number)
    assert (case.agency_responsible, case.sla, case.service_code) == ("public-works", "simple", "pothole")
    assert case.address == "Main St near 5th"
    assert case.expected_datetime - case.requested_datetime == timedelta(hours=3)

    # a Public Works officer answers in the staff inbox, over HTTP, as a person would
    StaffAccounts(sessions, directory).add(username="pw.officer", display_name="P. W. Officer",
                                           password="a long enough password", role="staff",
                                           department="public-works")
    csrf = re.compile(r'name="csrf_token" value="([^"]+)"')
    with httpx.Client(base_url=stack.settings.desk_url) as inbox:
        login_page = inbox.get("/inbox/login")
        logged_in = inbox.post("/inbox/login", data={
            "username": "pw.officer", "password": "a long enough password", "next": "/inbox",
            "csrf_token": csrf.search(login_page.text).group(1)})
        assert logged_in.status_code == 303
        case_page = inbox.get(f"/inbox/cases/{number}")
        assert case_page.status_code == 200
        sent = inbox.post(f"/inbox/cases/{number}/reply", data={
            "text": "A crew will fill it tomorrow morning.", "action": "send",
            "csrf_token": csrf.search(case_page.text).group(1)})
        assert sent.status_code == 303
    updates = httpx.get(f"{stack.settings.desk_url}/api/chat/updates", params={"sender": sender}).json()
    assert [u["text"] for u in updates] == [f"{number}: A crew will fill it tomorrow morning."]
    assert httpx.get(f"{stack.settings.desk_url}/api/chat/updates", params={"sender": sender}).json() == []

    status = ask(stack, "whats the status of my case?", sender=sender)
    assert status == [f"Case {number} is with Public Works: answered.\n"
                      "Latest answer: A crew will fill it tomorrow morning."]


def test_the_desks_internal_api_needs_the_token_only_the_stacks_processes_were_given(stack):
    """The actions answered above with the token; anyone else gets a 401 and reads no citizen's message."""
    token_file = stack.settings.data_dir / "internal_token"
    assert token_file.read_text().strip() == stack.settings.resolved_internal_token
    assert token_file.stat().st_mode & 0o777 == 0o600
    desk = stack.settings.desk_url
    refused = httpx.post(f"{desk}/api/messages", json={"text": "pothole on elm st", "conversation_id": "web-x"})
    assert refused.status_code == 401
    assert httpx.get(f"{desk}/api/cases/status", params={"conversation_id": "web-x"}).status_code == 401
    assert httpx.get(f"{desk}/api/conversations/web-x/outcome").status_code == 401
    wrong = httpx.get(f"{desk}/api/conversations/web-x/outcome", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 401
    allowed = httpx.get(f"{desk}/api/conversations/web-x/outcome",
                        headers={"Authorization": f"Bearer {stack.settings.resolved_internal_token}"})
    assert (allowed.status_code, allowed.json()["decisions"]) == (200, 0)
    assert httpx.post(f"{desk}/api/kb/search", json={"text": "library card"}).status_code == 200


def listening_addresses(port: int) -> list[str]:
    """The local addresses (hex, as /proc/net/tcp* shows them) of the sockets listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


def test_nothing_listens_beyond_the_loopback_interface(stack):
    for port in (stack.settings.desk_port, stack.settings.rasa_port, stack.settings.action_port):
        assert listening_addresses(port) == ["0100007F"], port  # 127.0.0.1 only


def test_the_action_server_refuses_a_call_without_rasas_secret(stack):
    """Rasa's calls carry the secret (the actions answered above); nobody else's do."""
    call = {"next_action": "action_case_status", "sender_id": "web-x", "version": "3.6.21", "domain": {},
            "tracker": {"sender_id": "web-x", "slots": {}, "latest_message": {"text": "status?"}, "events": []}}
    url = stack.settings.action_server_url
    assert httpx.post(url, json=call).status_code == 401
    assert httpx.post(url, json=call, headers={"Authorization": "Bearer guess"}).status_code == 401
    assert httpx.get(url.replace("/webhook", "/actions")).status_code == 401
    assert httpx.get(url.replace("/webhook", "/health")).status_code == 200
    secret = (stack.settings.data_dir / "action_token").read_text().strip()
    assert secret == stack.settings.resolved_action_token
    # with the secret but without the conversation's desk token, the action learns nothing from the desk
    allowed = httpx.post(url, json=call, headers={"Authorization": f"Bearer {secret}"}, timeout=30)
    assert allowed.status_code == 200
    assert [r["text"] for r in allowed.json()["responses"] if r.get("text")] == [
        "Sorry, I can't look that up right now. Please try again in a few minutes, or call the city service line "
        "at 311."]


def test_rasa_refuses_a_5_mb_body_at_once(stack):
    """SANIC_REQUEST_MAX_SIZE (settings.rasa_max_body_bytes, 1 MB): refused on its Content-Length, body unread."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", stack.settings.rasa_port), timeout=10) as connection:
        connection.sendall(b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: localhost\r\n"
                           b"Content-Type: application/json\r\nContent-Length: 5000000\r\n\r\n" + b"[" * 65536)
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - start < 2
    assert ask(stack, "hello there")  # and Rasa still answers
