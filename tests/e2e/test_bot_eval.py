"""`citydesk bot eval` against the whole assistant as real processes (shared/EVAL.md, second part)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from desk.bot_eval import REPORT_KEYS, ROUTES
from desk.cli import app
from tests.desk.conftest import flat

pytestmark = pytest.mark.e2e

MESSAGES = [
    {"text": "hello there", "route": "smalltalk"},
    {"text": "How do I get a library card?", "route": "answer", "expected_ids": ["demo-0054"]},
    {"text": "There's a huge pothole on Main St near 5th, nearly wrecked my bike", "route": "case",
     "department": "Public Works", "sla": "simple"},
    {"text": "help there is a fire in my neighbours kitchen and smoke everywhere", "route": "emergency"},
    {"text": "tell me a joke", "route": "out_of_scope"},
    # expected to be answered, but it is small talk: one wrong route, not an automatic answer
    {"text": "thanks a lot", "route": "answer", "expected_ids": ["demo-0001"]},
]


@pytest.fixture
def messages_file(tmp_path):
    path = tmp_path / "messages.jsonl"
    path.write_text("".join(json.dumps(m) + "\n" for m in MESSAGES))
    return path


def evaluate(stack, messages_file, *extra: str):
    return CliRunner().invoke(app, ["bot", "eval", "--messages", str(messages_file), "--url", stack.settings.rasa_url,
                                    "--desk-url", stack.settings.desk_url, *extra])


def test_bot_eval_counts_each_route_and_prints_the_report_as_json_on_its_last_line(stack, messages_file):
    result = evaluate(stack, messages_file, "--data-dir", str(stack.settings.data_dir), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert tuple(report) == REPORT_KEYS
    assert report["n"] == 6
    assert report["confusion"] == {
        expected: {actual: int(expected == actual) + int((expected, actual) == ("answer", "smalltalk"))
                   for actual in ROUTES}
        for expected in ROUTES}
    assert report["route_accuracy"] == round(5 / 6, 4)
    assert report["answer_top1"] == 0.5
    assert (report["department_accuracy"], report["sla_accuracy"], report["emergency_recall"]) == (1.0, 1.0, 1.0)
    assert report["wrong_auto_answers"] == 0
    assert "Routes: expected (rows) against actual (columns)" in result.stdout
    assert "Messages handled wrongly" in result.stdout  # the one message handled wrongly is listed


def test_bot_eval_with_a_wrong_internal_token_stops_with_a_clear_error(stack, messages_file, monkeypatch):
    monkeypatch.setenv("CITYDESK_INTERNAL_TOKEN", "not-the-stacks-token")
    result = evaluate(stack, messages_file)
    assert result.exit_code == 2
    assert "the desk refused the internal token (The internal token is wrong" in flat(result.output)
