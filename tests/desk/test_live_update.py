"""Live updates: a change published by another process (the CLI) reaches a running desk process without a restart."""

from __future__ import annotations

import time

import httpx
import pytest
from typer.testing import CliRunner

from desk.cli import app
from desk.stack import Stack
from settings import Settings
from tests.conftest import write_jsonl
from tests.knowledge_base.conftest import SMALL_ENTRIES
from tests.support import free_port

NEW = {"id": "t-pothole", "question": "How do I report a pothole?", "alt_questions": ["hole in the road"],
       "answer": "Report it on the Street Care page.", "department": "Public Works", "topic": "Streets"}
QUESTION = "how do I report a pothole"
# the desk polls every 2 s; re-indexing one entry takes milliseconds
DEADLINE_S = 10.0


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    """The real desk process (no Rasa), on SMALL_ENTRIES, with a fixed threshold."""
    folder = tmp_path_factory.mktemp("live")
    seed = write_jsonl(folder / "seed.jsonl", [e.model_dump(mode="json") for e in SMALL_ENTRIES])
    settings = Settings(data_dir=folder / "data", seed_kb_file=seed, answer_threshold=0.6, internal_token=None,
                        desk_port=free_port(), rasa_port=free_port(), action_port=free_port())
    with Stack(settings, components=("desk",), connectors=()) as running:
        yield running


def answer_of(desk: Stack) -> dict | None:
    response = httpx.post(f"{desk.settings.desk_url}/api/kb/search", json={"text": QUESTION}, timeout=10)
    response.raise_for_status()
    return response.json()["answer"]


def wait_for(desk: Stack, predicate) -> float:
    """Seconds until the desk's answer satisfies `predicate`; fails after DEADLINE_S."""
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE_S:
        if predicate(answer_of(desk)):
            return time.monotonic() - start
        time.sleep(0.2)
    pytest.fail(f"the running desk did not take the change within {DEADLINE_S} s; it answers {answer_of(desk)}")


def cli(desk: Stack, *args: str):
    result = CliRunner().invoke(app, ["kb", *args, "--database-url", desk.settings.resolved_database_url])
    assert result.exit_code == 0, result.output
    return result


def test_a_change_made_with_the_cli_reaches_the_running_desk_within_seconds(desk, tmp_path):
    assert answer_of(desk) is None
    cli(desk, "import", str(write_jsonl(tmp_path / "new.jsonl", [NEW])), "--draft")
    time.sleep(3)  # more than one poll: a draft must never answer
    assert answer_of(desk) is None

    cli(desk, "publish", "t-pothole", "--note", "ready")
    waited = wait_for(desk, lambda a: a is not None and a["id"] == "t-pothole")
    assert answer_of(desk)["version"] == 2
    assert waited < DEADLINE_S
    # what the assistant's action server asks the desk for a citizen's message: answered by the new entry
    decision = httpx.post(f"{desk.settings.desk_url}/api/messages", timeout=30,
                          headers={"Authorization": f"Bearer {desk.settings.resolved_internal_token}"},
                          json={"text": QUESTION, "conversation_id": "web-live-update"}).json()
    assert (decision["route"], decision["answer"]["id"], decision["answer"]["version"]) == ("answer", "t-pothole", 2)

    cli(desk, "import", str(write_jsonl(tmp_path / "edit.jsonl", [{**NEW, "answer": "Call 311 about potholes."}])))
    wait_for(desk, lambda a: a is not None and a["answer"] == "Call 311 about potholes." and a["version"] == 3)

    cli(desk, "retire", "t-pothole")
    wait_for(desk, lambda a: a is None)
    log = (desk.settings.data_dir / "logs" / "desk.log").read_text()
    # each change re-indexed the one entry that changed, never the whole knowledge base
    assert "Re-indexed 1 changed entries" in log and "Re-indexed 6 changed entries" not in log


def test_a_change_through_the_desk_api_applies_at_once(desk):
    token = desk.settings.resolved_internal_token
    headers = {"Authorization": f"Bearer {token}"}
    entry = {**NEW, "id": "t-graffiti", "question": "Who removes graffiti?", "alt_questions": [],
             "answer": "The graffiti team, within a week."}
    url = f"{desk.settings.desk_url}/api/kb/entries"
    assert httpx.post(url, json={"entry": entry}, headers=headers).status_code == 201
    assert httpx.post(f"{url}/t-graffiti/publish", json={}, headers=headers).status_code == 200
    found = httpx.post(f"{desk.settings.desk_url}/api/kb/search", json={"text": "who removes graffiti"}).json()
    assert (found["answer"]["id"], found["answer"]["version"]) == ("t-graffiti", 2)  # no wait: same process
