"""Originals for authorised staff only; redaction and un-redaction through the staff pages, logged; the public
page and the exports over HTTP."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from desk.app import create_app
from settings import Settings
from tests.desk.inbox_support import CSRF, PASSWORD, add_users
from tests.disclosure.disclosure_support import at, report, say
from tests.support import free_port
from transcripts.log_models import RedactionLogRow
from transcripts.models import TranscriptRecord

CITIZEN = "My name is Maria Lopez, call me at 303-555-0142. The pothole on Elm Street is huge."
PHONE = "303-555-0142"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("transcripts"), rasa_port=free_port(),
                        disclosure_delay_hours=0)
    application = create_app(settings)
    with TestClient(application):
        add_users(application.state.staff)
        report(settings, at(2), "tg-777", CITIZEN, "pothole")
        say(settings, at(1), "tg-888", "citizen", "When does the library open? Write to ana@example.org")
        yield application


@pytest.fixture(scope="module")
def sessions(app):
    return app.state.cases._sessions


def client_of(app, username: str | None) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    if username:
        login = client.get("/inbox/login")
        response = client.post("/inbox/login", data={"username": username, "password": PASSWORD,
                                                     "csrf_token": CSRF.search(login.text).group(1)})
        assert response.status_code == 303, response.text
    return client


def citizen_record(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(TranscriptRecord.id).where(TranscriptRecord.conversation_id == "tg-777",
                                                                TranscriptRecord.author_role == "citizen"))


def public_of(page: str, record_id: int) -> str:
    return html.unescape(re.search(rf'id="public-{record_id}">(.*?)</p>', page, re.DOTALL).group(1))


def log_rows(sessions) -> list[RedactionLogRow]:
    with sessions() as session:
        return list(session.scalars(select(RedactionLogRow).order_by(RedactionLogRow.id)))


def post(client: TestClient, path: str, **form: str):
    page = client.get("/inbox/conversations/tg-777")
    return client.post(path, data={"csrf_token": CSRF.search(page.text).group(1), "conversation_id": "tg-777",
                                   **form})


def test_anonymous_visitors_are_sent_to_the_login_page(app):
    response = client_of(app, None).get("/inbox/conversations/tg-777")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/inbox/login?next=")
    assert PHONE not in response.text


# an editor (refused whatever the conversation); staff of another department ("not found": it is not theirs to know)
@pytest.mark.parametrize(("username", "status"), [("eddie", 403), ("wes", 404)])
def test_editors_and_other_departments_cannot_read_the_originals(app, username, status):
    response = client_of(app, username).get("/inbox/conversations/tg-777")
    assert response.status_code == status
    assert PHONE not in response.text and "Maria" not in response.text


def test_another_departments_conversation_and_messages_answer_as_missing_ones_do(app, sessions):
    wes, record_id = client_of(app, "wes"), citizen_record(sessions)
    assert error_page(wes.get("/inbox/conversations/tg-777"))[:2] == error_page(
        wes.get("/inbox/conversations/tg-nope"))[:2] == (404, "Conversation not found")
    theirs = post(wes, f"/inbox/transcripts/records/{record_id}/redact", text="pothole", reason="asked")
    missing = post(wes, "/inbox/transcripts/records/999999/redact", text="pothole", reason="asked")
    assert (theirs.status_code, missing.status_code) == (404, 404)
    assert error_page(theirs)[:2] == error_page(missing)[:2] == (404, "Message not found")


@pytest.mark.parametrize("username", ["rosa", "sam"])  # the case's department; a supervisor
def test_the_department_and_supervisors_read_the_originals(app, sessions, username):
    response = client_of(app, username).get("/inbox/conversations/tg-777")
    assert response.status_code == 200
    record_id = citizen_record(sessions)
    assert html.unescape(re.search(rf'id="original-{record_id}">(.*?)</p>', response.text).group(1)) == CITIZEN
    public = public_of(response.text, record_id)
    assert PHONE not in public and "Maria" not in public and "[phone]" in public


def test_a_conversation_without_a_case_is_for_supervisors_only(app):
    assert client_of(app, "rosa").get("/inbox/conversations/tg-888").status_code == 404
    assert "ana@example.org" in client_of(app, "sam").get("/inbox/conversations/tg-888").text


def test_staff_redact_more_with_a_reason_and_the_log_says_who_when_why(app, sessions):
    rosa, record_id = client_of(app, "rosa"), citizen_record(sessions)
    before = len(log_rows(sessions))
    missing_reason = post(rosa, f"/inbox/transcripts/records/{record_id}/redact", text="pothole", reason=" ")
    assert missing_reason.status_code == 400 and "give the reason" in missing_reason.text
    assert 'value="pothole"' in missing_reason.text  # what was typed is kept
    not_there = post(rosa, f"/inbox/transcripts/records/{record_id}/redact", text="sinkhole", reason="asked")
    assert not_there.status_code == 400 and "does not contain that text" in not_there.text
    assert len(log_rows(sessions)) == before
    done = post(rosa, f"/inbox/transcripts/records/{record_id}/redact", text="POTHOLE",
                reason="citizen's request by phone, 2026-11-21")
    assert done.status_code == 303
    row = log_rows(sessions)[-1]
    assert (row.action, row.actor, row.actor_role, row.record_id, row.reason) == \
        ("redact", "rosa", "staff", record_id, "citizen's request by phone, 2026-11-21")
    assert row.text_sha256 and row.text_length == len("pothole") and "pothole" not in repr(vars(row))
    page = rosa.get("/inbox/conversations/tg-777").text
    assert "pothole" not in public_of(page, record_id) and "[redacted]" in public_of(page, record_id)
    assert "citizen&#39;s request by phone, 2026-11-21" in page  # in the redaction log on the page
    public = app.state.disclosure.conversation(app.state.disclosure.pseudonym("tg-777"))
    assert "pothole" not in public.messages[0].text


def test_only_supervisors_unredact_and_the_log_keeps_it(app, sessions):
    record_id = citizen_record(sessions)
    with sessions() as session:
        original = session.execute(text("SELECT text FROM transcript_originals WHERE record_id = :r"),
                                   {"r": record_id}).scalar()
    start = original.index(PHONE)
    before = len(log_rows(sessions))
    refused = post(client_of(app, "rosa"), f"/inbox/transcripts/records/{record_id}/unredact", start=str(start),
                   end=str(start + len(PHONE)), reason="it is the city's hotline")
    assert refused.status_code == 403 and len(log_rows(sessions)) == before
    sam = client_of(app, "sam")
    assert post(sam, f"/inbox/transcripts/records/{record_id}/unredact", start=str(start), end=str(start + 3),
                reason="no").status_code == 400  # not an automatic redaction
    done = post(sam, f"/inbox/transcripts/records/{record_id}/unredact", start=str(start),
                end=str(start + len(PHONE)), reason="it is the city's pothole hotline, not the citizen's")
    assert done.status_code == 303
    row = log_rows(sessions)[-1]
    assert (row.action, row.actor, row.actor_role, row.finding_kind) == ("unredact", "sam", "supervisor", "phone")
    public = app.state.disclosure.conversation(app.state.disclosure.pseudonym("tg-777")).messages[0].text
    assert PHONE in public and "Maria" not in public and "[redacted]" in public  # the manual redaction still holds


def test_the_redaction_log_is_append_only(sessions):
    with pytest.raises(DatabaseError, match="append-only"), sessions.begin() as session:
        session.execute(text("UPDATE transcript_redactions SET reason = 'changed'"))
    with pytest.raises(DatabaseError, match="append-only"), sessions.begin() as session:
        session.execute(text("DELETE FROM transcript_redactions"))


def test_the_public_page_and_exports_need_no_login_and_show_no_original(app):
    public = TestClient(app)
    listing = public.get("/disclosure")
    assert listing.status_code == 200 and 'id="results"' in listing.text
    pseudonym = app.state.disclosure.pseudonym("tg-888")
    assert f'href="/disclosure/{pseudonym}"' in listing.text and "tg-888" not in listing.text
    page = public.get(f"/disclosure/{pseudonym}")
    assert page.status_code == 200 and "ana@example.org" not in page.text and "[email]" in page.text
    assert public.get("/disclosure/tg-888").status_code == 404
    assert public.get("/disclosure?date_from=soon").status_code == 400
    document = public.get("/api/disclosure/conversations.json", params={"department": "public-works"}).json()
    assert [c["id"] for c in document["conversations"]] == [app.state.disclosure.pseudonym("tg-777")]
    assert document["filters"] == {"department": "public-works"}
    rows = list(csv.DictReader(io.StringIO(public.get("/api/disclosure/conversations.csv").text)))
    assert {r["conversation"] for r in rows} == {pseudonym, app.state.disclosure.pseudonym("tg-777")}
    assert not any("ana@example.org" in r["text"] or "Maria" in r["text"] for r in rows)
    assert public.get("/api/disclosure/conversations.json", params={"status": "nope"}).status_code == 400


def test_the_case_page_links_to_the_conversations_transcript(app, sessions):
    with sessions() as session:
        number = session.scalar(text("SELECT service_request_id FROM cases WHERE conversation_id = 'tg-777'"))
    page = client_of(app, "rosa").get(f"/inbox/cases/{number}")
    assert 'id="case-transcript" href="/inbox/conversations/tg-777"' in page.text


def error_page(response) -> tuple[int, str, str]:
    title, message = (html.unescape(re.search(rf'id="error-{part}"[^>]*>(.*?)</', response.text, re.DOTALL).group(1))
                      for part in ("title", "message"))
    return response.status_code, title, message


def test_a_missing_or_forbidden_conversation_or_message_gets_the_error_page_that_says_which(app, sessions):
    rosa, record_id = client_of(app, "rosa"), citizen_record(sessions)
    assert error_page(rosa.get("/inbox/conversations/tg-nope")) == (
        404, "Conversation not found", "There is no conversation tg-nope.")
    assert error_page(rosa.get("/inbox/conversations/tg-888")) == (
        404, "Conversation not found", "There is no conversation tg-888.")
    assert error_page(post(rosa, "/inbox/transcripts/records/999999/redact", text="x", reason="asked")) == (
        404, "Message not found", "There is no message 999999.")
    status, title, message = error_page(post(rosa, f"/inbox/transcripts/records/{record_id}/unredact", start="0",
                                             end="3", reason="hotline"))
    assert (status, title, message) == (403, "Not allowed", "Nothing was changed: un-redacting needs a supervisor.")
