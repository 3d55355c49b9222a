"""What content editors do with entries: list, edit, publish, retire, revert, check for near-duplicates, preview.

Every change goes through the store as a new version (knowledge_base/lifecycle.py has the rule) and is applied to
the running knowledge base's index at once; other processes' changes arrive through `KnowledgeBase.refresh`.
"""

from __future__ import annotations

import builtins  # EntryEditor.list shadows the built-in in the class's annotations
from pathlib import Path

from knowledge_base.entry import Entry
from knowledge_base.importer import read_entries
from knowledge_base.lifecycle import (
    DRAFT,
    PUBLISHED,
    RETIRED,
    EntryError,
    EntryNotFound,
    EntryRecord,
    EntryVersion,
    InvalidTransition,
    VersionNotFound,
    check_state,
)
from knowledge_base.search import Filters
from knowledge_base.service import Answer, KnowledgeBase
from knowledge_base.store import EntryStore, UpsertReport

__all__ = ["EntryEditor", "EntryError", "EntryNotFound", "EntryRecord", "EntryVersion", "InvalidTransition",
           "VersionNotFound"]

MAX_PAGE = 500
MAX_EDITOR_CHARS = 200
MAX_NOTE_CHARS = 2_000


class EntryEditor:
    """The editors' service over a running KnowledgeBase.

    Without one (`EntryEditor(store=...)`, the command line) changes are only stored: no embedding model is loaded,
    and a running desk picks them up within seconds; near_duplicates, preview and import_file need the KnowledgeBase.
    """

    def __init__(self, kb: KnowledgeBase | None = None, *, store: EntryStore | None = None) -> None:
        if store is None:
            if kb is None:
                raise ValueError("give the KnowledgeBase, or at least the EntryStore")
            store = kb.store
        self._kb = kb
        self.store = store

    @property
    def kb(self) -> KnowledgeBase:
        if self._kb is None:
            raise RuntimeError("this needs the knowledge base's search: build EntryEditor(kb)")
        return self._kb

    def list(self, *, text: str | None = None, department: str | None = None, topic: str | None = None,
             state: str | None = None, limit: int = 50, offset: int = 0) -> tuple[builtins.list[EntryRecord], int]:
        """One page of entries by id, and how many match in all.

        `text` matches the newest version's id, question, alternative phrasings and answer (case-insensitive).
        `state` matches the newest version's state, and "published" also the entries whose published version
        answers while a draft edit waits. The filtering and paging are done by the database.
        """
        check_state(state)
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise EntryError(f"limit is 1 to {MAX_PAGE} and offset 0 or more")
        return self.store.page(text=text.strip() if text and text.strip() else None, department=department,
                               topic=topic, state=state, limit=limit, offset=offset)

    def get(self, entry_id: str) -> EntryRecord:
        return self.store.record(entry_id)

    def history(self, entry_id: str) -> builtins.list[EntryVersion]:
        """Every version, newest first."""
        return self.store.history(entry_id)

    def save(self, entry: Entry, *, editor: str, note: str) -> EntryRecord:
        """Create an entry as a draft, or save an edit as a new draft version (a published one answers until then)."""
        return self._apply(self.store.save(entry, state=DRAFT, editor=_editor(editor), note=_note(note)))

    def publish(self, entry_id: str, *, editor: str, note: str) -> EntryRecord:
        """Publish the newest version: from now on it answers citizens."""
        return self._apply(self.store.transition(entry_id, PUBLISHED, editor=_editor(editor), note=_note(note)))

    def retire(self, entry_id: str, *, editor: str, note: str) -> EntryRecord:
        """Stop the entry answering; its history stays."""
        return self._apply(self.store.transition(entry_id, RETIRED, editor=_editor(editor), note=_note(note)))

    def revert(self, entry_id: str, version: int, *, editor: str, note: str) -> EntryRecord:
        """A new version equal to `version`, content and state (reverting to a published version publishes it)."""
        return self._apply(self.store.revert(entry_id, version, editor=_editor(editor), note=_note(note)))

    def near_duplicates(self, question: str, *, exclude_id: str | None = None,
                        limit: int = 5) -> builtins.list[tuple[EntryRecord, float]]:
        """Drafts and published entries whose phrasings are closest to `question`, with the cosine (0..1)."""
        question = question.strip()
        if not question:
            return []
        vector = self.kb.embedder.embed_one(question)
        similarity: dict[str, float] = {}
        for state in (PUBLISHED, DRAFT):
            for candidate in self.kb.backend.search("", vector, limit=limit + 1, filters=Filters(state=state)):
                if candidate.entry.id != exclude_id and candidate.phrasing_scores:
                    similarity[candidate.entry.id] = min(1.0, max(0.0, candidate.phrasing_scores[0]))
        best = sorted(similarity.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [(self.store.record(entry_id), round(score, 4)) for entry_id, score in best]

    def preview(self, question: str) -> Answer:
        """How the assistant would answer `question` now: published entries, the current threshold."""
        return self.kb.answer(question)

    def import_file(self, path: Path, *, editor: str = "import", draft: bool = False, source: str | None = None,
                    show_progress: bool = False) -> UpsertReport:
        """Import a .jsonl or .csv file all or nothing (EntryFileError names the bad line); published unless draft.

        `source`: the file's name for the versions' note (default: the name of `path`).
        """
        entries = read_entries(path)
        return self.kb.import_entries(entries, editor=_editor(editor),
                                      note=f"imported from {source or Path(path).name}",
                                      state=DRAFT if draft else PUBLISHED, show_progress=show_progress)

    def export_entries(self, *, state: str | None = PUBLISHED) -> builtins.list[Entry]:
        """The entries to export, by id: for "published" the content that answers citizens, else the newest
        version in `state` (None: every entry's newest version)."""
        check_state(state)
        if state == PUBLISHED:
            return [live.entry for live in self.store.live() if live.state == PUBLISHED]
        return [r.entry for r in self.store.records() if state is None or r.state == state]

    def _apply(self, record: EntryRecord) -> EntryRecord:
        if self._kb is not None:
            self._kb.refresh(calibrate=False)  # the desk's poller recalibrates within seconds
        return record


def _editor(editor: str) -> str:
    editor = (editor or "").strip()
    if not editor or len(editor) > MAX_EDITOR_CHARS:
        raise EntryError(f"say who makes the change (an editor name of 1 to {MAX_EDITOR_CHARS} characters)")
    return editor


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise EntryError(f"a note is at most {MAX_NOTE_CHARS} characters")
    return note
