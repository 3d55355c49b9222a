"""Read entry files (JSON Lines or CSV, shared/EVAL.md's format) all or nothing, naming the bad line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pydantic import ValidationError

from knowledge_base.entry import Entry

CSV_COLUMNS = tuple(Entry.model_fields)
ALT_QUESTION_SEPARATOR = "|"
# The csv module refuses cells over 128 KiB with a bare error; let them through so that the entry's own
# length limits reject them with the line number.
csv.field_size_limit(16 * 1024 * 1024)


class EntryFileError(ValueError):
    """A file that cannot be imported; nothing of it is imported."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


def read_entries(path: Path) -> list[Entry]:
    """Every entry of a .jsonl or .csv file, or EntryFileError for the first bad line."""
    path = Path(path)
    if not path.is_file():
        raise EntryFileError(path, None, "no such file")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return _check_unique(path, _read_jsonl(path))
    if suffix == ".csv":
        return _check_unique(path, _read_csv(path))
    raise EntryFileError(path, None, f"unknown file type {suffix!r}: use .jsonl or .csv")


def _read_jsonl(path: Path) -> list[tuple[int, Entry]]:
    entries = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            raise EntryFileError(path, number, f"not valid UTF-8 ({error.reason} at byte {error.start})") from None
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise EntryFileError(path, number, f"not valid JSON ({error.msg})") from None
        if not isinstance(data, dict):
            raise EntryFileError(path, number, "each line must be one JSON object")
        entries.append((number, _entry(path, number, data)))
    return entries


def _read_csv(path: Path) -> list[tuple[int, Entry]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise EntryFileError(path, line, f"not valid UTF-8 ({error.reason})") from None
    # strict: a stray or unterminated quote is an error, not a silently merged row
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    entries: list[tuple[int, Entry]] = []
    header: list[str] | None = None
    line = 1  # first physical line of the row being read; blank lines count, unlike DictReader's
    try:
        for row in reader:
            if header is None:
                header = _csv_header(path, row)
            elif any(cell.strip() for cell in row):
                entries.append((line, _csv_entry(path, line, header, row)))
            line = reader.line_num + 1
    except csv.Error as error:
        raise EntryFileError(path, line, f"broken CSV ({error})") from None
    return entries


def _csv_header(path: Path, row: list[str]) -> list[str]:
    unknown = [c for c in row if c not in CSV_COLUMNS]
    if unknown:
        raise EntryFileError(path, 1, f"unknown column(s) {', '.join(unknown)}; allowed: {', '.join(CSV_COLUMNS)}")
    return row


def _csv_entry(path: Path, line: int, header: list[str], row: list[str]) -> Entry:
    if len(row) > len(header):
        raise EntryFileError(path, line, "more values than columns")
    data: dict[str, object] = dict(zip(header, row, strict=False))
    if isinstance(alt_questions := data.get("alt_questions"), str):
        data["alt_questions"] = [q for q in split_alt_questions(alt_questions) if q.strip()]
    return _entry(path, line, data)


def split_alt_questions(cell: str) -> list[str]:
    """The phrasings of a CSV cell: separated by '|'; a '|' or '\\' inside a phrasing is escaped with '\\'."""
    parts, current, characters = [], [], iter(cell)
    for character in characters:
        if character == "\\":
            following = next(characters, "")
            # only the two escapes are special: any other backslash (C:\path) is kept as it is
            current.append(following if following in (ALT_QUESTION_SEPARATOR, "\\") else character + following)
        elif character == ALT_QUESTION_SEPARATOR:
            parts.append("".join(current))
            current = []
        else:
            current.append(character)
    parts.append("".join(current))
    return parts


def join_alt_questions(phrasings: tuple[str, ...] | list[str]) -> str:
    """The CSV cell of some phrasings: split_alt_questions's inverse."""
    return ALT_QUESTION_SEPARATOR.join(
        p.replace("\\", "\\\\").replace(ALT_QUESTION_SEPARATOR, "\\" + ALT_QUESTION_SEPARATOR) for p in phrasings)


def _entry(path: Path, line: int, data: dict) -> Entry:
    try:
        return Entry.model_validate(data)
    except ValidationError as error:
        raise EntryFileError(path, line, _describe(error)) from None


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "entry"
        if item["type"] == "missing":
            problems.append(f"missing {field}")
        elif item["type"] == "string_too_short" and item.get("ctx", {}).get("min_length") == 1:
            problems.append(f"missing {field} (empty)")
        elif item["type"] == "extra_forbidden":
            problems.append(f"unknown field {field}")
        elif item["type"] == "value_error":  # the entry's own rules say it of the field: "url is not a ..."
            problems.append(f"{field} {item['ctx']['error']}")
        else:
            problems.append(f"{field}: {item['msg']}")
    return "; ".join(problems)


def _check_unique(path: Path, numbered: list[tuple[int, Entry]]) -> list[Entry]:
    seen: dict[str, int] = {}
    for line, entry in numbered:
        if entry.id in seen:
            raise EntryFileError(path, line, f"duplicate id {entry.id!r} (first on line {seen[entry.id]})")
        seen[entry.id] = line
    return [entry for _, entry in numbered]
