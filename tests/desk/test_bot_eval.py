"""The conversation-level evaluation's figures and message file, without a running assistant."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from desk.bot_eval import (
    REPORT_KEYS,
    ROUTES,
    EvalMessage,
    MessageFileError,
    Observed,
    misses,
    offered_entries,
    read_messages,
    score,
)
from desk.cli import app

MESSAGES = [
    EvalMessage(text="how do i get a library card", route="answer", expected_ids=("demo-0054",)),
    EvalMessage(text="library hours?", route="answer", expected_ids=("demo-0055",)),
    EvalMessage(text="pothole on main st", route="case", department="Public Works", sla="simple"),
    EvalMessage(text="the pool should open earlier", route="case", department="Parks & Recreation", sla="policy"),
    EvalMessage(text="my house is on fire", route="emergency"),
    EvalMessage(text="hi", route="smalltalk"),
    EvalMessage(text="best pizza in town?", route="out_of_scope"),
]
OBSERVED = [
    Observed("answer", entry_id="demo-0054"),
    Observed("answer", entry_id="demo-0056", asked=True),  # a wrong entry, asking whether it answered
    Observed("case", department="Public Works", sla="simple"),
    Observed("case", department="Citizen Services", sla="review"),  # wrong department and class
    Observed("emergency", department="Citizen Services", sla="emergency"),
    Observed("smalltalk"),
    Observed("answer", entry_id="demo-0010"),  # answered what it should not have
]


def test_score_counts_every_figure_over_the_messages_it_is_about():
    report = score(MESSAGES, OBSERVED)
    assert tuple(report) == REPORT_KEYS
    assert report["n"] == 7
    assert report["route_accuracy"] == round(6 / 7, 4)
    assert report["answer_top1"] == 0.5
    assert report["department_accuracy"] == 0.5
    assert report["sla_accuracy"] == 0.5
    assert report["emergency_recall"] == 1.0
    assert report["wrong_auto_answers"] == 2  # an answer that asks is right or wrong like any other
    assert report["asked_answers"] == 1
    assert report["confusion"] == {
        "answer": {"answer": 2, "case": 0, "emergency": 0, "smalltalk": 0, "out_of_scope": 0},
        "case": {"answer": 0, "case": 2, "emergency": 0, "smalltalk": 0, "out_of_scope": 0},
        "emergency": {"answer": 0, "case": 0, "emergency": 1, "smalltalk": 0, "out_of_scope": 0},
        "smalltalk": {"answer": 0, "case": 0, "emergency": 0, "smalltalk": 1, "out_of_scope": 0},
        "out_of_scope": {"answer": 1, "case": 0, "emergency": 0, "smalltalk": 0, "out_of_scope": 0},
    }


def test_clarifications_count_for_answers_when_a_right_entry_was_offered():
    messages = [EvalMessage(text="q1", route="answer", expected_ids=("demo-0067",)),
                EvalMessage(text="q2", route="answer", expected_ids=("demo-0001",)),
                EvalMessage(text="q3", route="answer", expected_ids=("demo-0054",)),
                EvalMessage(text="q4", route="case")]
    observed = [Observed("clarify", options=("demo-0062", "demo-0067")), Observed("clarify", options=("demo-0002",)),
                Observed("answer", entry_id="demo-0054"), Observed("clarify", options=("demo-0001", "demo-0002"))]
    report = score(messages, observed)
    assert (report["clarify_rate"], report["answer_top1"], report["answer_top1_with_choice"]) == (0.75, round(1 / 3, 4),
                                                                                                  round(2 / 3, 4))
    assert (report["route_accuracy"], report["wrong_auto_answers"]) == (0.25, 0)
    assert report["confusion"]["answer"]["clarify"] == 2
    assert [m.detail for m in misses(messages, observed)] == [
        "offered demo-0062/demo-0067 (expected demo-0067)", "offered demo-0002 (expected demo-0001)",
        "offered demo-0001/demo-0002 (expected None, None)"]


def test_the_entries_offered_are_read_from_the_buttons_of_the_reply():
    replies = [{"recipient_id": "x", "text": "Did you mean:", "buttons": [
        {"title": "Q?", "payload": '/choose_entry{"kb_entry_id":"demo-0067"}'},
        {"title": "R?", "payload": '/choose_entry{"kb_entry_id":"demo-0062"}'},
        {"title": "None of these", "payload": "/none_of_these"}]}, {"custom": {"citydesk": {}}}]
    assert offered_entries(replies) == ("demo-0067", "demo-0062")
    assert offered_entries([{"text": "An answer", "buttons": [{"title": "Yes", "payload": '/feedback{"helpful":true}'}]}
                            ]) == ()


def test_a_figure_without_messages_is_null_and_unknown_routes_get_their_own_column():
    report = score([EvalMessage(text="hi", route="smalltalk")], [Observed("status")])
    assert (report["answer_top1"], report["department_accuracy"], report["sla_accuracy"],
            report["emergency_recall"]) == (None, None, None, None)
    assert report["route_accuracy"] == 0.0
    assert list(report["confusion"]) == list(ROUTES)
    assert report["confusion"]["smalltalk"] == {"answer": 0, "case": 0, "emergency": 0, "smalltalk": 0,
                                                "out_of_scope": 0, "status": 1}


def test_a_missed_emergency_lowers_recall_and_department_names_compare_without_case():
    messages = [EvalMessage(text="gas smell", route="emergency"), EvalMessage(text="fire", route="emergency"),
                EvalMessage(text="leak", route="case", department="water & utilities", sla="simple")]
    observed = [Observed("emergency"), Observed("out_of_scope"),
                Observed("case", department="Water & Utilities", sla="simple")]
    report = score(messages, observed)
    assert report["emergency_recall"] == 0.5
    assert report["department_accuracy"] == 1.0


def test_misses_name_what_was_expected_and_what_happened():
    found = misses(MESSAGES, OBSERVED)
    assert [(m.expected, m.got, m.text, m.detail) for m in found] == [
        ("answer", "answer", "library hours?", "demo-0056 (expected demo-0055)"),
        ("case", "case", "the pool should open earlier",
         "Citizen Services, review (expected Parks & Recreation, policy)"),
        ("out_of_scope", "answer", "best pizza in town?", "demo-0010 (expected out_of_scope)"),
    ]


def test_read_messages_skips_blank_lines_and_names_a_bad_line(tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "hi", "route": "smalltalk", "note": "extra fields are ignored"}) + "\n\n"
                    + json.dumps({"text": "pothole", "route": "case", "department": "Public Works",
                                  "sla": "simple"}) + "\n")
    assert read_messages(good) == [EvalMessage(text="hi", route="smalltalk"),
                                   EvalMessage(text="pothole", route="case", department="Public Works",
                                               sla="simple")]
    cases = {'{"text": "hi", "route": "chitchat"}': "line 2: route: Input should be",
             '{"text": "  ", "route": "smalltalk"}': "line 2: text: Value error, text is empty",
             '{"text": "x", "route": "case", "sla": "urgent"}': "line 2: sla: Input should be",
             '{"text": "x"': "line 2: not JSON"}
    for line, error in cases.items():
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"text": "hi", "route": "smalltalk"}\n' + line + "\n")
        with pytest.raises(MessageFileError, match=error):
            read_messages(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(MessageFileError, match="has no messages"):
        read_messages(empty)


def test_the_demo_message_set_is_valid_and_covers_every_route():
    from handoff.directory import default_directory
    from settings import DEMO_KB_FILE, PROJECT_ROOT

    messages = read_messages(PROJECT_ROOT / "bot" / "eval" / "demo_messages.jsonl")
    entry_ids = {json.loads(line)["id"] for line in DEMO_KB_FILE.read_text().splitlines() if line.strip()}
    names = {d.name for d in default_directory().departments}
    assert len(messages) >= 80
    assert {m.route for m in messages} == set(ROUTES)
    assert all(m.expected_ids and set(m.expected_ids) <= entry_ids for m in messages if m.route == "answer")
    assert all(m.department in names and m.sla for m in messages if m.route == "case")
    assert {m.sla for m in messages if m.route == "case"} == {"simple", "review", "policy"}


def test_bot_eval_without_a_token_or_with_nothing_listening_is_a_clear_error(tmp_path, monkeypatch):
    from tests.support import free_port

    monkeypatch.delenv("CITYDESK_INTERNAL_TOKEN", raising=False)
    messages = tmp_path / "m.jsonl"
    messages.write_text('{"text": "hi", "route": "smalltalk"}\n')
    runner = CliRunner()
    no_token = runner.invoke(app, ["bot", "eval", "--messages", str(messages), "--data-dir", str(tmp_path)])
    assert no_token.exit_code == 2
    assert "no internal token" in " ".join(no_token.output.split())
    (tmp_path / "internal_token").write_text("some-token\n")
    nothing = runner.invoke(app, ["bot", "eval", "--messages", str(messages), "--data-dir", str(tmp_path),
                                  "--url", f"http://127.0.0.1:{free_port()}"])
    assert nothing.exit_code == 2
    assert "cannot reach the assistant (Rasa)" in " ".join(nothing.output.split())


def test_a_follow_up_is_measured_after_its_earlier_messages_and_gets_a_status_row(tmp_path):
    messages = tmp_path / "mixed.jsonl"
    messages.write_text('{"text": "is it fixed yet?", "before": ["pothole on main st"], "route": "status"}\n'
                        '{"text": "hi", "route": "smalltalk"}\n')
    follow_up, hello = read_messages(messages)
    assert (follow_up.before, follow_up.route, hello.before) == (("pothole on main st",), "status", ())
    report = score([follow_up, follow_up, hello], [Observed("status"), Observed("case"), Observed("smalltalk")])
    assert report["route_accuracy"] == round(2 / 3, 4)
    assert report["confusion"]["status"] == {"answer": 0, "case": 1, "emergency": 0, "smalltalk": 0,
                                             "out_of_scope": 0, "status": 1}
    assert "status" not in score([hello], [Observed("smalltalk")])["confusion"]  # only when a file has follow-ups


def test_a_department_named_as_the_desk_names_it_counts_as_the_same_department():
    """A city's entries say "Parks and Recreation" and "Library"; the desk's directory calls the same departments
    "Parks & Recreation" (by its name) and "Public Library" (by its code, library)."""
    messages = [EvalMessage(text="slide broken", route="case", department="Parks and Recreation", sla="simple"),
                EvalMessage(text="late fee", route="case", department="Library", sla="review"),
                EvalMessage(text="rude clerk", route="case", department="Municipal Court", sla="review")]
    observed = [Observed("case", department="Parks & Recreation", department_code="parks", sla="simple"),
                Observed("case", department="Public Library", department_code="library", sla="review"),
                Observed("case", department="Public Works", department_code="public-works", sla="review")]
    report = score(messages, observed)
    assert report["department_accuracy"] == round(2 / 3, 4)
    assert [m.text for m in misses(messages, observed)] == ["rude clerk"]
