"""read_entries: JSON Lines and CSV import, all or nothing, every failure naming its line and reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge_base.entry import Entry
from knowledge_base.importer import EntryFileError, read_entries
from tests.conftest import write_jsonl

HEADER = "id,question,alt_questions,answer,department,topic,category,url,language\n"

ROWS = [
    {"id": "boulder-0001", "question": "How long does it take to become income-certified?",
     "alt_questions": ["income certification time", "how fast is certification"],
     "answer": "Pay online, or in person.\nBring ID.", "department": "Housing",
     "topic": "Affordable Homeownership", "category": "Housing", "url": "https://example.org/housing",
     "language": "en"},
    {"id": "boulder-0002", "question": "¿Dónde pago una multa?", "answer": "En el ayuntamiento.", "language": "es"},
    {"id": "boulder-0003", "question": "Minimal?", "answer": "Yes."},
]

EXPECTED = [
    Entry(id="boulder-0001", question="How long does it take to become income-certified?",
          alt_questions=("income certification time", "how fast is certification"),
          answer="Pay online, or in person.\nBring ID.", department="Housing", topic="Affordable Homeownership",
          category="Housing", url="https://example.org/housing", language="en"),
    Entry(id="boulder-0002", question="¿Dónde pago una multa?", alt_questions=(), answer="En el ayuntamiento.",
          department=None, topic=None, category=None, url=None, language="es"),
    Entry(id="boulder-0003", question="Minimal?", alt_questions=(), answer="Yes.", department=None, topic=None,
          category=None, url=None, language="en"),
]

# The same three entries as CSV: a quoted multi-line answer, `|`-separated phrasings, blank optional cells.
CSV_TEXT = (HEADER
            + 'boulder-0001,How long does it take to become income-certified?,'
              'income certification time | how fast is certification |,"Pay online, or in person.\nBring ID.",'
              'Housing,Affordable Homeownership,Housing,https://example.org/housing,en\n'
            + "boulder-0002,¿Dónde pago una multa?,,En el ayuntamiento.,,,,,es\n"
            + "boulder-0003,Minimal?,,Yes.,,,,,\n")


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def error_of(path: Path) -> EntryFileError:
    with pytest.raises(EntryFileError) as info:
        read_entries(path)
    return info.value


def assert_error(path: Path, line: int | None, reason: str) -> EntryFileError:
    """The file fails on exactly `line` with exactly `reason`, and str() says both."""
    error = error_of(path)
    assert (error.line, error.reason) == (line, reason)
    assert error.path == path
    where = f"{path}, line {line}" if line is not None else str(path)
    assert str(error) == f"{where}: {reason}"
    return error


def jsonl_lines(*lines: str) -> bytes:
    return "".join(line + "\n" for line in lines).encode("utf-8")


GOOD = json.dumps({"id": "a", "question": "q?", "answer": "yes"})
GOOD_B = json.dumps({"id": "b", "question": "q?", "answer": "yes"})


# ---------------------------------------------------------------- happy paths


def test_jsonl_reads_every_entry_with_defaults(tmp_path):
    assert read_entries(write_jsonl(tmp_path / "kb.jsonl", ROWS)) == EXPECTED


def test_ndjson_and_json_suffixes_are_json_lines(tmp_path):
    assert read_entries(write_jsonl(tmp_path / "kb.ndjson", ROWS)) == EXPECTED
    assert read_entries(write_jsonl(tmp_path / "kb.JSON", ROWS)) == EXPECTED


def test_csv_reads_every_entry(tmp_path):
    entries = read_entries(write_bytes(tmp_path / "kb.csv", CSV_TEXT.encode("utf-8")))
    assert entries == EXPECTED


def test_csv_splits_alt_questions_on_bar_and_drops_blank_ones(tmp_path):
    first = read_entries(write_bytes(tmp_path / "kb.csv", CSV_TEXT.encode("utf-8")))[0]
    assert first.alt_questions == ("income certification time", "how fast is certification")


def test_csv_blank_optional_fields_are_none_and_language_defaults_to_en(tmp_path):
    third = read_entries(write_bytes(tmp_path / "kb.csv", CSV_TEXT.encode("utf-8")))[2]
    assert (third.alt_questions, third.department, third.topic, third.category, third.url) == ((), None, None,
                                                                                              None, None)
    assert third.language == "en"


def test_csv_without_optional_columns(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\nx-1,Where?,Here.\n")
    assert read_entries(path) == [Entry(id="x-1", question="Where?", answer="Here.")]


def test_csv_and_jsonl_of_the_same_data_give_the_same_entries(tmp_path):
    from_csv = read_entries(write_bytes(tmp_path / "kb.csv", CSV_TEXT.encode("utf-8")))
    from_jsonl = read_entries(write_jsonl(tmp_path / "kb.jsonl", ROWS))
    assert from_csv == from_jsonl
    assert len(from_csv) == 3


def test_csv_with_windows_line_endings(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\r\na,q?,yes\r\nb,q?,yes\r\n")
    assert [e.id for e in read_entries(path)] == ["a", "b"]


def test_empty_files_give_no_entries(tmp_path):
    assert read_entries(write_bytes(tmp_path / "kb.jsonl", b"")) == []
    assert read_entries(write_bytes(tmp_path / "kb.csv", HEADER.encode())) == []


def test_jsonl_utf8_bom_is_accepted(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", b"\xef\xbb\xbf" + jsonl_lines(GOOD, GOOD_B))
    assert [e.id for e in read_entries(path)] == ["a", "b"]


def test_csv_utf8_bom_is_accepted(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"\xef\xbb\xbfid,question,answer\na,q?,yes\n")
    assert read_entries(path) == [Entry(id="a", question="q?", answer="yes")]


def test_jsonl_blank_lines_are_skipped_and_line_numbers_stay_right(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines("", GOOD, "   ", "\t", '{"id": "c", "question": "q"}'))
    assert_error(path, 5, "missing answer")
    path = write_bytes(tmp_path / "ok.jsonl", jsonl_lines("", GOOD, "  ", GOOD_B, ""))
    assert [e.id for e in read_entries(path)] == ["a", "b"]


def test_csv_rows_of_empty_cells_are_skipped_and_line_numbers_stay_right(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\na,q?,yes\n,,\n , ,\nc,q?,\n")
    assert_error(path, 5, "missing answer (empty)")


def test_csv_blank_lines_are_skipped_and_line_numbers_stay_right(tmp_path):
    # line 1 header, line 2 row a, line 3 empty, line 4 row c without its answer
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\na,q?,yes\n\nc,q?\n")
    assert_error(path, 4, "missing answer")


def test_csv_blank_lines_do_not_shift_duplicate_id_lines(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\na,q?,yes\n\n\nb,q?,yes\nb,q?,yes\n")
    assert_error(path, 6, "duplicate id 'b' (first on line 5)")


# ---------------------------------------------------------------- JSONL failures


def test_jsonl_missing_answer(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(GOOD, '{"id": "b", "question": "q?"}'))
    assert_error(path, 2, "missing answer")


def test_jsonl_unknown_field(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl",
                       jsonl_lines(GOOD, GOOD_B, '{"id": "c", "question": "q?", "answer": "a", "colour": "red"}'))
    assert_error(path, 3, "unknown field colour")


def test_jsonl_invalid_json(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(GOOD, '{"id": "b", "question": '))
    error = error_of(path)
    assert error.line == 2
    assert error.reason.startswith("not valid JSON (")
    assert str(error).startswith(f"{path}, line 2: not valid JSON (")


def test_jsonl_line_that_is_an_array(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(GOOD, json.dumps([GOOD_B])))
    assert_error(path, 2, "each line must be one JSON object")


def test_jsonl_line_that_is_a_string(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines('"just text"'))
    assert_error(path, 1, "each line must be one JSON object")


def test_jsonl_broken_utf8_names_its_line(tmp_path):
    bad = b'{"id": "c", "question": "caf\xe9?", "answer": "yes"}\n'
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(GOOD, GOOD_B) + bad)
    error = error_of(path)
    assert error.line == 3
    assert error.reason.startswith("not valid UTF-8 (")


def test_jsonl_one_megabyte_answer(tmp_path):
    huge = json.dumps({"id": "b", "question": "q?", "answer": "x" * 1_000_000})
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(GOOD, huge))
    error = error_of(path)
    assert error.line == 2
    assert error.reason.startswith("answer: ")
    assert "at most 20000 characters" in error.reason


def test_jsonl_duplicate_id_names_both_lines(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(GOOD, GOOD_B, "", GOOD))
    assert_error(path, 4, "duplicate id 'a' (first on line 1)")


@pytest.mark.parametrize("empty_id", ["", "   "])
def test_jsonl_empty_id(tmp_path, empty_id):
    line = json.dumps({"id": empty_id, "question": "q?", "answer": "yes"})
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(GOOD, line))
    assert_error(path, 2, "missing id (empty)")


def test_jsonl_id_with_inner_space_is_rejected(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(json.dumps({"id": "a b", "question": "q", "answer": "y"})))
    error = error_of(path)
    assert error.line == 1
    assert error.reason.startswith("id: ")


def test_jsonl_several_problems_on_one_line_are_all_named(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines('{"id": "a", "extra": 1}'))
    assert_error(path, 1, "missing question; missing answer; unknown field extra")


def test_jsonl_url_that_is_not_a_web_address_names_its_line_and_reason(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(
        json.dumps({"id": "a", "question": "q?", "answer": "y", "url": "https://example.org/a"}),
        json.dumps({"id": "b", "question": "q?", "answer": "y", "url": "not a url"})))
    assert_error(path, 2, "url 'not a url' is not a web address; write it as https://www.example.org/page")


def test_jsonl_url_longer_than_the_limit_is_rejected(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(
        json.dumps({"id": "a", "question": "q?", "answer": "y", "url": "https://example.org/" + "a" * 3000})))
    assert_error(path, 1, "url is 3,020 characters long; at most 2,048 characters")


def test_jsonl_language_that_is_not_a_language_code_names_its_line_and_reason(tmp_path):
    path = write_bytes(tmp_path / "kb.jsonl", jsonl_lines(
        json.dumps({"id": "a", "question": "q?", "answer": "y", "language": "pt-BR"}),
        json.dumps({"id": "b", "question": "q?", "answer": "y", "language": "English"})))
    assert_error(path, 2, "language 'English' is not a language code; write e.g. en, es or ko")


# ---------------------------------------------------------------- CSV failures


def test_csv_url_that_is_not_a_web_address_names_its_line_and_reason(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer,url\na,q?,yes,\nb,q?,yes,ftp://example.org/b\n")
    assert_error(path, 3, "url 'ftp://example.org/b' is not a web address; write it as https://www.example.org/page")


def test_csv_missing_answer_column(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question\na,q?\n")
    assert_error(path, 2, "missing answer")


def test_csv_empty_answer_cell(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\na,q?,yes\nb,q?,\n")
    assert_error(path, 3, "missing answer (empty)")


def test_csv_unknown_column(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer,colour\na,q?,yes,red\n")
    assert_error(path, 1, "unknown column(s) colour; allowed: id, question, alt_questions, answer, department,"
                          " topic, category, url, language")


def test_csv_more_values_than_columns(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\na,q?,yes\nb,q?,yes,surplus\n")
    assert_error(path, 3, "more values than columns")


def test_csv_broken_utf8_names_its_line(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\na,q?,yes\nb,q?,yes\nc,caf\xe9?,yes\n")
    error = error_of(path)
    assert error.line == 4
    assert error.reason.startswith("not valid UTF-8 (")


def test_csv_row_line_numbers_count_multi_line_cells(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b'id,question,answer\na,q?,"one\ntwo\nthree"\nb,q?,\n')
    assert_error(path, 5, "missing answer (empty)")


def test_csv_duplicate_id_names_both_lines(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\na,q?,yes\nb,q?,yes\na,q?,again\n")
    assert_error(path, 4, "duplicate id 'a' (first on line 2)")


def test_csv_empty_id(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\n,q?,yes\n")
    assert_error(path, 2, "missing id (empty)")


def test_csv_one_megabyte_answer(tmp_path):
    path = write_bytes(tmp_path / "kb.csv", b"id,question,answer\na,q?,yes\nb,q?," + b"x" * 1_000_000 + b"\n")
    error = error_of(path)  # an EntryFileError, not the csv module's own "field larger than field limit"
    assert error.line == 3
    assert error.reason.startswith("answer: ")
    assert "at most 20000 characters" in error.reason


# ---------------------------------------------------------------- files


def test_unknown_file_extension(tmp_path):
    path = write_bytes(tmp_path / "kb.txt", jsonl_lines(GOOD))
    assert_error(path, None, "unknown file type '.txt': use .jsonl or .csv")


def test_missing_file(tmp_path):
    assert_error(tmp_path / "nowhere.jsonl", None, "no such file")


def test_a_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "kb.jsonl"
    folder.mkdir()
    assert_error(folder, None, "no such file")


def test_entry_file_error_is_a_value_error(tmp_path):
    assert isinstance(error_of(tmp_path / "nowhere.csv"), ValueError)
