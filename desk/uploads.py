"""Files uploaded to the desk (entries to import, questions to evaluate): size-capped, read from a temporary copy.

Shared by the JSON API and the editor's pages, so that both accept and refuse the same files with the same words.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from knowledge_base.editor import EntryEditor
from knowledge_base.evaluation import Question, QuestionFileError, read_questions
from knowledge_base.importer import EntryFileError
from knowledge_base.store import UpsertReport

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
MAX_QUESTIONS_BYTES = 4 * 1024 * 1024
MAX_QUESTIONS = 1_000  # a few hundred questions take tens of seconds on two cores

T = TypeVar("T")


class UploadRefused(ValueError):
    """A file refused as a whole: `too_large` (HTTP 413) or unreadable (422); the message names the file."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def upload_name(filename: str | None, default: str) -> str:
    """The uploaded file's own name, without any folder the browser sent."""
    return Path(filename or default).name


def _read_capped(file: BinaryIO, name: str, limit: int, nothing_done: str) -> bytes:
    content = file.read(limit + 1)
    if len(content) > limit:
        size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit} bytes"
        raise UploadRefused(f"{name}: larger than {size}; {nothing_done}", too_large=True)
    return content


def _with_copy(content: bytes, name: str, read: Callable[[Path], T]) -> T:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{Path(name).suffix.lower()}"  # the file type is all the name may decide
        path.write_bytes(content)
        return read(path)


def import_upload(editor: EntryEditor, file: BinaryIO, filename: str | None, *, editor_name: str,
                  draft: bool) -> UpsertReport:
    """Import an uploaded .jsonl or .csv file all or nothing, as EntryEditor.import_file does (which recalibrates
    when published entries changed); UploadRefused names the file and its bad line."""
    name = upload_name(filename, "upload.jsonl")
    content = _read_capped(file, name, MAX_UPLOAD_BYTES, "nothing imported")

    def read(path: Path) -> UpsertReport:
        try:
            return editor.import_file(path, editor=editor_name, draft=draft, source=name)
        except EntryFileError as error:  # it names the temporary copy: say the uploaded file's name
            where = f"{name}, line {error.line}" if error.line is not None else name
            raise UploadRefused(f"{where}: {error.reason}; nothing was imported") from None

    return _with_copy(content, name, read)


def questions_upload(file: BinaryIO, filename: str | None) -> list[Question]:
    """The questions of an uploaded JSON Lines file (shared/EVAL.md), at most MAX_QUESTIONS; UploadRefused names
    the file and its bad line."""
    name = upload_name(filename, "questions.jsonl")
    content = _read_capped(file, name, MAX_QUESTIONS_BYTES, "nothing evaluated")
    if Path(name).suffix.lower() not in (".jsonl", ".ndjson", ".json"):
        raise UploadRefused(f"{name}: a question file is JSON Lines (.jsonl), one question a line")

    def read(path: Path) -> list[Question]:
        try:
            return read_questions(path)
        except QuestionFileError as error:
            where = f"{name}, line {error.line}" if error.line is not None else name
            raise UploadRefused(f"{where}: {error.reason}; nothing evaluated") from None

    questions = _with_copy(content, name, read)
    if not questions:
        raise UploadRefused(f"{name}: no questions in the file")
    if len(questions) > MAX_QUESTIONS:
        raise UploadRefused(f"{name}: {len(questions)} questions; at most {MAX_QUESTIONS} at a time "
                            "(split the file)")
    return questions
