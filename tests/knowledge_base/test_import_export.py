"""Import and export through EntryEditor: lossless round trip, all-or-nothing failures, idempotent re-import."""

from __future__ import annotations

import json

import pytest

from knowledge_base.editor import EntryEditor
from knowledge_base.entry import Entry
from knowledge_base.exporter import render, write_entries
from knowledge_base.importer import EntryFileError, join_alt_questions, read_entries, split_alt_questions
from knowledge_base.store import UpsertReport
from tests.knowledge_base.conftest import SMALL_ENTRIES

TRICKY = [
    Entry(id="x-quotes", question='What does "bulk" mean, exactly?',
          alt_questions=("bulk, big or large?", "a | pipe in a phrasing", "back\\slash \\| and C:\\path"),
          answer='Line one, with a comma.\nLine two with "quotes".\r\nLine three; ümlaut, 한국어, emoji 🗑️.',
          department="Waste & Recycling", topic="Bulk, pickup", category=None, url=None, language="en"),
    Entry(id="x-minimal", question="¿Dónde pago?", answer="En el ayuntamiento.", language="es"),
    Entry(id="x-tabs", question="Tabs\tinside?", alt_questions=("", "  spaced  "), answer="Yes\ttabs.",
          url="https://example.org/a?b=1,2&c=\"3\""),
]


@pytest.fixture
def editor(make_kb) -> EntryEditor:
    return EntryEditor(make_kb(SMALL_ENTRIES))


def versions_of(editor: EntryEditor) -> int:
    return sum(len(editor.history(r.entry.id)) for r in editor.list(limit=500)[0])


@pytest.mark.parametrize("file_format", ["jsonl", "csv"])
def test_export_import_export_is_byte_identical(make_kb, tmp_path, file_format):
    first = EntryEditor(make_kb([*SMALL_ENTRIES, *TRICKY]))
    exported = tmp_path / f"first.{file_format}"
    write_entries(exported, first.export_entries())
    second = EntryEditor(make_kb())
    report = second.import_file(exported)
    assert report == UpsertReport(created=8, updated=0, unchanged=0)
    again = tmp_path / f"second.{file_format}"
    write_entries(again, second.export_entries())
    assert again.read_bytes() == exported.read_bytes()
    assert sorted(second.export_entries(), key=lambda e: e.id) == sorted([*SMALL_ENTRIES, *TRICKY],
                                                                         key=lambda e: e.id)


def test_the_csv_keeps_every_field_and_escapes_pipes_in_phrasings():
    text = render(TRICKY[:1], "csv")
    assert text.splitlines()[0] == "id,question,alt_questions,answer,department,topic,category,url,language"
    assert "a \\| pipe in a phrasing" in text
    assert split_alt_questions(join_alt_questions(TRICKY[0].alt_questions)) == list(TRICKY[0].alt_questions)
    assert split_alt_questions("plain|C:\\path") == ["plain", "C:\\path"]  # an unescaped backslash stays
    line = json.loads(render(TRICKY[:1], "jsonl"))
    assert line["answer"] == TRICKY[0].answer and "🗑️" in render(TRICKY[:1], "jsonl")


def test_re_importing_the_same_file_changes_nothing(editor, tmp_path):
    path = tmp_path / "kb.csv"
    write_entries(path, [*SMALL_ENTRIES, *TRICKY])
    assert editor.import_file(path) == UpsertReport(created=3, updated=0, unchanged=5)
    before = versions_of(editor)
    assert editor.import_file(path) == UpsertReport(created=0, updated=0, unchanged=8)
    assert versions_of(editor) == before == 8
    assert editor.history("x-quotes")[0].editor == "import"
    assert editor.history("x-quotes")[0].note == "imported from kb.csv"


def test_an_import_publishes_unless_asked_for_drafts(editor, tmp_path):
    path = tmp_path / "kb.jsonl"
    write_entries(path, TRICKY)
    editor.import_file(path, draft=True, editor="eddie")
    assert {editor.get(e.id).state for e in TRICKY} == {"draft"}
    assert editor.get("x-minimal").updated_by == "eddie"
    assert editor.preview("¿Dónde pago?").entry is None or editor.preview("¿Dónde pago?").entry.id != "x-minimal"
    editor.import_file(path)  # the same content, now to be published: a new version each
    assert {editor.get(e.id).state for e in TRICKY} == {"published"}
    assert editor.preview("Where do I pay? ¿Dónde pago?").results[0].entry.id == "x-minimal"


def row(**fields) -> dict:
    base = {"id": "new-1", "question": "A new question?", "answer": "A new answer."}
    return {k: v for k, v in {**base, **fields}.items() if v is not None}


def jsonl_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


GOOD = [row(id="ok-1"), row(id="ok-2")]
FAILURES = {
    "missing answer": ("kb.jsonl", jsonl_bytes([*GOOD, row(id="bad", answer=None)]), 3, "missing answer"),
    "unknown column (JSONL)": ("kb.jsonl", jsonl_bytes([row(id="bad", colour="red"), *GOOD]), 1,
                               "unknown field colour"),
    "unknown column (CSV)": ("kb.csv", b"id,question,answer,colour\nok-1,Q?,A.,red\n", 1, "unknown column(s) colour"),
    "broken encoding (JSONL)": ("kb.jsonl", jsonl_bytes(GOOD) + b'{"id": "bad", "question": "caf\xe9?", '
                                b'"answer": "x"}\n', 3, "not valid UTF-8"),
    "broken encoding (CSV)": ("kb.csv", b"id,question,answer\nok-1,Q?,A.\nok-2,Q?,A.\nbad,caf\xe9?,A.\n", 4,
                              "not valid UTF-8"),
    "1 MB answer": ("kb.jsonl", jsonl_bytes([*GOOD, row(id="big", answer="x" * 1_000_000)]), 3,
                    "answer: String should have at most 20000 characters"),
    "duplicate id": ("kb.jsonl", jsonl_bytes([*GOOD, row(id="ok-1")]), 3, "duplicate id 'ok-1' (first on line 1)"),
    "missing answer (CSV)": ("kb.csv", b"id,question,answer\nok-1,Q?,A.\n\nbad,Q?,\n", 4, "answer"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_bad_line_fails_the_whole_import_with_its_line_and_reason(make_kb, tmp_path, case):
    editor = EntryEditor(make_kb())  # the good lines before the bad one must not be imported either
    name, content, line, reason = FAILURES[case]
    path = tmp_path / name
    path.write_bytes(content)
    before = (editor.list(limit=500), versions_of(editor))
    with pytest.raises(EntryFileError) as raised:
        editor.import_file(path)
    assert raised.value.line == line
    assert reason in raised.value.reason
    assert f"line {line}" in str(raised.value)
    assert (editor.list(limit=500), versions_of(editor)) == before == (([], 0), 0)  # nothing half-imported
    with pytest.raises(EntryFileError):
        read_entries(path)
