"""Write entries as JSON Lines or CSV (shared/EVAL.md's format), so that importing the file gives them back exactly."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from knowledge_base.entry import Entry
from knowledge_base.importer import CSV_COLUMNS, join_alt_questions

FORMATS = ("jsonl", "csv")


def to_jsonl(entries: Sequence[Entry]) -> str:
    """One JSON object per line, every field, UTF-8 text as it is (not \\u-escaped)."""
    return "".join(json.dumps(e.model_dump(mode="json"), ensure_ascii=False) + "\n" for e in entries)


def to_csv(entries: Sequence[Entry]) -> str:
    """A header of every column, then one row per entry; alternative phrasings joined by '|'."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        values = entry.model_dump()
        values["alt_questions"] = join_alt_questions(entry.alt_questions)
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return buffer.getvalue()


def render(entries: Sequence[Entry], file_format: str) -> str:
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}: use {' or '.join(FORMATS)}")
    return to_jsonl(entries) if file_format == "jsonl" else to_csv(entries)


def format_of(path: Path) -> str:
    """The export format a file name asks for."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unknown file type {suffix!r}: use .jsonl or .csv")
    return suffix


def write_entries(path: Path, entries: Sequence[Entry]) -> None:
    """Write `entries` to a .jsonl or .csv file (UTF-8)."""
    Path(path).write_bytes(render(entries, format_of(path)).encode("utf-8"))
