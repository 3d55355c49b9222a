"""Entries and cached phrasing embeddings in the relational database (SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    Select,
    String,
    Text,
    UniqueConstraint,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.elements import ColumnElement, SQLCoreOperations

from database import Base
from database.types import UTCDateTime
from knowledge_base.entry import STORED, Entry
from knowledge_base.lifecycle import (
    PUBLISHED,
    RETIRED,
    STATES,
    EntryError,
    EntryNotFound,
    EntryRecord,
    EntryVersion,
    VersionNotFound,
    check_state,
    check_transition,
    live_after,
)


def _stored(data: dict) -> Entry:
    """An entry as saved, read under the rules that were in force when it was saved (see entry.STORED)."""
    return Entry.model_validate(data, context=STORED)


class EntryRow(Base):
    __tablename__ = "kb_entries"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    alt_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(200), index=True)
    topic: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(20), default="en")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default=PUBLISHED, index=True)  # of the live content
    version: Mapped[int] = mapped_column(Integer, default=1)  # the version the live content is

    def to_entry(self) -> Entry:
        return _stored({"id": self.id, "question": self.question, "alt_questions": tuple(self.alt_questions or ()),
                        "answer": self.answer, "department": self.department, "topic": self.topic,
                        "category": self.category, "url": self.url, "language": self.language})


class EntryVersionRow(Base):
    """One version of an entry (knowledge_base/lifecycle.py): a full snapshot, its state, editor and note."""

    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_kb_entry_versions_entry_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(200), ForeignKey("kb_entries.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20))
    editor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def to_version(self) -> EntryVersion:
        return EntryVersion(version=self.version, entry=_stored(self.snapshot), state=self.state,
                            editor=self.editor, note=self.note, created_at=self.created_at)


@dataclass(frozen=True)
class LiveEntry:
    """An entry's live content as the search indexes it: with its state and version."""

    entry: Entry
    state: str
    version: int


class CalibrationRow(Base):
    """The answer threshold calibrated on the knowledge base (knowledge_base/calibration.py), per model."""

    __tablename__ = "kb_calibration"

    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column(Float)
    figures: Mapped[dict] = mapped_column(JSON)
    calibrated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmbeddingRow(Base):
    """A phrasing's vector, keyed by model and text, so unchanged text is never embedded twice."""

    __tablename__ = "kb_embeddings"

    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True)
class UpsertReport:
    created: int
    updated: int
    unchanged: int


def _fields(entry: Entry) -> dict:
    data = entry.model_dump()
    data["alt_questions"] = list(entry.alt_questions)
    return data


class EntryStore:
    """Keyword-only CRUD over entries and their versions; every write is one transaction."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    def upsert_many(self, entries: Sequence[Entry], *, editor: str = "import", note: str = "imported",
                    state: str = PUBLISHED) -> UpsertReport:
        """Create or replace entries by id as new versions in `state`, all or nothing.

        An entry is unchanged (no new version) when its newest version already has this content and state, or,
        importing as published, when its live content is already this one, published (a waiting draft stays).
        """
        check_state(state)
        ids = [e.id for e in entries]
        if len(set(ids)) != len(ids):
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise EntryError(f"duplicate id(s) {', '.join(map(repr, twice))}; nothing was saved")
        created = updated = unchanged = 0
        with self._write() as session:
            rows: dict[str, EntryRow] = {}
            newest: dict[str, EntryVersionRow] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows.update((r.id, r) for r in session.scalars(select(EntryRow).where(EntryRow.id.in_(chunk))))
                newest.update((v.entry_id, v) for v in session.scalars(_newest_versions(chunk)))
            for entry in entries:
                row, head = rows.get(entry.id), newest.get(entry.id)
                if row is not None and _same(row, head, entry, state):
                    unchanged += 1
                    continue
                self._add_version(session, row, head.version if head else 0, entry, state, editor=editor,
                                  note=note)
                created, updated = (created + 1, updated) if row is None else (created, updated + 1)
        return UpsertReport(created=created, updated=updated, unchanged=unchanged)

    def save(self, entry: Entry, *, state: str, editor: str, note: str,
             require: bool | None = None) -> EntryRecord:
        """A new version of `entry` in `state` (require True: the entry must exist; False: must not).

        Content equal to the newest version's (unless retired) is no change: no version is added.
        """
        check_state(state)
        with self._write() as session:
            row = session.get(EntryRow, entry.id)
            if require is True and row is None:
                raise EntryNotFound(entry.id)
            if require is False and row is not None:
                raise EntryError(f"there is already an entry {entry.id!r}")
            head = session.scalars(_newest_versions([entry.id])).first()
            if head is not None and head.state != RETIRED and _stored(head.snapshot) == entry:
                return self._record(session, entry.id)  # nothing changed: no version (saving a retired one revives it)
            self._add_version(session, row, head.version if head else 0, entry, state, editor=editor, note=note)
            return self._record(session, entry.id)

    def transition(self, entry_id: str, target: str, *, editor: str, note: str) -> EntryRecord:
        """Publish or retire the newest version of an entry (a new version in the `target` state)."""
        with self._write() as session:
            row, head = self._existing(session, entry_id)
            check_transition(entry_id, head.state, target)
            self._add_version(session, row, head.version, _stored(head.snapshot), target,
                              editor=editor, note=note)
            return self._record(session, entry_id)

    def revert(self, entry_id: str, version: int, *, editor: str, note: str) -> EntryRecord:
        """A new version equal, in content and state, to version `version`."""
        with self._write() as session:
            row, head = self._existing(session, entry_id)
            old = session.scalars(select(EntryVersionRow).where(EntryVersionRow.entry_id == entry_id,
                                                                EntryVersionRow.version == version)).first()
            if old is None:
                raise VersionNotFound(entry_id, version, head.version)
            self._add_version(session, row, head.version, _stored(old.snapshot), old.state,
                              editor=editor, note=note)
            return self._record(session, entry_id)

    def record(self, entry_id: str) -> EntryRecord:
        with self._sessions() as session:
            self._existing(session, entry_id)
            return self._record(session, entry_id)

    def records(self) -> list[EntryRecord]:
        """Every entry's record, by id."""
        with self._sessions() as session:
            live = {entry_id: version for entry_id, version in session.execute(
                select(EntryRow.id, EntryRow.version).where(EntryRow.state == PUBLISHED))}
            heads = session.scalars(_newest_versions(None).order_by(EntryVersionRow.entry_id))
            return [EntryRecord.of(head.to_version(), live.get(head.entry_id)) for head in heads]

    def page(self, *, text: str | None = None, department: str | None = None, topic: str | None = None,
             state: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[EntryRecord], int]:
        """One page of records by id whose newest version matches, and how many match in all (filtered in SQL).

        `text`: a case-insensitive substring of the id, question, an alternative phrasing or the answer.
        `state`: the newest version's state; "published" also matches an entry whose published version answers
        while a draft edit waits.
        """
        with self._sessions() as session:
            heads = _newest_versions(None).join(EntryRow, EntryRow.id == EntryVersionRow.entry_id)
            snapshot = EntryVersionRow.snapshot
            if department is not None:
                heads = heads.where(snapshot["department"].as_string() == department)
            if topic is not None:
                heads = heads.where(snapshot["topic"].as_string() == topic)
            if state is not None:
                heads = heads.where(or_(EntryVersionRow.state == state, EntryRow.state == PUBLISHED)
                                    if state == PUBLISHED else EntryVersionRow.state == state)
            if text:
                heads = heads.where(_text_matches(session, text))
            # the total rides on each row of the page (one pass of the filter); only a page past the end counts apart
            rows = session.execute(heads.add_columns(EntryRow.state, EntryRow.version, func.count().over())
                                   .order_by(EntryVersionRow.entry_id).limit(limit).offset(offset)).all()
            if rows or offset == 0:
                total = rows[0][3] if rows else 0
            else:
                total = session.scalar(select(func.count()).select_from(heads.subquery())) or 0
            return [EntryRecord.of(head.to_version(), version if live == PUBLISHED else None)
                    for head, live, version, _ in rows], total

    def history(self, entry_id: str) -> list[EntryVersion]:
        """Every version of an entry, newest first."""
        with self._sessions() as session:
            self._existing(session, entry_id)
            return [row.to_version() for row in session.scalars(
                select(EntryVersionRow).where(EntryVersionRow.entry_id == entry_id)
                .order_by(EntryVersionRow.version.desc()))]

    def get(self, entry_id: str) -> Entry | None:
        """The live content of an entry (what the search indexes), or None."""
        with self._sessions() as session:
            row = session.get(EntryRow, entry_id)
            return row.to_entry() if row else None

    def all(self) -> list[Entry]:
        """The live content of every entry, whatever its state."""
        with self._sessions() as session:
            return [row.to_entry() for row in session.scalars(select(EntryRow).order_by(EntryRow.id))]

    def live(self, entry_ids: Iterable[str] | None = None) -> list[LiveEntry]:
        """The live content, state and version of these entries (None: all), by id."""
        with self._sessions() as session:
            query = select(EntryRow).order_by(EntryRow.id)
            if entry_ids is None:
                return [LiveEntry(r.to_entry(), r.state, r.version) for r in session.scalars(query)]
            ids, found = list(entry_ids), []
            for start in range(0, len(ids), 500):
                found += [LiveEntry(r.to_entry(), r.state, r.version)
                          for r in session.scalars(query.where(EntryRow.id.in_(ids[start:start + 500])))]
            return found

    def live_versions(self) -> dict[str, tuple[int, str]]:
        """(version, state) of every entry's live content: what a running index compares itself to."""
        with self._sessions() as session:
            return {entry_id: (version, state) for entry_id, version, state in
                    session.execute(select(EntryRow.id, EntryRow.version, EntryRow.state))}

    def change_marker(self) -> int:
        """Grows with every change to any entry: cheap to poll."""
        with self._sessions() as session:
            return session.scalar(select(func.max(EntryVersionRow.id))) or 0

    def count(self) -> int:
        with self._sessions() as session:
            return session.scalar(select(func.count()).select_from(EntryRow)) or 0

    def count_by_state(self) -> dict[str, int]:
        """How many entries' live content is in each state (published: the entries that answer citizens)."""
        with self._sessions() as session:
            counted = dict(session.execute(select(EntryRow.state, func.count()).group_by(EntryRow.state)).all())
        return {state: counted.get(state, 0) for state in STATES}

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError:
            raise EntryError("the entry was changed by someone else at the same moment; nothing was saved, "
                             "try again") from None

    @staticmethod
    def _existing(session: Session, entry_id: str) -> tuple[EntryRow, EntryVersionRow]:
        row = session.get(EntryRow, entry_id)
        head = session.scalars(_newest_versions([entry_id])).first() if row else None
        if row is None or head is None:
            raise EntryNotFound(entry_id)
        return row, head

    @staticmethod
    def _add_version(session: Session, row: EntryRow | None, newest: int, entry: Entry, state: str, *,
                     editor: str, note: str) -> int:
        now = datetime.now(UTC)
        if row is None:
            row = EntryRow(**_fields(entry), updated_at=now, state=state, version=newest + 1)
            session.add(row)
            session.flush()  # the version row refers to it
        elif live_after(live_state=row.state, new_state=state):
            for key, value in _fields(entry).items():
                setattr(row, key, value)
            row.state, row.version, row.updated_at = state, newest + 1, now
        session.add(EntryVersionRow(entry_id=entry.id, version=newest + 1, snapshot=_fields(entry), state=state,
                                    editor=editor, note=note, created_at=now))
        return newest + 1

    @staticmethod
    def _record(session: Session, entry_id: str) -> EntryRecord:
        session.flush()
        row, head = EntryStore._existing(session, entry_id)
        return EntryRecord.of(head.to_version(), row.version if row.state == PUBLISHED else None)


def _newest_versions(entry_ids: Sequence[str] | None) -> Select[EntryVersionRow]:
    """The newest version row of each of these entries (None: of every entry)."""
    query = select(EntryVersionRow.entry_id, func.max(EntryVersionRow.version).label("version"))
    if entry_ids is not None:
        query = query.where(EntryVersionRow.entry_id.in_(entry_ids))
    newest = query.group_by(EntryVersionRow.entry_id).subquery()
    return select(EntryVersionRow).join(newest, (EntryVersionRow.entry_id == newest.c.entry_id)
                                        & (EntryVersionRow.version == newest.c.version))


def like_pattern(text: str) -> str:
    """A LIKE pattern (escape character '\\') matching `text` anywhere, its % and _ taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text_matches(session: Session, text: str) -> ColumnElement[bool]:
    """The newest version's id, question, alternative phrasings or answer contain `text`, whatever its case."""
    snapshot = EntryVersionRow.snapshot
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's lower() and LIKE fold ASCII only: fold with Python's casefold, as the editor's users expect
        driver = session.connection().connection.driver_connection
        if driver is None:  # only once the connection is invalidated, which the session would have raised on
            raise RuntimeError("the database connection is closed")
        driver.create_function("citydesk_casefold", 1, _casefold, deterministic=True)
        pattern = like_pattern(text.casefold())
        alternatives = func.json_each(snapshot, "$.alt_questions").table_valued("value")

        def matches(column: SQLCoreOperations[str]) -> ColumnElement[bool]:
            return func.citydesk_casefold(column).like(pattern, escape="\\")
    else:
        pattern = like_pattern(text)
        alternatives = func.json_array_elements_text(snapshot["alt_questions"]).table_valued("value")

        def matches(column: SQLCoreOperations[str]) -> ColumnElement[bool]:
            return column.ilike(pattern, escape="\\")
    return or_(matches(EntryVersionRow.entry_id), matches(snapshot["question"].as_string()),
               matches(snapshot["answer"].as_string()),
               select(literal(1)).select_from(alternatives).where(matches(alternatives.c.value)).exists())


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def _same(row: EntryRow, head: EntryVersionRow | None, entry: Entry, state: str) -> bool:
    if head is not None and head.state == state and _stored(head.snapshot) == entry:
        return True
    return state == PUBLISHED and row.state == PUBLISHED and row.to_entry() == entry


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Stored phrasing vectors (float32) per model."""

    def __init__(self, sessions: sessionmaker, model: str) -> None:
        self._sessions = sessions
        self._model = model

    def get_many(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        keys = {text_key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        key_list = list(keys)
        with self._sessions() as session:
            for start in range(0, len(key_list), 500):
                chunk = key_list[start:start + 500]
                rows = session.scalars(select(EmbeddingRow).where(
                    EmbeddingRow.model == self._model, EmbeddingRow.text_sha256.in_(chunk)))
                for row in rows:
                    found[keys[row.text_sha256]] = np.frombuffer(row.vector, dtype=np.float32)
        return found

    def put_many(self, vectors: dict[str, np.ndarray]) -> None:
        with self._sessions.begin() as session:
            for text, vector in vectors.items():
                session.merge(EmbeddingRow(model=self._model, text_sha256=text_key(text),
                                           vector=np.asarray(vector, dtype=np.float32).tobytes()))


class CalibrationStore:
    """The stored calibration of one model's knowledge base: its threshold and how it was found."""

    def __init__(self, sessions: sessionmaker, model: str) -> None:
        self._sessions = sessions
        self._model = model

    def get(self) -> tuple[str, float, dict] | None:
        """(fingerprint, threshold, figures) of the stored calibration, or None."""
        with self._sessions() as session:
            row = session.get(CalibrationRow, self._model)
            return (row.fingerprint, row.threshold, dict(row.figures)) if row else None

    def put(self, *, fingerprint: str, threshold: float, figures: dict) -> None:
        with self._sessions.begin() as session:
            session.merge(CalibrationRow(model=self._model, fingerprint=fingerprint, threshold=threshold,
                                         figures=figures, calibrated_at=datetime.now(UTC)))
