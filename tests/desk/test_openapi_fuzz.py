"""Schemathesis over the desk's OpenAPI, against the real desk process over HTTP: no request gets a 500.

Every operation gets generated requests, valid and invalid (schemathesis' positive and negative modes), with the
internal token so that the internal and editor endpoints are exercised past their authentication. Few examples per
operation keep the run near a minute on two cores; SCHEMATHESIS_EXAMPLES=200 runs a longer search.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from desk.app import create_app
from desk.stack import Stack
from settings import DEMO_KB_FILE, Settings
from tests.support import free_port

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    desk_settings = Settings(data_dir=tmp_path_factory.mktemp("fuzz"), seed_kb_file=DEMO_KB_FILE, internal_token=None,
                             desk_port=free_port(), rasa_port=free_port(), action_port=free_port(),
                             open311_api_keys="fuzz-key", answer_threshold=0.6, confirm_threshold=0.5)
    with Stack(desk_settings, components=("desk",), connectors=()) as running:
        yield running


def desk_openapi() -> dict:
    """The desk's OpenAPI document, as the running desk serves it at /openapi.json (building the app is cheap: the
    knowledge base is loaded when it starts serving)."""
    with tempfile.TemporaryDirectory() as folder:
        return create_app(Settings(data_dir=Path(folder))).openapi()


# from the document at collection time, one test per operation (schemathesis' lazy fixture loader does not run on
# pytest 9); the requests go to the real desk process over HTTP
schema = schemathesis.openapi.from_dict(desk_openapi())


def no_server_error(ctx, response, case) -> None:
    """Schemathesis' not_a_server_error (no Rasa runs here: the web chat answers 2xx with the message kept)."""
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code} from {case.method} {case.formatted_path}: {response.text[:500]}")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case, desk):
    headers = {"Authorization": f"Bearer {desk.settings.resolved_internal_token}"}
    response = case.call(base_url=desk.settings.desk_url, headers=headers, timeout=60)
    case.validate_response(response, checks=[no_server_error])


def test_the_check_fails_on_a_server_error_and_on_no_other_answer():
    def outcome(method: str, path: str, status: int) -> bool:
        case = SimpleNamespace(method=method, formatted_path=path, operation=SimpleNamespace(path=path))
        try:
            no_server_error(None, SimpleNamespace(status_code=status, text="boom"), case)
        except AssertionError:
            return False
        return True

    assert not outcome("POST", "/api/kb/search", 500)
    assert not outcome("GET", "/health", 502)
    assert not outcome("POST", "/api/chat", 500)
    assert not outcome("POST", "/api/chat", 503)  # an outage is a 2xx with the message kept
    assert outcome("POST", "/api/kb/search", 422) and outcome("POST", "/api/kb/search", 413)
