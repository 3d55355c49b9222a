"""`citydesk kb list/show/publish/retire/revert/export/import`, in-process with typer's runner on a data folder."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from desk.cli import app
from tests.conftest import write_jsonl
from tests.desk.conftest import flat
from tests.knowledge_base.conftest import SMALL_ENTRIES


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A data folder whose knowledge base holds SMALL_ENTRIES imported as drafts by the CLI."""
    folder = tmp_path_factory.mktemp("kb-cli")
    kb_file = write_jsonl(folder / "kb.jsonl", [e.model_dump(mode="json") for e in SMALL_ENTRIES])
    result = CliRunner().invoke(app, ["kb", "import", str(kb_file), "--draft", "--editor", "eddie",
                                      "--data-dir", str(folder / "data")])
    assert result.exit_code == 0, result.output
    assert "as drafts: 5 new, 0 updated, 0 unchanged" in flat(result.output)
    return folder / "data"


def run(data_dir, *args: str):
    return CliRunner().invoke(app, ["kb", *args, "--data-dir", str(data_dir)])


def shown(data_dir, entry_id: str) -> dict:
    result = run(data_dir, "show", entry_id, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_list_shows_state_and_version_and_filters(data_dir):
    listed = json.loads(run(data_dir, "list", "--json").stdout)
    assert listed["total"] == 5 and {i["state"] for i in listed["items"]} == {"draft"}
    assert [i["entry"]["id"] for i in json.loads(run(data_dir, "list", "--json", "--text", "PHOTO ID").stdout)[
        "items"]] == ["t-library"]
    table = run(data_dir, "list", "--department", "Animal Services")
    assert table.exit_code == 0 and "t-dog" in table.output and "t-bulk" not in table.output
    wrong = run(data_dir, "list", "--state", "archived")
    assert wrong.exit_code == 2 and "unknown state 'archived'" in flat(wrong.output)


def test_publish_retire_revert_and_their_history(data_dir):
    published = run(data_dir, "publish", "t-dog", "--note", "checked by legal", "--editor", "eddie")
    assert published.exit_code == 0, published.output
    assert "t-dog: published, version 2" in flat(published.output)
    assert run(data_dir, "retire", "t-dog", "--note", "law changed", "--editor", "eddie").exit_code == 0
    reverted = run(data_dir, "revert", "t-dog", "2", "--note", "law back", "--editor", "eddie")
    assert reverted.exit_code == 0 and "t-dog: published, version 4" in flat(reverted.output)
    record = shown(data_dir, "t-dog")
    assert (record["state"], record["version"], record["published_version"]) == ("published", 4, 4)
    assert [(v["version"], v["state"], v["editor"], v["note"]) for v in record["history"]] == [
        (4, "published", "eddie", "law back"), (3, "retired", "eddie", "law changed"),
        (2, "published", "eddie", "checked by legal"), (1, "draft", "eddie", "imported from kb.jsonl")]
    table = run(data_dir, "show", "t-dog")
    assert "law changed" in table.output and "Animal Services" in table.output


def test_refused_changes_exit_1_with_the_reason_and_change_nothing(data_dir):
    before = shown(data_dir, "t-library")
    twice = run(data_dir, "retire", "t-library")
    assert twice.exit_code == 0
    again = run(data_dir, "retire", "t-library")
    assert again.exit_code == 1 and "already retired" in flat(again.output)
    assert run(data_dir, "publish", "nope").exit_code == 1
    missing = run(data_dir, "revert", "t-library", "9")
    assert missing.exit_code == 1 and "has no version 9" in flat(missing.output)
    assert run(data_dir, "show", "nope").exit_code == 1
    assert len(shown(data_dir, "t-library")["history"]) == len(before["history"]) + 1


def test_export_writes_what_import_reads_back(data_dir, tmp_path):
    assert run(data_dir, "publish", "t-ticket").exit_code == 0
    out = tmp_path / "published.csv"
    result = run(data_dir, "export", str(out))
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,question,alt_questions,answer")
    assert "t-ticket" in out.read_text() and "t-bulk" not in out.read_text()  # t-bulk is still a draft
    every = tmp_path / "all.jsonl"
    assert run(data_dir, "export", str(every), "--state", "all").exit_code == 0
    assert len(every.read_text(encoding="utf-8").splitlines()) == 5
    wrong = run(data_dir, "export", str(tmp_path / "out.xlsx"))
    assert wrong.exit_code == 2 and "use .jsonl or .csv" in flat(wrong.output)


def test_a_bad_file_is_named_and_nothing_is_imported(data_dir, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,question,answer\nnew-1,Q?,A.\nnew-2,Q?,\n")
    result = run(data_dir, "import", str(bad))
    assert result.exit_code == 1 and "line 3: missing answer" in flat(result.output)
    assert json.loads(run(data_dir, "list", "--json").stdout)["total"] == 5
