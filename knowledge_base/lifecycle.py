"""An entry's life cycle: draft → published → retired, its versions, and the errors editors see.

The rule for edits: every change is a new version. The *live* content (table kb_entries, what the search
indexes) follows the newest version, except that a draft saved over a published entry waits: the published
version keeps answering citizens until the draft is published (or the entry retired).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from knowledge_base.entry import Entry

DRAFT = "draft"
PUBLISHED = "published"
RETIRED = "retired"
STATES = (DRAFT, PUBLISHED, RETIRED)
# target state: the states an entry's newest version may be in for that change
_ALLOWED_FROM = {PUBLISHED: (DRAFT, RETIRED), RETIRED: (DRAFT, PUBLISHED)}


class EntryError(ValueError):
    """A change the knowledge base refuses, with the reason; nothing was changed."""


class EntryNotFound(EntryError, LookupError):
    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id
        super().__init__(f"no entry {entry_id!r}")


class VersionNotFound(EntryError, LookupError):
    def __init__(self, entry_id: str, version: int, newest: int) -> None:
        self.entry_id, self.version = entry_id, version
        super().__init__(f"entry {entry_id!r} has no version {version}: its versions are 1 to {newest}")


class InvalidTransition(EntryError):
    def __init__(self, entry_id: str, current: str, target: str) -> None:
        self.entry_id, self.current, self.target = entry_id, current, target
        verb = {PUBLISHED: "publish", RETIRED: "retire"}.get(target, target)
        super().__init__(f"cannot {verb} entry {entry_id!r}: it is already {current}" if current == target
                         else f"cannot {verb} entry {entry_id!r} from state {current}")


def check_state(state: str | None) -> None:
    """A clear error for a state that is not one of STATES (None: any)."""
    if state is not None and state not in STATES:
        raise EntryError(f"unknown state {state!r}; one of: {', '.join(STATES)}")


def check_transition(entry_id: str, current: str, target: str) -> None:
    """InvalidTransition unless an entry whose newest version is `current` may become `target`."""
    if current not in _ALLOWED_FROM.get(target, ()):
        raise InvalidTransition(entry_id, current, target)


@dataclass(frozen=True)
class EntryVersion:
    """One version of an entry: its full content and state, who made it, when and why."""

    version: int
    entry: Entry
    state: str
    editor: str
    note: str
    created_at: datetime


@dataclass(frozen=True)
class EntryRecord:
    """An entry as editors see it: its newest version, and the version that answers citizens (if any)."""

    entry: Entry
    state: str
    version: int
    updated_at: datetime
    updated_by: str
    published_version: int | None = None  # older than `version` while a draft edit waits to be published

    @classmethod
    def of(cls, newest: EntryVersion, published_version: int | None) -> EntryRecord:
        return cls(entry=newest.entry, state=newest.state, version=newest.version, updated_at=newest.created_at,
                   updated_by=newest.editor, published_version=published_version)


def live_after(*, live_state: str | None, new_state: str) -> bool:
    """Whether a new version in `new_state` replaces the live content (see the module's rule)."""
    return not (new_state == DRAFT and live_state == PUBLISHED)
