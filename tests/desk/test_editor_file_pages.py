"""The editor's import, export and evaluation pages over HTTP, on a desk with a five-entry knowledge base."""

from __future__ import annotations

import json
import re
import time

import pytest
from fastapi.testclient import TestClient

from desk import uploads
from desk.app import create_app
from desk.eval_jobs import EvaluationJob
from desk.web.auth import FORM_REJECTED
from knowledge_base.importer import read_entries
from settings import Settings
from tests.conftest import write_jsonl
from tests.desk.inbox_support import add_users, anonymous, element, logged_in, token
from tests.knowledge_base.conftest import SMALL_ENTRIES
from tests.support import free_port

NEW_ENTRY = {"id": "t-pool", "question": "Is the city pool heated in winter?",
             "alt_questions": ["heated pool in december"], "answer": "Yes, it is heated to 27 °C all year.",
             "department": "Parks & Recreation"}
QUESTIONS = [{"text": "How do I pay a parking ticket?", "expected_ids": ["t-ticket"],
              "expected_department": "Parking Services"},
             {"text": "How do I get a library card?", "expected_ids": ["t-library"]},
             {"text": "what's the score of the game tonight", "expected_ids": []}]
FIGURE_KEYS = {"n", "n_answerable", "n_unanswerable", "auto_answer_rate", "auto_answer_precision",
               "confirm_answer_rate", "confirm_answer_precision", "handled_without_staff_rate", "clarify_rate",
               "handoff_recall", "top1", "recall_at_3", "latency_ms_p50", "latency_ms_p95", "threshold",
               "confirm_threshold"}
FIGURE_ROWS = re.compile(r'<tr class="figure" data-key="([^"]+)" data-value="([^"]*)"')
QUESTION_ROWS = re.compile(r'<tr class="question [a-z]+" data-band="([a-z]+)" data-right="(yes|no)" '
                           r'data-best="([^"]*)">\s*<td>([^<]*)</td>')
EVALUATION_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("editor-files")
    seed = write_jsonl(folder / "seed.jsonl", [e.model_dump(mode="json") for e in SMALL_ENTRIES])
    application = create_app(Settings(data_dir=folder / "data", seed_kb_file=seed, rasa_port=free_port()))
    with TestClient(application):
        add_users(application.state.staff)
        yield application


@pytest.fixture(scope="module")
def eddie(app) -> TestClient:
    return logged_in(app, "eddie")


def upload(client: TestClient, path: str, name: str, content: bytes, **fields: str):
    """Send the upload form of `path` with that page's CSRF token."""
    return client.post(path, data={"csrf_token": token(client.get(path)), **fields},
                       files={"file": (name, content, "application/octet-stream")})


def jsonl(*rows: dict) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def ids(app) -> set[str]:
    return {r.entry.id for r in app.state.entry_editor.store.records()}


# --- who may use the pages ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/editor/import", "/editor/evaluate", "/editor/export?format=csv&state=all"])
def test_only_editors_see_the_pages(app, path):
    assert anonymous(app).get(path).headers["location"].startswith("/inbox/login?next=/editor")
    response = logged_in(app, "rosa").get(path)
    assert response.status_code == 403
    assert element(response, "error-title") == "No editor for this account"


@pytest.mark.parametrize("path", ["/editor/import", "/editor/evaluate"])
def test_uploads_of_non_editors_and_without_the_csrf_token_are_refused(app, eddie, path):
    before, jobs = ids(app), app.state.evaluations.recent()
    rosa = logged_in(app, "rosa")
    refused = rosa.post(path, data={"csrf_token": token(rosa.get("/inbox"))},
                        files={"file": ("kb.jsonl", jsonl(NEW_ENTRY))})
    assert refused.status_code == 403
    forged = eddie.post(path, data={"csrf_token": "forged"}, files={"file": ("kb.jsonl", jsonl(NEW_ENTRY))})
    assert (forged.status_code, element(forged, "error-message")) == (403, FORM_REJECTED)
    missing = eddie.post(path, files={"file": ("kb.jsonl", jsonl(NEW_ENTRY))})
    assert (missing.status_code, element(missing, "error-message")) == (403, FORM_REJECTED)
    assert ids(app) == before
    assert app.state.evaluations.recent() == jobs


def test_the_navigation_links_to_import_and_evaluate(eddie):
    page = eddie.get("/editor")
    assert 'href="/editor/import" id="nav-import"' in page.text
    assert 'href="/editor/evaluate" id="nav-evaluate"' in page.text


# --- import ---------------------------------------------------------------------------------------------

def test_import_publishes_counts_and_recalibrates_and_a_second_import_changes_nothing(app, eddie):
    kb = app.state.knowledge_base
    calibration = kb.calibration
    changed = {**SMALL_ENTRIES[0].model_dump(mode="json"), "answer": "Bulk items go on the first Monday."}
    content = jsonl(NEW_ENTRY, changed, SMALL_ENTRIES[1].model_dump(mode="json"))
    response = upload(eddie, "/editor/import", "kb.jsonl", content, import_as="published")
    assert response.status_code == 200, response.text
    assert [element(response, key) for key in ("created", "updated", "unchanged")] == ["1", "1", "1"]
    assert element(response, "import-result").startswith("Imported kb.jsonl as published entries: 1 new")
    record = app.state.entry_editor.get("t-pool")
    assert (record.state, record.updated_by) == ("published", "eddie")
    assert kb.answer(NEW_ENTRY["question"]).results[0].entry.id == "t-pool"
    assert kb.calibration is not calibration  # recalibrated on the new published entries, as the API import does
    again = upload(eddie, "/editor/import", "kb.jsonl", content)
    assert [element(again, key) for key in ("created", "updated", "unchanged")] == ["0", "0", "3"]


def test_a_csv_imported_as_drafts_waits_for_publishing(app, eddie):
    content = ("id,question,answer,alt_questions\n"
               "t-bench,Can I get a memorial bench in a park?,Yes: apply to Parks.,bench in memory|dedicate a bench\n")
    response = upload(eddie, "/editor/import", "benches.csv", content.encode(), import_as="draft")
    assert [element(response, key) for key in ("created", "updated", "unchanged")] == ["1", "0", "0"]
    assert "Publish them" in element(response, "import-result")
    record = app.state.entry_editor.get("t-bench")
    assert (record.state, record.published_version, record.entry.alt_questions) == (
        "draft", None, ("bench in memory", "dedicate a bench"))


@pytest.mark.parametrize(("name", "content", "message"), [
    ("kb.csv", b"id,question,answer\nt-a,A question?,An answer.\nt-b,Another question?,\n",
     "kb.csv, line 3: missing answer (empty); nothing was imported"),
    ("kb.jsonl", b'{"id": "t-a", "question": "A?", "answer": "a"}\n{"id": "t-b", "question": \n',
     "kb.jsonl, line 2: not valid JSON"),
    ("kb.txt", b"anything", "kb.txt: unknown file type '.txt': use .jsonl or .csv; nothing was imported"),
])
def test_a_bad_line_is_named_and_nothing_is_imported(app, eddie, name, content, message):
    before = ids(app)
    response = upload(eddie, "/editor/import", name, content)
    assert response.status_code == 400
    assert element(response, "import-error").startswith(message)
    assert element(response, "import-error").endswith("nothing was imported")
    assert ids(app) == before


def test_an_import_without_a_file_or_too_large_is_refused(app, eddie, monkeypatch):
    response = eddie.post("/editor/import", data={"csrf_token": token(eddie.get("/editor/import"))},
                          files={"file": ("", b"")})
    assert (response.status_code, element(response, "import-error")) == (
        400, "Choose a .jsonl or .csv file of entries first.")
    monkeypatch.setattr(uploads, "MAX_UPLOAD_BYTES", 10)
    too_large = upload(eddie, "/editor/import", "kb.jsonl", jsonl(NEW_ENTRY))
    assert (too_large.status_code, element(too_large, "import-error")) == (
        413, "kb.jsonl: larger than 10 bytes; nothing imported")


# --- export ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
@pytest.mark.parametrize("state", ["published", "draft", "all"])
def test_export_gives_the_apis_file_and_imports_back_unchanged(app, eddie, tmp_path, file_format, state):
    page = eddie.get("/editor/import")
    assert f'href="/editor/export?format={file_format}&amp;state={state}"' in page.text
    response = eddie.get(f"/editor/export?format={file_format}&state={state}")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == f'attachment; filename="kb-{state}.{file_format}"'
    api = eddie.get(f"/api/kb/entries/export?format={file_format}&state={state}")
    assert response.content == api.content
    path = tmp_path / f"kb.{file_format}"
    path.write_bytes(response.content)
    assert read_entries(path) == app.state.entry_editor.export_entries(state=None if state == "all" else state)
    if state == "published":  # importing it back as published changes nothing
        again = upload(eddie, "/editor/import", path.name, response.content)
        assert element(again, "created") == element(again, "updated") == "0"


def test_an_unknown_export_is_explained(eddie):
    response = eddie.get("/editor/export?format=xlsx&state=all")
    assert (response.status_code, element(response, "error-title")) == (400, "No such export")


# --- evaluation -----------------------------------------------------------------------------------------

def wait_for(client: TestClient, location: str):
    deadline = time.monotonic() + EVALUATION_TIMEOUT_S
    while True:
        page = client.get(location)
        if 'data-status="running"' not in page.text or time.monotonic() > deadline:
            return page
        assert 'http-equiv="refresh"' in page.text
        time.sleep(0.5)


def test_evaluation_shows_the_figures_and_every_question(app, eddie):
    start = eddie.get("/editor/evaluate")
    assert "published entries (not drafts)" in element(start, "evaluated-kb")
    response = upload(eddie, "/editor/evaluate", "questions.jsonl", jsonl(*QUESTIONS))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/editor/evaluate/")
    page = wait_for(eddie, location)
    assert element(page, "evaluation-status") == "Done: 3 questions."
    figures = dict(FIGURE_ROWS.findall(page.text))
    assert set(figures) >= FIGURE_KEYS
    assert (figures["n"], figures["n_answerable"], figures["n_unanswerable"]) == ("3", "2", "1")
    assert (figures["top1"], figures["recall_at_3"], figures["handoff_recall"]) == ("1.0", "1.0", "1.0")
    assert float(figures["threshold"]) == pytest.approx(app.state.knowledge_base.threshold)
    rows = QUESTION_ROWS.findall(page.text)
    assert [(best, text) for _, _, best, text in rows] == [
        ("t-ticket", "How do I pay a parking ticket?"), ("t-library", "How do I get a library card?"),
        (rows[2][2], "what&#39;s the score of the game tonight")]
    # an entry's own question is answered with it; the off-topic one is handed to staff: all three right, and
    # the two answers are what handled_without_staff_rate counts
    assert [(band in ("answer", "confirm"), right) for band, right, _, _ in rows[:2]] == [(True, "yes")] * 2
    assert (rows[2][0], rows[2][1]) == ("handoff", "yes")
    assert float(figures["handled_without_staff_rate"]) == pytest.approx(2 / 3, abs=1e-4)
    assert str(app.state.evaluations.get(location.rsplit("/", 1)[1]).report["n"]) == figures["n"]
    assert "questions.jsonl" in eddie.get("/editor/evaluate").text  # listed among the recent evaluations


@pytest.mark.parametrize(("content", "message"), [
    (b'{"text": "one", "expected_ids": []}\n{"text": "two", "expected_ids": \n',
     "questions.jsonl, line 2: not a question"),
    (b'{"text": "one"}\n{"expected_ids": ["t-ticket"]}\n', "questions.jsonl, line 2: not a question"),
    (b"\n\n", "questions.jsonl: no questions in the file"),
])
def test_a_broken_question_file_is_named_with_its_line(app, eddie, content, message):
    jobs = app.state.evaluations.recent()
    response = upload(eddie, "/editor/evaluate", "questions.jsonl", content)
    assert response.status_code == 400
    assert element(response, "evaluate-error").startswith(message)
    assert app.state.evaluations.recent() == jobs


def test_too_many_questions_or_too_large_a_file_is_refused(eddie, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_QUESTIONS", 2)
    response = upload(eddie, "/editor/evaluate", "q.jsonl", jsonl(*QUESTIONS))
    assert (response.status_code, element(response, "evaluate-error")) == (
        400, "q.jsonl: 3 questions; at most 2 at a time (split the file)")
    monkeypatch.setattr(uploads, "MAX_QUESTIONS_BYTES", 20)
    response = upload(eddie, "/editor/evaluate", "q.jsonl", jsonl(*QUESTIONS))
    assert (response.status_code, element(response, "evaluate-error")) == (
        413, "q.jsonl: larger than 20 bytes; nothing evaluated")
    response = upload(eddie, "/editor/evaluate", "q.csv", b"text\nhello\n")
    assert element(response, "evaluate-error") == "q.csv: a question file is JSON Lines (.jsonl), one question a line"


def test_one_evaluation_at_a_time(app, eddie):
    evaluations = app.state.evaluations
    running = EvaluationJob(id="running-job", file_name="big.jsonl", started_by="someone", total=500, entries=5,
                            started_at=app.state.cases.now())
    evaluations._jobs[running.id] = running
    try:
        response = upload(eddie, "/editor/evaluate", "questions.jsonl", jsonl(*QUESTIONS))
        assert response.status_code == 409
        assert element(response, "evaluate-error").startswith("Another evaluation is running")
        assert 'href="/editor/evaluate/running-job"' in response.text
        progress = eddie.get("/editor/evaluate/running-job")
        assert element(progress, "evaluation-status").startswith("Answering the questions: 0 of 500.")
    finally:
        del evaluations._jobs[running.id]


def test_an_unknown_evaluation_is_explained(eddie):
    response = eddie.get("/editor/evaluate/no-such-job")
    assert (response.status_code, element(response, "error-title")) == (404, "Evaluation not found")
