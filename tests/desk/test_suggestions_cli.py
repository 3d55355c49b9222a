"""`citydesk kb suggestions [approve|reject]`: candidate phrasings listed, approved and rejected in bulk, in-process
with typer's runner on a data folder whose knowledge base holds SMALL_ENTRIES (published). Real model, real SQLite.

Each test seeds candidates of its own entry (CandidateStore on the CLI's database, as the desk's learner records
them), so that the tests do not see each other's decisions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

import database
from desk.cli import app
from knowledge_base.candidates import CandidateState, CandidateStore, Source
from settings import Settings
from tests.conftest import write_jsonl
from tests.desk.conftest import flat
from tests.knowledge_base.conftest import SMALL_ENTRIES


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder whose knowledge base holds SMALL_ENTRIES, published by `citydesk kb import`."""
    folder = tmp_path_factory.mktemp("suggestions-cli")
    kb_file = write_jsonl(folder / "kb.jsonl", [e.model_dump(mode="json") for e in SMALL_ENTRIES])
    result = CliRunner().invoke(app, ["kb", "import", str(kb_file), "--editor", "eddie",
                                      "--data-dir", str(folder / "data")])
    assert result.exit_code == 0, result.output
    assert "published: 5 new" in flat(result.output)
    return folder / "data"


@pytest.fixture(scope="module")
def store(data_dir: Path) -> CandidateStore:
    """The candidates of the CLI's database."""
    return CandidateStore(database.open(Settings(data_dir=data_dir)))


def seed(store: CandidateStore, entry_id: str, text: str, conversations: int = 1) -> int:
    """A candidate phrasing of the entry, resolved in `conversations` separate conversations; its id."""
    candidate = None
    for n in range(conversations):
        candidate = store.add(entry_id=entry_id, text=text, conversation_id=f"web-{entry_id}-{text}-{n}",
                              source=Source.CLARIFICATION if n % 2 else Source.HELPFUL)
    assert candidate is not None
    return candidate.id


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["kb", *args, "--data-dir", str(data_dir)])


def suggestions(data_dir: Path, *args: str) -> dict[str, Any]:
    result = run(data_dir, "suggestions", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def shown(data_dir: Path, entry_id: str) -> dict[str, Any]:
    result = run(data_dir, "show", entry_id, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def table_rows(output: str) -> dict[str, list[str]]:
    """The rows of a rich table by their first cell (the id): phrasing, state, confirmed, rejected, ... with the
    lines a narrow terminal wraps a cell onto joined again."""
    rows: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in output.splitlines():
        if line.count("│") < 3:
            continue
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells[0].isdigit():
            current = rows.setdefault(cells[0], [[] for _ in cells])
        if current is not None and cells[0] in ("", *rows):
            for parts, cell in zip(current, cells, strict=True):
                if cell:
                    parts.append(cell)
    return {row_id: [" ".join(parts) for parts in cells[2:]] for row_id, cells in rows.items()}


def test_pending_suggestions_are_listed_most_confirmed_first_and_filtered(data_dir, store):
    tag = seed(store, "t-dog", "dog tag", conversations=2)
    fee = seed(store, "t-dog", "puppy fee")
    turned_down = seed(store, "t-dog", "cat tag")
    store.decide([turned_down], CandidateState.REJECTED, editor="eddie")

    listed = suggestions(data_dir, "--entry", "t-dog")
    assert listed["total"] == 2
    assert [(i["id"], i["text"], i["state"], i["confirmations"], i["rejections"], i["entry_id"])
            for i in listed["items"]] == [(tag, "dog tag", "pending", 2, 0, "t-dog"),
                                          (fee, "puppy fee", "pending", 1, 0, "t-dog")]
    assert listed["items"][0]["sources"] == ["clarification", "helpful"]
    assert [i["id"] for i in suggestions(data_dir, "--entry", "t-dog", "--state", "rejected")["items"]] == [
        turned_down]
    assert suggestions(data_dir, "--entry", "t-dog", "--state", "all")["total"] == 3
    assert suggestions(data_dir, "--entry", "t-nothing")["total"] == 0

    table = run(data_dir, "suggestions", "--entry", "t-dog")
    assert table.exit_code == 0, table.output
    assert "2 pending suggested phrasings" in flat(table.output)
    rows = table_rows(table.output)
    assert rows[str(tag)][:4] == ["dog tag", "pending", "2", "0"]
    assert rows[str(fee)][:4] == ["puppy fee", "pending", "1", "0"]
    assert set(rows) == {str(tag), str(fee)}

    wrong = run(data_dir, "suggestions", "--state", "maybe")
    assert wrong.exit_code == 2 and "--state is one of pending, approved, rejected, all, not 'maybe'" in flat(
        wrong.output)


def test_approving_in_bulk_adds_the_phrasings_in_one_new_published_version_per_entry(data_dir, store):
    sofa = seed(store, "t-bulk", "sofa hauled away please", conversations=2)
    mattress = seed(store, "t-bulk", "old mattress collection")
    fine = seed(store, "t-ticket", "settle a parking fine at city hall")
    bulk_before, ticket_before = shown(data_dir, "t-bulk"), shown(data_dir, "t-ticket")

    result = run(data_dir, "suggestions", "approve", str(sofa), str(mattress), str(fine), "--editor", "eddie",
                 "--note", "from the suggestions", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1]) == {"approved": [sofa, mattress, fine], "skipped": []}

    bulk, ticket = shown(data_dir, "t-bulk"), shown(data_dir, "t-ticket")
    assert (bulk["state"], bulk["version"], bulk["published_version"]) == (
        "published", bulk_before["version"] + 1, bulk_before["version"] + 1)
    assert bulk["entry"]["alt_questions"] == [*bulk_before["entry"]["alt_questions"], "sofa hauled away please",
                                              "old mattress collection"]
    assert (bulk["history"][0]["editor"], bulk["history"][0]["note"]) == (
        "eddie", "from the suggestions: sofa hauled away please | old mattress collection")
    assert ticket["version"] == ticket_before["version"] + 1
    assert ticket["entry"]["alt_questions"][-1] == "settle a parking fine at city hall"

    approved = {i["id"]: i for i in suggestions(data_dir, "--state", "approved")["items"]}
    assert (approved[sofa]["decided_by"], approved[sofa]["entry_version"]) == ("eddie", bulk["version"])
    assert approved[fine]["entry_version"] == ticket["version"]
    assert not {sofa, mattress, fine} & {i["id"] for i in suggestions(data_dir)["items"]}

    table = run(data_dir, "suggestions", "approve", str(seed(store, "t-bulk", "couch removal")), "--editor", "eddie")
    assert table.exit_code == 0, table.output
    assert re.search(r"Approved \d+: 'couch removal' for t-bulk \(entry version \d+\)", flat(table.output))


def test_a_rejected_suggestion_is_never_added_and_cannot_be_approved_after(data_dir, store):
    before = shown(data_dir, "t-library")
    kid = seed(store, "t-library", "library pass for my kid")
    kept = seed(store, "t-library", "library card for a child")

    result = run(data_dir, "suggestions", "reject", str(kid), "--editor", "eddie", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1]) == {"rejected": [kid], "skipped": []}
    rejected = suggestions(data_dir, "--state", "rejected", "--entry", "t-library")["items"]
    assert [(i["id"], i["state"], i["decided_by"], i["entry_version"]) for i in rejected] == [
        (kid, "rejected", "eddie", None)]
    assert [i["id"] for i in suggestions(data_dir, "--entry", "t-library")["items"]] == [kept]

    again = run(data_dir, "suggestions", "approve", str(kid), "--editor", "eddie")
    assert again.exit_code == 1
    assert f"Skipped {kid}: already rejected" in flat(again.output)
    after = shown(data_dir, "t-library")
    assert after["version"] == before["version"]
    assert "library pass for my kid" not in after["entry"]["alt_questions"]


def test_an_already_decided_id_is_skipped_and_exits_1_unless_another_is_decided(data_dir, store):
    first = seed(store, "t-perros", "licencia de mi perrito")
    assert run(data_dir, "suggestions", "approve", str(first), "--editor", "eddie").exit_code == 0
    version = shown(data_dir, "t-perros")["version"]

    twice = run(data_dir, "suggestions", "approve", str(first), "--editor", "eddie", "--json")
    assert twice.exit_code == 1
    assert json.loads(twice.stdout.splitlines()[-1]) == {"approved": [], "skipped": [
        {"id": first, "why": "already approved"}]}
    rejected_after = run(data_dir, "suggestions", "reject", str(first), "--editor", "eddie")
    assert rejected_after.exit_code == 1 and f"Skipped {first}: already approved" in flat(rejected_after.output)
    assert shown(data_dir, "t-perros")["version"] == version

    second = seed(store, "t-perros", "registrar mi perro en la ciudad")
    mixed = run(data_dir, "suggestions", "approve", str(first), str(second), "--editor", "eddie", "--json")
    assert mixed.exit_code == 0, mixed.output
    assert json.loads(mixed.stdout.splitlines()[-1]) == {"approved": [second], "skipped": [
        {"id": first, "why": "already approved"}]}
    assert shown(data_dir, "t-perros")["version"] == version + 1


@pytest.mark.parametrize("command", ["approve", "reject"])
def test_an_unknown_id_is_named_and_nothing_changes(data_dir, store, command):
    pending = seed(store, "t-ticket", f"unknown id test {command}")
    before = shown(data_dir, "t-ticket")
    result = run(data_dir, "suggestions", command, str(pending), "999999", "--editor", "eddie")
    assert result.exit_code == 1
    assert "Nothing changed: no candidate phrasing 999999" in flat(result.output)
    assert store.get(pending).state is CandidateState.PENDING
    assert shown(data_dir, "t-ticket")["version"] == before["version"]
