"""The `citydesk` command line, run in-process with typer's runner on temporary data folders."""

from __future__ import annotations

import json

import pytest

from desk.cli import app
from tests.conftest import write_jsonl
from tests.desk.conftest import flat
from tests.knowledge_base.conftest import SMALL_ENTRIES

CONTRACT_KEYS = {"n", "n_answerable", "n_unanswerable", "top1", "recall_at_3", "mrr", "auto_answer_rate",
                 "auto_answer_precision", "handoff_recall", "auroc", "department_accuracy", "latency_ms_p50",
                 "latency_ms_p95", "threshold", "clarify_rate", "clarify_hit_rate", "confirm_answer_rate",
                 "confirm_answer_precision", "handled_without_staff_rate", "confirm_threshold"}
EXPECTED_KEYS = {"expected_auto_answer_precision", "expected_auto_answer_rate", "expected_confirm_answer_precision",
                 "expected_confirm_answer_rate"}


@pytest.fixture
def kb_file(tmp_path):
    return write_jsonl(tmp_path / "kb.jsonl", [e.model_dump() | {"alt_questions": list(e.alt_questions)}
                                              for e in SMALL_ENTRIES])


def test_eval_prints_the_contract_json_on_its_last_line(runner, tmp_path, kb_file):
    questions = write_jsonl(tmp_path / "q.jsonl", [
        {"text": "where can i pay a parking fine", "expected_ids": ["t-ticket"],
         "expected_department": "Parking Services"},
        {"text": "getting rid of a big old sofa", "expected_ids": ["t-bulk"]},
        {"text": "what's the score of the game tonight", "expected_ids": []},
    ])
    details = tmp_path / "details.jsonl"
    result = runner.invoke(app, ["kb", "eval", "--kb", str(kb_file), "--questions", str(questions), "--json",
                                 "--details", str(details)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == CONTRACT_KEYS | EXPECTED_KEYS | {"calibration"}
    assert report["expected_auto_answer_precision"] == report["calibration"]["expected_precision"]
    assert report["confirm_threshold"] == report["calibration"]["confirm_threshold"]
    assert (report["n"], report["n_answerable"], report["n_unanswerable"]) == (3, 2, 1)
    assert report["top1"] == 1.0
    assert report["department_accuracy"] == 1.0
    # the threshold calibrated on the knowledge base, as in the running desk
    assert report["threshold"] == report["calibration"]["threshold"]
    assert [json.loads(line)["text"] for line in details.read_text().splitlines()] == [
        "where can i pay a parking fine", "getting rid of a big old sofa", "what's the score of the game tonight"]
    # the live store was never touched
    assert not (tmp_path / "data" / "citydesk.db").exists()


def test_eval_with_an_explicit_threshold_uses_it(runner, tmp_path, kb_file, monkeypatch):
    monkeypatch.setenv("CITYDESK_ANSWER_THRESHOLD", "0.55")
    questions = write_jsonl(tmp_path / "q.jsonl", [{"text": "where can i pay a parking fine",
                                                    "expected_ids": ["t-ticket"]}])
    result = runner.invoke(app, ["kb", "eval", "--kb", str(kb_file), "--questions", str(questions), "--json"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (set(report), report["threshold"]) == (CONTRACT_KEYS, 0.55)


def test_calibrate_stores_the_threshold_the_desk_then_uses(runner, kb_file):
    assert runner.invoke(app, ["kb", "import", str(kb_file)]).exit_code == 0
    result = runner.invoke(app, ["kb", "calibrate", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert (figures["target_precision"], figures["unanswerable_share"]) == (0.97, 0.3)
    assert "Answer threshold" in flat(result.output)
    found = runner.invoke(app, ["kb", "search", "how can I pay my parking citation", "--json"])
    assert json.loads(found.stdout.strip().splitlines()[-1])["threshold"] == figures["threshold"]
    looser = runner.invoke(app, ["kb", "calibrate", "--target", "0.8", "--json"])
    figures_80 = json.loads(looser.stdout.strip().splitlines()[-1])
    assert figures_80["target_precision"] == 0.8
    assert figures_80["threshold"] <= figures["threshold"]


def test_calibrate_an_empty_knowledge_base_is_a_clear_error(runner):
    result = runner.invoke(app, ["kb", "calibrate"])
    assert result.exit_code == 1
    assert "empty" in flat(result.output)


def test_import_then_search_answers_from_the_live_store(runner, kb_file):
    result = runner.invoke(app, ["kb", "import", str(kb_file)])
    assert result.exit_code == 0, result.output
    assert "5 new, 0 updated, 0 unchanged" in flat(result.output)
    again = runner.invoke(app, ["kb", "import", str(kb_file)])
    assert "0 new, 0 updated, 5 unchanged" in flat(again.output)
    found = runner.invoke(app, ["kb", "search", "how can I pay my parking citation", "--json"])
    assert found.exit_code == 0, found.output
    body = json.loads(found.stdout.strip().splitlines()[-1])
    assert (body["answer"], body["options"]) == ("t-ticket", [])  # a clear answer: nothing to choose from
    assert body["results"][0]["id"] == "t-ticket"


def test_import_of_a_bad_file_names_the_line_and_imports_nothing(runner, tmp_path, kb_file):
    bad = tmp_path / "bad.jsonl"
    lines = kb_file.read_text().splitlines()
    lines.insert(2, json.dumps({"id": "no-answer", "question": "Is this answered?"}))
    bad.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["kb", "import", str(bad)])
    assert result.exit_code == 1
    assert "Nothing imported" in flat(result.output)
    assert "line 3: missing answer" in flat(result.output)
    assert not (tmp_path / "data" / "citydesk.db").exists()


def test_eval_of_a_missing_file_is_a_clear_error(runner, tmp_path, kb_file):
    result = runner.invoke(app, ["kb", "eval", "--kb", str(kb_file), "--questions", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "Cannot evaluate" in flat(result.output)


def test_data_dir_is_a_separate_desk_even_when_database_url_is_set(monkeypatch, tmp_path):
    from desk.cli.options import settings_for

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://city@db.example/citydesk")
    assert settings_for().resolved_database_url == "postgresql+psycopg://city@db.example/citydesk"
    separate = settings_for(tmp_path)
    assert separate.resolved_database_url == f"sqlite:///{(tmp_path / 'citydesk.db').resolve()}"
    assert separate.data_dir == tmp_path
    explicit = settings_for(tmp_path, "sqlite:////elsewhere/other.db")
    assert explicit.resolved_database_url == "sqlite:////elsewhere/other.db"
