"""Scoring the redactor on a labelled corpus, reading corpora, and `citydesk transcripts redaction-eval`."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from desk.cli import app
from privacy.evaluation import CorpusError, evaluate, load_corpus
from tests.privacy.conftest import REDACTOR

SMALL = [
    # a phone found, a lower-case name with no cue before it missed
    {"id": "a", "text": "helen ward saw it. Call 303-555-0142", "spans": [{"kind": "name", "start": 0, "end": 10},
                                                                          {"kind": "phone", "start": 24, "end": 36}]},
    # labelled as no personal data, but the redactor finds a phone: a false alarm
    {"id": "b", "text": "The hotline is 720-555-0190.", "spans": []},
    # a phone redacted under another kind: found by no prediction of its kind, but it leaks nothing
    {"id": "c", "text": "My SSN is 123-45-6789", "spans": [{"kind": "phone", "start": 10, "end": 21}]},
    {"id": "d", "text": "When is bulk pickup?", "spans": []},
]


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_scores_per_kind_and_leaked_characters(tmp_path):
    report = evaluate(load_corpus(write(tmp_path / "c.jsonl", SMALL)), REDACTOR)
    phone, name, national_id = report.kinds["phone"], report.kinds["name"], report.kinds["national_id"]
    assert (phone.gold, phone.found, phone.predicted, phone.correct) == (2, 1, 2, 1)
    assert (phone.recall, phone.precision) == (0.5, 0.5)
    assert (name.gold, name.found, name.recall, name.leaked_chars, name.gold_chars) == (1, 0, 0.0, 10, 10)
    assert phone.leaked_chars == 0  # the SSN-shaped "phone" is covered, under another label
    assert (national_id.predicted, national_id.correct, national_id.precision) == (1, 0, 0.0)
    assert report.overall.leaked_chars == 10 and report.messages == 4
    assert {(e.message_id, e.what, e.kind, e.text) for e in report.errors} == {
        ("a", "missed", "name", "helen ward"), ("b", "false_alarm", "phone", "720-555-0190"),
        ("c", "missed", "phone", "123-45-6789"), ("c", "false_alarm", "national_id", "123-45-6789")}
    assert report.kinds["email"].precision is None and report.kinds["email"].recall is None


@pytest.mark.parametrize(("row", "message"), [
    ({"id": "x", "text": "abc", "spans": [{"kind": "phone", "start": 1, "end": 9}]}, "outside the text"),
    ({"id": "x", "text": "abcdef", "spans": [{"kind": "phone", "start": 0, "end": 4},
                                              {"kind": "name", "start": 3, "end": 5}]}, "overlap"),
    ({"id": "x", "text": "abc", "spans": [{"kind": "iban", "start": 0, "end": 2}]}, "unknown kind 'iban'"),
    ({"id": "x", "spans": []}, "'text'"),
])
def test_a_bad_corpus_line_is_named(tmp_path, row, message):
    path = write(tmp_path / "bad.jsonl", [{"id": "ok", "text": "fine", "spans": []}, row])
    with pytest.raises(CorpusError, match=f"line 2: .*{message}"):
        load_corpus(path)


def test_a_duplicate_id_and_broken_json_are_named(tmp_path):
    path = write(tmp_path / "dup.jsonl", [{"id": "x", "text": "a", "spans": []}, {"id": "x", "text": "b", "spans": []}])
    with pytest.raises(CorpusError, match="line 2: the id 'x' is used twice"):
        load_corpus(path)
    (tmp_path / "broken.jsonl").write_text('{"id": "x", "text": "a", "spans": []}\n{"id": \n', encoding="utf-8")
    with pytest.raises(CorpusError, match="line 2"):
        load_corpus(tmp_path / "broken.jsonl")


def test_cli_prints_the_table_and_the_errors(tmp_path):
    result = CliRunner().invoke(app, ["transcripts", "redaction-eval", "--corpus",
                                      str(write(tmp_path / "c.jsonl", SMALL))])
    assert result.exit_code == 0, result.output
    assert "Redaction on 4 messages" in result.output
    assert "missed" in result.output and "'helen ward'" in result.output and "false alarm" in result.output


def test_cli_json(tmp_path):
    result = CliRunner().invoke(app, ["transcripts", "redaction-eval", "--json", "--corpus",
                                      str(write(tmp_path / "c.jsonl", SMALL))])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["messages"] == 4
    assert data["kinds"]["phone"] | {"precision": 0.5, "recall": 0.5} == data["kinds"]["phone"]
    assert data["overall"]["leaked_chars"] == 10


def test_cli_on_the_project_corpus_by_default():
    result = CliRunner().invoke(app, ["transcripts", "redaction-eval", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["messages"] >= 220


def test_cli_refuses_a_bad_corpus_clearly(tmp_path):
    result = CliRunner().invoke(app, ["transcripts", "redaction-eval", "--corpus", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2
    assert "Cannot read the corpus" in result.output
