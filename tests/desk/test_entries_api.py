"""/api/kb/entries on a real desk app (in-process), real SQLite and the real embedding model: editors only."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from settings import Settings
from tests.conftest import write_jsonl
from tests.desk.inbox_support import CSRF, PASSWORD, add_users
from tests.knowledge_base.conftest import SMALL_ENTRIES
from tests.support import free_port

POTHOLE = {"id": "t-pothole", "question": "How do I report a pothole?", "alt_questions": ["hole in the road"],
           "answer": "Report it on the Street Care page.", "department": "Public Works", "topic": "Streets",
           "category": None, "url": None, "language": "en"}
ENTRY_KEYS = {"id", "question", "alt_questions", "answer", "department", "topic", "category", "url", "language"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("entries-api")
    seed = write_jsonl(folder / "seed.jsonl", [e.model_dump(mode="json") for e in SMALL_ENTRIES])
    settings = Settings(data_dir=folder / "data", seed_kb_file=seed, answer_threshold=0.6, rasa_port=free_port(),
                        internal_token="test-internal-token")
    application = create_app(settings)
    with TestClient(application):
        add_users(application.state.staff)
        yield application


def anonymous(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def logged_in(app, username: str) -> TestClient:
    client = anonymous(app)
    csrf = CSRF.search(client.get("/inbox/login").text).group(1)
    response = client.post("/inbox/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="module")
def eddie(app) -> TestClient:
    return logged_in(app, "eddie")


def internal(app) -> TestClient:
    return TestClient(app, headers={"Authorization": "Bearer test-internal-token",
                                    "X-CityDesk-Editor": "sync-job"})


# (method, path, json body) of every endpoint; none of them may work for a citizen or department staff
ENDPOINTS = [
    ("get", "/api/kb/entries", None),
    ("post", "/api/kb/entries", {"entry": {**POTHOLE, "id": "t-denied"}, "note": ""}),
    ("get", "/api/kb/entries/export", None),
    ("post", "/api/kb/entries/near-duplicates", {"question": "pothole"}),
    ("post", "/api/kb/entries/preview", {"question": "pothole"}),
    ("get", "/api/kb/entries/t-bulk", None),
    ("put", "/api/kb/entries/t-bulk", {"entry": {**SMALL_ENTRIES[0].model_dump(mode="json"), "answer": "Hacked."}}),
    ("get", "/api/kb/entries/t-bulk/history", None),
    ("post", "/api/kb/entries/t-bulk/publish", {"note": ""}),
    ("post", "/api/kb/entries/t-bulk/retire", {"note": ""}),
    ("post", "/api/kb/entries/t-bulk/revert", {"version": 1, "note": ""}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_citizen_gets_401_and_department_staff_and_supervisors_get_403(app, method, path, body):
    assert anonymous(app).request(method, path, json=body).status_code == 401
    for username in ("rosa", "sam"):  # department staff, supervisor
        response = logged_in(app, username).request(method, path, json=body)
        assert response.status_code == 403, response.text
        assert "content editors" in response.json()["detail"]
    wrong = TestClient(app, headers={"Authorization": "Bearer wrong"}).request(method, path, json=body)
    assert wrong.status_code == 401
    assert len(app.state.entry_editor.history("t-bulk")) == 1  # nothing changed


def test_a_refused_import_upload_changes_nothing(app):
    files = {"file": ("kb.jsonl", json.dumps({**POTHOLE, "id": "t-upload"}).encode() + b"\n")}
    assert anonymous(app).post("/api/kb/entries/import", files=files).status_code == 401
    assert logged_in(app, "rosa").post("/api/kb/entries/import", files=files).status_code == 403
    with pytest.raises(LookupError):
        app.state.entry_editor.get("t-upload")


def test_an_editor_creates_publishes_retires_and_reverts_and_search_follows(app, eddie):
    created = eddie.post("/api/kb/entries", json={"entry": POTHOLE, "note": "new"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["entry"] == POTHOLE and set(body["entry"]) == ENTRY_KEYS
    assert (body["state"], body["version"], body["published_version"], body["updated_by"]) == (
        "draft", 1, None, "eddie")
    assert eddie.post("/api/kb/entries", json={"entry": POTHOLE}).status_code == 409

    def answered() -> tuple[str | None, int | None]:
        result = anonymous(app).post("/api/kb/search", json={"text": "how do I report a pothole"}).json()
        return (result["answer"]["id"], result["answer"]["version"]) if result["answer"] else (None, None)

    assert answered() == (None, None)
    assert eddie.post("/api/kb/entries/t-pothole/publish", json={"note": "ok"}).json()["version"] == 2
    assert answered() == ("t-pothole", 2)
    conflict = eddie.post("/api/kb/entries/t-pothole/publish", json={"note": "again"})
    assert (conflict.status_code, conflict.json()["detail"]) == (409, "cannot publish entry 't-pothole': it is "
                                                                      "already published")
    edited = eddie.put("/api/kb/entries/t-pothole", json={"entry": {**POTHOLE, "answer": "Call 311."}, "note": "x"})
    assert (edited.json()["state"], edited.json()["version"], edited.json()["published_version"]) == (
        "draft", 3, 2)
    assert answered() == ("t-pothole", 2)  # the published version answers until the draft is published
    assert eddie.post("/api/kb/entries/t-pothole/retire", json={"note": "gone"}).json()["state"] == "retired"
    assert answered() == (None, None)
    reverted = eddie.post("/api/kb/entries/t-pothole/revert", json={"version": 2, "note": "back"}).json()
    assert (reverted["state"], reverted["version"], reverted["entry"]["answer"]) == (
        "published", 5, POTHOLE["answer"])
    assert answered() == ("t-pothole", 5)
    history = eddie.get("/api/kb/entries/t-pothole/history").json()
    assert [(v["version"], v["state"], v["editor"], v["note"]) for v in history] == [
        (5, "published", "eddie", "back"), (4, "retired", "eddie", "gone"), (3, "draft", "eddie", "x"),
        (2, "published", "eddie", "ok"), (1, "draft", "eddie", "new")]
    got = eddie.get("/api/kb/entries/t-pothole").json()
    assert (got["state"], got["version"], got["entry"]) == ("published", 5, POTHOLE)


def test_errors_are_clear(eddie):
    assert eddie.get("/api/kb/entries/nope").status_code == 404
    missing = eddie.post("/api/kb/entries/t-dog/revert", json={"version": 99})
    assert (missing.status_code, missing.json()["detail"]) == (404, "entry 't-dog' has no version 99: its "
                                                                    "versions are 1 to 1")
    renamed = eddie.put("/api/kb/entries/t-dog", json={"entry": {**POTHOLE, "id": "t-cat"}})
    assert renamed.status_code == 422 and "ids cannot change" in renamed.json()["detail"]
    assert eddie.put("/api/kb/entries/t-none", json={"entry": {**POTHOLE, "id": "t-none"}}).status_code == 404
    bad = eddie.post("/api/kb/entries", json={"entry": {**POTHOLE, "id": "t-x", "answer": ""}})
    assert bad.status_code == 422
    assert eddie.get("/api/kb/entries", params={"state": "archived"}).status_code == 422


def test_a_language_that_is_not_a_language_code_is_refused_and_nothing_is_saved(eddie):
    created = eddie.post("/api/kb/entries", json={"entry": {**POTHOLE, "id": "t-bad-lang", "language": "Spanish"}})
    assert created.status_code == 422
    assert created.json()["detail"][0]["loc"][-1] == "language"
    assert "'Spanish' is not a language code" in created.json()["detail"][0]["msg"]
    assert eddie.get("/api/kb/entries/t-bad-lang").status_code == 404


def test_a_source_url_that_is_not_a_web_address_is_refused_and_nothing_is_saved(eddie):
    created = eddie.post("/api/kb/entries", json={"entry": {**POTHOLE, "id": "t-bad-url", "url": "not a url"}})
    assert created.status_code == 422
    assert created.json()["detail"][0]["loc"][-1] == "url"
    assert "'not a url' is not a web address" in created.json()["detail"][0]["msg"]
    assert eddie.get("/api/kb/entries/t-bad-url").status_code == 404
    edited = eddie.put("/api/kb/entries/t-dog", json={"entry": {**POTHOLE, "id": "t-dog", "url": "javascript:x()"}})
    assert edited.status_code == 422
    assert len(eddie.get("/api/kb/entries/t-dog/history").json()) == 1
    upload = {"file": ("urls.jsonl", json.dumps({**POTHOLE, "id": "t-bad-import", "url": "www.example"}).encode())}
    refused = eddie.post("/api/kb/entries/import", files=upload)
    assert (refused.status_code, refused.json()["detail"]) == (422, (
        "urls.jsonl, line 1: url 'www.example' is not a web address; write it as https://www.example.org/page; "
        "nothing was imported"))
    assert eddie.get("/api/kb/entries/t-bad-import").status_code == 404


def test_list_filters_and_pages(eddie):
    page = eddie.get("/api/kb/entries", params={"department": "Animal Services"}).json()
    assert page["total"] == 2 and [i["entry"]["id"] for i in page["items"]] == ["t-dog", "t-perros"]
    assert [i["entry"]["id"] for i in eddie.get("/api/kb/entries", params={"text": "photo id"}).json()["items"]] \
        == ["t-library"]
    paged = eddie.get("/api/kb/entries", params={"limit": 2, "offset": 1}).json()
    assert len(paged["items"]) == 2 and paged["total"] >= 5


def test_near_duplicates_and_preview(eddie):
    found = eddie.post("/api/kb/entries/near-duplicates", json={"question": "how do I license my dog"}).json()
    assert found[0]["record"]["entry"]["id"] == "t-dog" and 0.5 < found[0]["similarity"] <= 1.0
    preview = eddie.post("/api/kb/entries/preview", json={"question": "library card application"}).json()
    assert preview["answer"]["id"] == "t-library" and preview["answer"]["version"] == 1
    assert preview["threshold"] == 0.6


def test_import_and_export_through_the_api(app, eddie):
    rows = [{**POTHOLE, "id": "t-imported", "question": "Where do I recycle batteries?",
             "answer": "At the recycling centre, Mill Road."}]
    upload = {"file": ("more.jsonl", "".join(json.dumps(r) + "\n" for r in rows).encode())}
    assert internal(app).post("/api/kb/entries/import", files=upload).json() == {
        "created": 1, "updated": 0, "unchanged": 0}
    assert internal(app).post("/api/kb/entries/import", files=upload).json() == {
        "created": 0, "updated": 0, "unchanged": 1}
    record = eddie.get("/api/kb/entries/t-imported").json()
    assert (record["state"], record["updated_by"]) == ("published", "sync-job")
    assert eddie.get("/api/kb/entries/t-imported/history").json()[0]["note"] == "imported from more.jsonl"
    bad = {"file": ("bad.csv", b"id,question,answer,colour\nx,Q?,A.,red\n")}
    refused = eddie.post("/api/kb/entries/import", files=bad)
    assert refused.status_code == 422
    assert refused.json()["detail"] == ("bad.csv, line 1: unknown column(s) colour; allowed: id, question, "
                                        "alt_questions, answer, department, topic, category, url, language; "
                                        "nothing was imported")
    exported = eddie.get("/api/kb/entries/export", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "t-imported" in exported.text and "Where do I recycle batteries?" in exported.text
    lines = eddie.get("/api/kb/entries/export").text.splitlines()
    assert {json.loads(line)["id"] for line in lines} >= {"t-bulk", "t-imported"}
