"""The web editor over HTTP: who may use it, CSRF, search, the entry form's errors, the life cycle, history."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from desk.web.auth import FORM_REJECTED
from settings import DEMO_KB_FILE, Settings
from tests.desk.inbox_support import PASSWORD, add_users, anonymous, element, logged_in, token
from tests.support import free_port

ENTRY_ROWS = re.compile(r'<tr class="entry" data-entry="([^"]+)" data-state="([^"]+)"')
VERSION_ROWS = re.compile(r'<tr class="version" data-version="(\d+)" data-state="([^"]+)"')
DUPLICATES = re.compile(r'data-entry="([^"]+)">\s*<span class="similarity" data-similarity="([0-9.]+)"')
GET_PAGES = ["/editor", "/editor?text=garbage", "/editor/entries/new", "/editor/entries/demo-0001",
             "/editor/entries/demo-0001/edit", "/editor/preview?question=garbage+day", "/editor/gaps",
             "/editor/feedback"]
POST_PAGES = ["/editor/entries/new", "/editor/entries/demo-0001/edit", "/editor/entries/demo-0001/publish",
              "/editor/entries/demo-0001/retire", "/editor/entries/demo-0001/revert"]
NEW = {"question": "Can I swim at Lake Alder beach in winter?",
       "alt_questions": "winter swimming at the lake\nis the beach open in january",
       "answer": "Lake Alder beach has no lifeguards from October to April; swimming is at your own risk.",
       "department": "Parks & Recreation", "topic": "Beaches", "url": "https://www.alderbrook.example/parks/beach",
       "language": "en", "note": "new: winter swimming"}


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("editor"), seed_kb_file=DEMO_KB_FILE, rasa_port=free_port())


@pytest.fixture(scope="module")
def app(settings):
    application = create_app(settings)
    with TestClient(application):
        add_users(application.state.staff)
        yield application


@pytest.fixture(scope="module")
def eddie(app) -> TestClient:
    return logged_in(app, "eddie")


def post_form(client: TestClient, path: str, page: str, **fields: str):
    """Send a form from `page` with that page's CSRF token."""
    return client.post(path, data={"csrf_token": token(client.get(page)), **fields})


def create(client: TestClient, entry_id: str, **fields: str):
    return post_form(client, "/editor/entries/new", "/editor/entries/new",
                     **{**NEW, "id": entry_id, "checked_question": fields.get("question", NEW["question"]),
                        "action": "save", **fields})


def versions(client: TestClient, entry_id: str) -> list[tuple[str, str]]:
    return VERSION_ROWS.findall(client.get(f"/editor/entries/{entry_id}").text)


# --- who may use the editor -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", GET_PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page(app, path):
    response = anonymous(app).get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/inbox/login?next=/editor")


@pytest.mark.parametrize("path", POST_PAGES)
def test_an_anonymous_form_changes_nothing_and_goes_to_the_login_page(app, path):
    before = app.state.entry_editor.get("demo-0001")
    response = anonymous(app).post(path, data={**NEW, "csrf_token": "x", "version": "1"})
    assert (response.status_code, response.headers["location"]) == (303, "/inbox/login?next=/editor")
    assert app.state.entry_editor.get("demo-0001") == before


@pytest.mark.parametrize("username", ["rosa", "sam"])
@pytest.mark.parametrize("path", GET_PAGES)
def test_department_staff_and_supervisors_get_a_403_page(app, username, path):
    response = logged_in(app, username).get(path)
    assert response.status_code == 403
    assert element(response, "error-title") == "No editor for this account"
    role = "staff" if username == "rosa" else "supervisor"
    assert element(response, "error-message") == (f"The knowledge base editor is for content editors; "
                                                   f"{username}'s role is {role}.")
    assert element(response, "back-home") == "Back to the inbox"


@pytest.mark.parametrize("path", POST_PAGES)
def test_a_staff_members_form_is_refused_and_changes_nothing(app, path):
    rosa = logged_in(app, "rosa")
    before = app.state.entry_editor.history("demo-0001")
    response = rosa.post(path, data={**NEW, "csrf_token": token(rosa.get("/inbox")), "version": "1"})
    assert response.status_code == 403
    assert app.state.entry_editor.history("demo-0001") == before


@pytest.mark.parametrize("path", GET_PAGES)
def test_an_editor_sees_every_page(eddie, path):
    response = eddie.get(path)
    assert response.status_code == 200, response.text
    assert "Eddie Editor · editor" in element(response, "who")


def test_an_editor_lands_on_the_editor_and_staff_on_the_inbox(app):
    for username, home in (("eddie", "/editor"), ("rosa", "/inbox"), ("sam", "/inbox")):
        client = anonymous(app)
        response = client.post("/inbox/login", data={"username": username, "password": PASSWORD,
                                                      "csrf_token": token(client.get("/inbox/login"))})
        assert (response.status_code, response.headers["location"]) == (303, home)


def test_login_goes_back_to_the_editor_page_asked_for(app):
    client = anonymous(app)
    asked = client.get("/editor/entries/demo-0002").headers["location"]
    assert asked == "/inbox/login?next=/editor/entries/demo-0002"
    login_page = client.get(asked)
    assert 'name="next" value="/editor/entries/demo-0002"' in login_page.text
    response = client.post("/inbox/login", data={"username": "eddie", "password": PASSWORD,
                                                  "next": "/editor/entries/demo-0002",
                                                  "csrf_token": token(login_page)})
    assert response.headers["location"] == "/editor/entries/demo-0002"


def test_an_editors_error_page_links_back_to_the_editor(eddie):
    response = eddie.get("/editor/entries/no-such-entry")
    assert response.status_code == 404
    assert element(response, "error-message") == "There is no knowledge base entry 'no-such-entry'."
    assert element(response, "back-home") == "Back to the editor"


# --- CSRF -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", POST_PAGES)
def test_a_form_without_this_sessions_csrf_token_is_rejected_and_changes_nothing(app, eddie, path):
    other = logged_in(app, "eddie")
    before = app.state.entry_editor.history("demo-0001")
    for csrf in ("", "forged", token(other.get("/editor"))):
        response = eddie.post(path, data={**NEW, "csrf_token": csrf, "version": "1"})
        assert response.status_code == 403
        assert element(response, "error-message") == FORM_REJECTED
    assert app.state.entry_editor.history("demo-0001") == before


# --- list and search --------------------------------------------------------------------------------------

def test_the_list_pages_through_every_entry(app, eddie):
    total = app.state.entry_editor.list()[1]
    first, second = eddie.get("/editor"), eddie.get("/editor?page=2")
    assert element(first, "total") == f"{total} entries · page 1 of {-(-total // 25)}"
    ids_1, ids_2 = [i for i, _ in ENTRY_ROWS.findall(first.text)], [i for i, _ in ENTRY_ROWS.findall(second.text)]
    assert len(ids_1) == len(ids_2) == 25
    assert not set(ids_1) & set(ids_2)
    assert 'href="/editor?page=2" id="next-page"' in first.text


def test_search_by_text_department_topic_and_state(eddie):
    garbage = ENTRY_ROWS.findall(eddie.get("/editor?text=garbage+collected").text)
    assert ("demo-0001", "published") in garbage
    waste = eddie.get("/editor", params={"department": "Waste & Recycling"})
    ids = [i for i, _ in ENTRY_ROWS.findall(waste.text)]
    assert ids and all(eddie.get(f"/editor/entries/{i}").text.count("Waste &amp; Recycling") for i in ids[:3])
    assert 'value="Waste &amp; Recycling" selected' in waste.text
    nothing = eddie.get("/editor", params={"text": "zebra crossing for giraffes", "state": "published"})
    assert ENTRY_ROWS.findall(nothing.text) == []
    assert element(nothing, "no-entries") == "No entry matches."
    bad = eddie.get("/editor?state=deleted")
    assert bad.status_code == 400
    assert element(bad, "list-error") == "There is no state 'deleted'; showing every state."


def test_a_page_or_a_number_of_days_that_is_not_a_number_is_explained(eddie):
    page = eddie.get("/editor?page=two")
    assert page.status_code == 400
    assert element(page, "list-error") == "There is no page 'two'; showing the first."
    assert len(ENTRY_ROWS.findall(page.text)) == 25
    gaps = eddie.get("/editor/gaps?days=-3")
    assert gaps.status_code == 400
    assert element(gaps, "gaps-error") == "Days is a whole number from 1 to 3650; showing the last 30 days."


def test_search_keeps_the_filters_in_the_page_links(eddie):
    page = eddie.get("/editor", params={"state": "published"})
    assert 'href="/editor?state=published&amp;page=2" id="next-page"' in page.text


# --- the entry form ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"answer": "   "}, "answer", "The answer is empty: write what the assistant tells citizens."),
    ({"answer": "x" * 20_001}, "answer", "The answer is 20,001 characters long; at most 20,000 characters."),
    ({"question": ""}, "question", "The question is empty: write the question citizens ask."),
    ({"url": "www.alderbrook.example/beach"}, "url",
     "The source URL 'www.alderbrook.example/beach' is not a web address; write it as https://www.example.org/page."),
    ({"url": "javascript:alert(1)"}, "url",
     "The source URL 'javascript:alert(1)' is not a web address; write it as https://www.example.org/page."),
    ({"url": "https://x.example/" + "a" * 2_100}, "url",  # the entry's own rule, as in the API and imports
     "The source URL is 2,118 characters long; at most 2,048 characters."),
    ({"url": "http://:80/beach"}, "url",
     "The source URL 'http://:80/beach' is not a web address; write it as https://www.example.org/page."),
    ({"language": "English"}, "language", "The language 'English' is not a language code; write e.g. en, es or ko."),
    ({"id": "has spaces"}, "id", "The entry's id has spaces; use letters, digits and dashes, e.g. parks-pool-hours."),
    ({"note": ""}, "note", "Write a change note: what changed and why (it is kept in the history)."),
])
def test_invalid_input_is_named_beside_its_field_and_nothing_is_saved(app, eddie, fields, field, message):
    response = create(eddie, fields.pop("id", "kb-invalid"), **fields)
    assert response.status_code == 400
    assert element(response, f"error-{field}") == message
    assert element(response, "form-errors") == "Nothing was saved: correct the fields marked below."
    # what was typed is kept
    assert "winter swimming at the lake\nis the beach open in january</textarea>" in response.text
    assert app.state.entry_editor.list(text="Lake Alder beach")[1] == 0


def test_an_id_that_exists_is_refused(eddie):
    response = create(eddie, "demo-0001")
    assert response.status_code == 409
    assert element(response, "error-id") == ("There is already an entry 'demo-0001'; choose another id or edit "
                                              "that entry.")


def test_check_lists_similar_entries_with_their_similarity_and_saves_nothing(app, eddie):
    response = post_form(eddie, "/editor/entries/new", "/editor/entries/new",
                         **{**NEW, "question": "what day is garbage collected", "action": "check"})
    assert response.status_code == 200
    found = DUPLICATES.findall(response.text)
    assert found[0][0] == "demo-0001"
    assert float(found[0][1]) >= 0.8
    assert [float(s) for _, s in found] == sorted((float(s) for _, s in found), reverse=True)
    assert app.state.entry_editor.list(text="what day is garbage collected")[1] == 0


def test_saving_a_near_duplicate_asks_first_then_saves_when_confirmed(app, eddie):
    fields = {**NEW, "id": "kb-garbage-again", "question": "What day is my garbage picked up?", "action": "save"}
    warned = post_form(eddie, "/editor/entries/new", "/editor/entries/new", **fields)
    assert warned.status_code == 409
    assert element(warned, "duplicates").startswith("This question is very close to an existing entry")
    assert DUPLICATES.findall(warned.text)[0][0] == "demo-0001"
    assert 'id="save-button">Save anyway</button>' in warned.text
    assert 'name="checked_question" value="What day is my garbage picked up?"' in warned.text
    assert not any(r.entry.id == "kb-garbage-again" for r in app.state.entry_editor.list(limit=500)[0])
    saved = eddie.post("/editor/entries/new", data={**fields, "checked_question": fields["question"],
                                                    "csrf_token": token(warned)})
    assert (saved.status_code, saved.headers["location"]) == (303, "/editor/entries/kb-garbage-again")


def test_preview_shows_how_the_assistant_answers_now(eddie):
    response = post_form(eddie, "/editor/entries/new", "/editor/entries/new",
                         **{**NEW, "question": "when is my garbage collected", "action": "preview"})
    assert response.status_code == 200
    assert element(response, "preview-entry") == "demo-0001"
    verdict = element(response, "preview-verdict")
    assert verdict.startswith("Answers with demo-0001 · confidence ")
    assert element(response, "preview-answer").startswith("Alderbrook collects garbage once a week")
    page = eddie.get("/editor/preview", params={"question": "zebra crossing for giraffes on mars"})
    assert element(page, "preview-verdict").startswith("Does not answer")


def test_a_new_entry_is_made_from_the_question_when_no_id_is_given(eddie):
    response = create(eddie, "", question="How deep is the Lake Alder diving pool?")
    assert response.headers["location"] == "/editor/entries/kb-how-deep-is-the-lake-alder-diving-pool"


# --- the life cycle ---------------------------------------------------------------------------------------

def test_create_publish_edit_revert_retire_with_the_history(app, eddie):
    created = create(eddie, "kb-winter-swim")
    assert (created.status_code, created.headers["location"]) == (303, "/editor/entries/kb-winter-swim")
    page = eddie.get("/editor/entries/kb-winter-swim")
    assert element(page, "flash").startswith("Saved as version 1 (draft).")
    assert element(page, "entry-state") == "draft"
    assert element(page, "votes-helpful") == "0"
    assert versions(eddie, "kb-winter-swim") == [("1", "draft")]
    assert "new: winter swimming" in page.text and "eddie" in page.text

    published = post_form(eddie, "/editor/entries/kb-winter-swim/publish", "/editor/entries/kb-winter-swim",
                          note="checked with Parks")
    assert published.status_code == 303
    page = eddie.get("/editor/entries/kb-winter-swim")
    assert element(page, "flash") == "Published (version 2): the assistant answers with it now."
    assert element(page, "entry-state") == "published"
    answer = eddie.get("/editor/preview", params={"question": "Can I swim at Lake Alder beach in winter?"})
    assert element(answer, "preview-entry") == "kb-winter-swim"

    again = post_form(eddie, "/editor/entries/kb-winter-swim/publish", "/editor/entries/kb-winter-swim")
    assert again.status_code == 409
    assert element(again, "entry-error") == "Cannot publish entry 'kb-winter-swim': it is already published."

    edit_page = eddie.get("/editor/entries/kb-winter-swim/edit")
    assert 'value="Can I swim at Lake Alder beach in winter?"' in edit_page.text
    edited = eddie.post("/editor/entries/kb-winter-swim/edit", data={
        **NEW, "answer": "Swimming is allowed all year; no lifeguards from October to April.",
        "note": "all year now", "action": "save", "csrf_token": token(edit_page)})
    assert edited.status_code == 303
    assert [v for v, _ in versions(eddie, "kb-winter-swim")] == ["3", "2", "1"]

    reverted = post_form(eddie, "/editor/entries/kb-winter-swim/revert", "/editor/entries/kb-winter-swim",
                         version="1", note="back to the first text")
    assert reverted.status_code == 303
    record = app.state.entry_editor.get("kb-winter-swim")
    assert record.version == 4 and record.entry.answer == NEW["answer"]
    assert element(eddie.get("/editor/entries/kb-winter-swim"), "flash") == "Back to version 1: saved as version 4."

    retired = post_form(eddie, "/editor/entries/kb-winter-swim/retire", "/editor/entries/kb-winter-swim",
                        note="beach closed")
    assert retired.status_code == 303
    assert app.state.entry_editor.get("kb-winter-swim").state == "retired"
    twice = post_form(eddie, "/editor/entries/kb-winter-swim/retire", "/editor/entries/kb-winter-swim")
    assert twice.status_code == 409
    assert element(twice, "entry-error") == "Cannot retire entry 'kb-winter-swim': it is already retired."
    history = app.state.entry_editor.history("kb-winter-swim")
    assert [(v.version, v.editor, v.note) for v in history][-2:] == [(2, "eddie", "checked with Parks"),
                                                                     (1, "eddie", "new: winter swimming")]


def test_reverting_to_a_version_that_does_not_exist_is_explained(eddie):
    response = post_form(eddie, "/editor/entries/demo-0003/revert", "/editor/entries/demo-0003", version="99")
    assert response.status_code == 409
    assert element(response, "entry-error").startswith("Entry 'demo-0003' has no version 99")
    missing = post_form(eddie, "/editor/entries/demo-0003/revert", "/editor/entries/demo-0003", version="")
    assert (missing.status_code, element(missing, "entry-error")) == (400, "Choose the version to go back to.")


# --- what citizens asked that no entry answered ------------------------------------------------------------

GAP_ROWS = re.compile(r'<tr class="gap" data-count="(\d+)">.*?<ul class="examples">(.*?)</ul>.*?href="([^"]+)"',
                      re.DOTALL)


def ask(app, text: str, *, intent: str | None = "ask_question", route: str = "out_of_scope") -> None:
    app.state.cases.record_decision(channel="web", conversation_id="web-gaps", text=text, intent=intent, route=route,
                                    reason="test", entry_id=None, confidence=0.1, case=None)


def test_unanswered_questions_are_grouped_with_counts_and_redacted_examples(app, eddie):
    ask(app, "Can I bring my dog to the farmers market?")
    ask(app, "are dogs allowed at the farmers market")
    ask(app, "who won the football game", intent="out_of_scope")  # Rasa's own out of scope: not a gap
    ask(app, "when is bulk trash pickup", route="answer")  # answered: not a gap
    ask(app, "How do I get a permit for a food truck? call me on 303-555-0142")
    ask(app, "food truck permit application", route="case")
    page = eddie.get("/editor/gaps")
    assert page.status_code == 200
    gaps = [(int(count), re.findall(r"<li>(.*?)</li>", examples)) for count, examples, _ in GAP_ROWS.findall(page.text)]
    assert gaps == [(2, ["food truck permit application",
                         "How do I get a permit for a food truck? call me on [phone]"]),
                    (2, ["are dogs allowed at the farmers market", "Can I bring my dog to the farmers market?"])]
    assert (element(page, "question-count"), element(page, "gap-count")) == ("4", "2")


def test_create_entry_from_a_group_fills_in_the_form(app, eddie):
    ask(app, "Is there free wifi at City Hall?")
    page = eddie.get("/editor/gaps")
    link = html.unescape(GAP_ROWS.findall(page.text)[0][2])
    assert link == "/editor/entries/new?question=Is+there+free+wifi+at+City+Hall%3F"
    dogs = html.unescape(next(row for row in GAP_ROWS.findall(page.text) if "dog" in row[1])[2])
    form = eddie.get(dogs)
    assert 'id="question" name="question" value="are dogs allowed at the farmers market"' in form.text
    assert ">Can I bring my dog to the farmers market?</textarea>" in form.text


def test_linking_a_group_to_an_entry_teaches_the_entry_its_words_at_once(app, eddie):
    ask(app, "can i get my lawn sprinkler turned on by the water dept")
    ask(app, "who turns on the sprinkler water line")
    response = post_form(eddie, "/editor/gaps/link", "/editor/gaps", entry_id="demo-0068",
                         examples=["can i get my lawn sprinkler turned on by the water dept",
                                   "who turns on the sprinkler water line"])
    assert (response.status_code, response.headers["location"]) == (303, "/editor/gaps")
    assert "demo-0068 learned 2 phrasings from the group." in eddie.get("/editor/gaps").text
    phrasings = app.state.knowledge_base.store.get("demo-0068").alt_questions
    assert {"can i get my lawn sprinkler turned on by the water dept",
            "who turns on the sprinkler water line"} <= set(phrasings)
    answer = app.state.knowledge_base.answer("who turns on the sprinkler water line")
    assert answer.results[0].entry.id == "demo-0068"
    unknown = post_form(eddie, "/editor/gaps/link", "/editor/gaps", entry_id="no-such-entry", examples=["x y z"])
    assert unknown.status_code == 303
    assert "There is no entry &#39;no-such-entry&#39;; nothing was linked." in eddie.get("/editor/gaps").text


# --- was this helpful? ------------------------------------------------------------------------------------

def vote(app, settings, entry_id: str, conversation_id: str, helpful: bool) -> None:
    response = TestClient(app).post("/api/kb/feedback", json={
        "entry_id": entry_id, "entry_version": None, "conversation_id": conversation_id, "helpful": helpful},
        headers={"Authorization": f"Bearer {settings.resolved_internal_token}"})
    assert response.status_code == 201, response.text


def test_the_most_unhelpful_answers_come_first_and_link_to_their_edit_page(app, settings, eddie):
    votes = {"demo-0010": [False, False, True], "demo-0011": [False] * 4, "demo-0012": [True],
             "demo-0013": [False, True, True]}
    for entry_id, helpful in votes.items():
        for n, vote_ in enumerate(helpful):
            vote(app, settings, entry_id, f"web-v{n}", vote_)
    vote(app, settings, "demo-0010", "web-v2", False)  # changes their mind: replaces the vote
    page = eddie.get("/editor/feedback")
    rows = re.findall(r'<tr class="voted" data-entry="([^"]+)">.*?class="helpful">(\d+)<.*?class="unhelpful">(\d+)<'
                      r'.*?class="share">(\d+)%<', page.text, re.DOTALL)
    assert rows == [("demo-0011", "0", "4", "100"), ("demo-0010", "0", "3", "100"), ("demo-0013", "2", "1", "33")]
    assert 'href="/editor/entries/demo-0011/edit"' in page.text
    entry = eddie.get("/editor/entries/demo-0010")
    assert (element(entry, "votes-helpful"), element(entry, "votes-unhelpful")) == ("0", "3")
