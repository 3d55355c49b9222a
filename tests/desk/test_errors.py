"""The domain's errors answered once (desk/api/errors.py): one status per error class, the JSON API's
{"detail": ...}, Open311's own format, and no route translating them itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from desk.api import errors
from disclosure.public import DisclosureError
from disclosure.staff_review import OriginalsRefused, RedactionRefused, TranscriptNotFound
from handoff.service import CaseError
from knowledge_base.importer import EntryFileError
from knowledge_base.lifecycle import EntryError, EntryNotFound, InvalidTransition, VersionNotFound

DESK = Path(__file__).resolve().parents[2] / "desk"
# The only domain errors a route may still catch: refusals shown on the page the form was on (with what was
# typed), the uploaded file's name in an import's error, and asking whether an entry exists.
CAUGHT_BY_ROUTES = {
    ("api/entries.py", "EntryFileError"),  # names the upload, not the temporary copy that was read
    ("api/entries.py", "EntryNotFound"),  # entry_exists
    ("web/editor.py", "EntryError"),  # the entry form and the entry page show the reason
    ("web/inbox.py", "CaseError"),  # the case page shows the reason beside the action's form
    ("web/transcripts.py", "RedactionRefused"),  # the transcript page shows the reason beside the form
    ("web/disclosure.py", "DisclosureError"),  # the public listing shows the bad filter
}


@pytest.mark.parametrize(("error", "status"), [
    (EntryNotFound("x"), 404), (VersionNotFound("x", 9, 2), 404), (TranscriptNotFound("there is no message 1"), 404),
    (LookupError("no case CD-2026-000001"), 404), (OriginalsRefused("not yours"), 403),
    (InvalidTransition("x", "published", "published"), 409), (EntryError("a note is at most 1000 characters"), 422),
    (EntryFileError(Path("kb.jsonl"), 3, "bad JSON"), 422), (DisclosureError("bad date"), 400),
    (RedactionRefused("give the reason"), 400), (CaseError("case CD-2026-000001 is closed"), 400),
])
def test_every_domain_error_has_one_status(error, status):
    assert errors.status_of(error) == status


@pytest.mark.parametrize("error", [KeyError("x"), IndexError("x"), ValueError("x"), PermissionError("x")])
def test_bugs_and_other_exceptions_have_no_status(error):
    assert errors.status_of(error) is None


def raising(error: Exception) -> TestClient:
    app = FastAPI()
    errors.register(app)

    @app.get("/api/thing")
    def thing() -> None:
        raise error

    @app.get("/open311/v2/requests/{service_request_id}.{fmt}")
    def request(service_request_id: str, fmt: str) -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("error", "status", "detail"), [
    (LookupError("no case CD-2026-000001"), 404, "There is no case CD-2026-000001."),
    (EntryNotFound("kb-x"), 404, "no entry 'kb-x'"),
    (InvalidTransition("kb-x", "retired", "retired"), 409, "cannot retire entry 'kb-x': it is already retired"),
    (EntryError("a note is at most 1000 characters"), 422, "a note is at most 1000 characters"),
    (DisclosureError("date_from 'soon' is not a date"), 400, "date_from 'soon' is not a date"),
])
def test_the_json_api_answers_the_status_and_the_errors_message(error, status, detail):
    response = raising(error).get("/api/thing")
    assert (response.status_code, response.json()) == (status, {"detail": detail})


def test_open311_answers_in_its_own_format():
    client = raising(LookupError("no case cd-2026-9"))
    response = client.get("/open311/v2/requests/cd-2026-9.json")
    assert (response.status_code, response.json()) == (
        404, [{"code": 404, "description": "There is no service request cd-2026-9."}])


def test_a_key_error_stays_a_server_error():
    assert raising(KeyError("department")).get("/api/thing").status_code == 500
    assert raising(KeyError("department")).get("/open311/v2/requests/x.json").status_code == 500


def test_the_case_status_api_says_which_case_there_is_not(client, desk_settings):
    internal = {"Authorization": f"Bearer {desk_settings.resolved_internal_token}"}
    response = client.get("/api/cases/status", headers=internal,
                          params={"conversation_id": "web-errors", "text": "what about cd-2026-999999?"})
    assert (response.status_code, response.json()) == (404, {"detail": "There is no case CD-2026-999999."})


def test_the_entries_api_answers_refusals_with_the_knowledge_bases_message(client, desk_settings):
    internal = {"Authorization": f"Bearer {desk_settings.resolved_internal_token}"}
    missing = client.get("/api/kb/entries/no-such-entry", headers=internal)
    assert (missing.status_code, missing.json()) == (404, {"detail": "no entry 'no-such-entry'"})
    published = client.get("/api/kb/entries/demo-0001", headers=internal).json()
    assert published["state"] == "published"
    again = client.post("/api/kb/entries/demo-0001/publish", headers=internal, json={"note": "again"})
    assert (again.status_code, again.json()) == (409, {"detail": "cannot publish entry 'demo-0001': it is "
                                                                 "already published"})
    version = client.post("/api/kb/entries/demo-0001/revert", headers=internal, json={"version": 99})
    assert version.status_code == 404
    assert version.json()["detail"].startswith("entry 'demo-0001' has no version 99")


def caught_domain_errors() -> set[tuple[str, str]]:
    """(file, exception name) of every except clause in the routers that names a domain error."""
    names = {kind.__name__ for kind in errors.DOMAIN_ERRORS}
    caught = set()
    for path in sorted([*DESK.glob("api/*.py"), *DESK.glob("web/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                types = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
                caught |= {(path.relative_to(DESK).as_posix(), t.id) for t in types
                           if isinstance(t, ast.Name) and t.id in names}
    return caught


def test_no_route_translates_a_domain_error_itself():
    assert caught_domain_errors() <= CAUGHT_BY_ROUTES
