"""The entry form of the web editor: what the editor typed, turned into an Entry or into messages per field."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from knowledge_base.entry import MAX_QUESTION_CHARS, Entry

LABELS = {"id": "The entry's id", "question": "The question", "alt_questions": "An alternative phrasing",
          "answer": "The answer", "department": "The department", "topic": "The topic", "url": "The source URL",
          "language": "The language", "note": "The change note"}
MAX_NOTE_CHARS = 1_000


@dataclass
class EntryForm:
    """The form's fields as typed (kept on the page after an error)."""

    id: str = ""
    question: str = ""
    alt_questions: str = ""  # one per line
    answer: str = ""
    department: str = ""
    topic: str = ""
    url: str = ""
    language: str = "en"
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, entry: Entry) -> EntryForm:
        return cls(id=entry.id, question=entry.question, alt_questions="\n".join(entry.alt_questions),
                   answer=entry.answer, department=entry.department or "", topic=entry.topic or "",
                   url=entry.url or "", language=entry.language)

    @property
    def phrasings(self) -> list[str]:
        return [line.strip() for line in self.alt_questions.splitlines() if line.strip()]


def to_entry(form: EntryForm, *, entry_id: str, category: str | None = None) -> Entry | None:
    """The entry `entry_id` as the form describes it, or None with `form.errors` filled in (field -> message)."""
    form.errors.clear()
    if not form.note.strip():
        form.errors["note"] = "Write a change note: what changed and why (it is kept in the history)."
    if len(form.note) > MAX_NOTE_CHARS:
        form.errors["note"] = f"The change note is {len(form.note):,} characters long; at most {MAX_NOTE_CHARS:,}."
    try:
        entry = Entry(id=entry_id, question=form.question, alt_questions=form.phrasings, answer=form.answer,
                      department=form.department, topic=form.topic, category=category, url=form.url.strip(),
                      language=form.language.strip())
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "form"
            form.errors.setdefault(name, message(name, problem, form))
        return None
    return None if form.errors else entry


def message(name: str, problem: ErrorDetails, form: EntryForm) -> str:
    """One field's error in the editor's words."""
    label = LABELS.get(name, name)
    kind = problem["type"]
    if kind == "string_too_short":
        return {"answer": "The answer is empty: write what the assistant tells citizens.",
                "question": "The question is empty: write the question citizens ask.",
                "id": "The entry's id is empty."}.get(name, f"{label} is empty.")
    if kind == "string_too_long":
        length = len(str(getattr(form, name, "")).strip())
        limit = problem.get("ctx", {}).get("max_length")
        return f"{label} is {length:,} characters long; at most {limit:,} characters."
    if kind == "string_pattern_mismatch" and name == "id":
        return "The entry's id has spaces; use letters, digits and dashes, e.g. parks-pool-hours."
    if kind == "too_long" and name == "alt_questions":
        return f"There are {len(form.phrasings)} alternative phrasings; at most {problem['ctx']['max_length']}."
    if name == "alt_questions":
        return f"An alternative phrasing is longer than {MAX_QUESTION_CHARS:,} characters."
    if kind == "value_error":  # the entry's own rule (knowledge_base/entry.py) says what is wrong
        return f"{label} {problem['ctx']['error']}."
    return f"{label}: {problem['msg']}."


def new_entry_id(question: str, exists: Callable[[str], bool]) -> str:
    """A readable id from the question ('kb-when-does-the-pool-open'), unique among the existing entries."""
    slug = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")[:60].strip("-") or "entry"
    candidate, n = f"kb-{slug}", 1
    while exists(candidate):
        n += 1
        candidate = f"kb-{slug}-{n}"
    return candidate

