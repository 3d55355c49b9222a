"""The directory a desk runs with: the city's directory file plus the departments its knowledge base names.

A city that starts the desk on its own knowledge base (`citydesk serve --kb FILE`) names its own departments in
its entries ("Housing", "Municipal Court"). Routing sends a case only to a department of the directory, so the
desk's directory is the file's (settings.directory_file) with every department the published entries name that
the file lacks: its code is the name's slug, its head the fallback department's head until the city adds it to
the file. The file's service categories are mapped onto the city's departments, in this order:

1. the file's `category_departments:` section (category code -> the name or code of a department of the file or
   of the entries; one that names neither is logged and left out);
2. the file's own department for the category, when the city's entries name it too (or name no department);
3. the department whose entries best match the category's name and examples: for each text, the published entries
   whose closest phrasing is nearest (cosine) vote with the hand-off's own vote (knowledge_base/department_vote.py),
   and the department most texts vote for wins;
4. else the file's own department.

`city_directory` is pure (the entries' search comes in as a function); `CityDirectory` keeps it up to date with
the knowledge base, and the desk (desk/app.py) rebuilds it whenever the entries change.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from handoff.directory import Category, Department, Directory, slug
from handoff.models import Case, StaffUser
from knowledge_base.department_vote import vote_department
from knowledge_base.lifecycle import PUBLISHED
from knowledge_base.search.protocol import IndexedEntry
from knowledge_base.service import KnowledgeBase
from knowledge_base.store import EntryStore

log = logging.getLogger("citydesk.directory")

# (department name, confidence) of the best entries for a text, best first: what routing votes on.
EntryMatches = Callable[[str], Sequence[tuple[str | None, float]]]


def with_entry_departments(base: Directory, names: Iterable[str | None], *,
                           keep: Iterable[Department] = ()) -> Directory:
    """The file's directory plus a department for each name (of an entry) it does not know.

    `keep`: departments added before that must stay (cases and staff accounts point at them), added when no
    name gives them again.
    """
    head = base.department(base.fallback_department).head
    added: dict[str, Department] = {}
    wanted = {name.strip() for name in names if name and name.strip()}
    for name in sorted(wanted, key=lambda n: (slug(n), n)):
        code = slug(name)
        if code and code not in added and base.department_by_name(name) is None:
            added[code] = Department(code=code, name=name.strip(), head=head, from_knowledge_base=True)
    known = {d.code for d in base.departments} | set(added)
    added.update({d.code: d for d in keep if d.code not in known})
    if not added:
        return base
    return Directory(**{**dict(base), "departments": (*base.departments, *added.values())})


def with_category_departments(directory: Directory, entry_departments: Iterable[str | None],
                              matches: EntryMatches | None = None) -> Directory:
    """The directory with each service category given the city's department (the order in the module's doc)."""
    def code_of(name: str) -> str | None:
        department = directory.department_by_name(name)
        return department.code if department else None

    used = {code for name in set(entry_departments) if name and (code := code_of(name))}
    categories = tuple(category.model_copy(update={"department": _department_for(category, directory, used,
                                                                                   code_of, matches)})
                       for category in directory.categories)
    if categories == directory.categories:
        return directory
    return Directory(**{**dict(directory), "categories": categories})


def _department_for(category: Category, directory: Directory, used: set[str],
                    code_of: Callable[[str], str | None], matches: EntryMatches | None) -> str:
    mapped = directory.category_departments.get(category.code)
    if mapped is not None:
        if code := code_of(mapped):
            return code
        log.warning("category_departments maps %s to %r, which is neither a department of the directory file nor "
                    "one the knowledge base's entries name; mapping it by the entries instead", category.code, mapped)
    if not used or category.department in used or matches is None:
        return category.department
    wins: Counter[str] = Counter()
    weight: dict[str, float] = defaultdict(float)
    for text in (category.name, *category.examples):
        found = list(matches(text))
        best = vote_department(found, accept=code_of)
        if best is not None:
            wins[best] += 1
            weight[best] += sum(confidence for name, confidence in found[:3] if name and code_of(name) == best)
    if not wins:
        return category.department
    return max(wins, key=lambda code: (wins[code], weight[code], code))


def city_directory(base: Directory, entry_departments: Sequence[str | None], *, matches: EntryMatches | None = None,
                   keep: Iterable[Department] = ()) -> Directory:
    """The directory a desk runs with, for entries naming `entry_departments` (one name per published entry)."""
    directory = with_entry_departments(base, entry_departments, keep=keep)
    return with_category_departments(directory, entry_departments, matches)


def best_entries(texts: Sequence[str], vectors: np.ndarray, items: Sequence[IndexedEntry], *, top_k: int = 5,
                 chunk: int = 20_000) -> dict[str, list[tuple[str | None, float]]]:
    """For each text (its normalised vector a row of `vectors`), (department, cosine) of the `top_k` entries whose
    closest phrasing is nearest."""
    if not items or not len(texts):
        return {}
    best = np.full((len(texts), len(items)), -1.0, dtype=np.float32)
    for start in range(0, len(items), chunk):  # bounded memory on large knowledge bases
        part = items[start:start + chunk]
        phrasings = np.vstack([item.vectors for item in part])
        starts = np.cumsum([0, *(len(item.vectors) for item in part[:-1])])
        best[:, start:start + len(part)] = np.maximum.reduceat(vectors @ phrasings.T, starts, axis=1)
    order = np.argsort(-best, axis=1)[:, :top_k]
    return {text: [(items[j].entry.department, float(best[i, j])) for j in order[i]] for i, text in enumerate(texts)}


def departments_in_use(sessions: sessionmaker) -> set[str]:
    """The department codes cases and staff accounts point at: a department may not vanish under them."""
    with sessions() as session:
        cases = session.scalars(select(Case.agency_responsible).distinct())
        staff = session.scalars(select(StaffUser.department).where(StaffUser.department.is_not(None)).distinct())
        return {code for code in (*cases, *staff) if code}


def stored_departments(base: Directory, sessions: sessionmaker) -> Directory:
    """The departments of a desk on this database, read without the embedding model (for the command line): the
    file's, those its published entries name, and those cases and staff point at; categories as the file maps them."""
    names = [live.entry.department for live in EntryStore(sessions).live() if live.state == PUBLISHED]
    head = base.department(base.fallback_department).head
    directory = with_entry_departments(base, names)
    keep = [Department(code=code, name=code, head=head, from_knowledge_base=True)
            for code in sorted(departments_in_use(sessions))]
    return with_entry_departments(directory, (), keep=keep)


class CityDirectory:
    """The desk's directory, rebuilt from the file's and the knowledge base's published entries when they change."""

    def __init__(self, base: Directory, knowledge_base: KnowledgeBase,
                 in_use: Callable[[], Iterable[str]] = tuple, *, marker: int | None = None) -> None:
        """`in_use`: the department codes cases and staff point at (`departments_in_use`); `marker`: the store's
        change marker the knowledge base's index is up to date with (None: rebuild at the first `refresh`)."""
        self.base = base
        self._kb = knowledge_base
        self._in_use = in_use
        self._marker = marker
        self._seen: dict[str, Department] = {}  # every department added so far, so that kept ones keep their name
        self._text_vectors: np.ndarray | None = None
        self._lock = threading.Lock()
        self.directory = self.build()

    def build(self) -> Directory:
        """The directory for the published entries the knowledge base has now."""
        names = [item.entry.department for item in self._kb.published()]
        head = self.base.department(self.base.fallback_department).head
        keep = [self._seen.get(code) or Department(code=code, name=code, head=head, from_knowledge_base=True)
                for code in sorted(set(self._in_use()))]
        directory = city_directory(self.base, names, matches=self._entry_matches(), keep=keep)
        self._seen.update({d.code: d for d in directory.departments if d.from_knowledge_base})
        return directory

    def refresh(self, marker: int) -> Directory | None:
        """The new directory when the entries changed since `marker` was last seen, else None.

        `marker`: the store's change marker, read before the knowledge base's index was last brought up to date.
        """
        with self._lock:
            if marker == self._marker:
                return None
            directory = self.build()
            self._marker = marker
            if directory == self.directory:
                return None
            added = sorted({d.name for d in directory.departments} - {d.name for d in self.directory.departments})
            if added:
                log.info("Departments named by the knowledge base, added to the directory: %s", ", ".join(added))
            self.directory = directory
            return directory

    def _entry_matches(self) -> EntryMatches:
        """The best published entries for a category's text by the cosine of their closest phrasing, computed for
        every category's texts at once when one first needs it (never while the file's mapping stands for all)."""
        table: dict[str, list[tuple[str | None, float]]] = {}

        def matches(text: str) -> list[tuple[str | None, float]]:
            if not table:
                texts = [t for category in self.base.categories for t in (category.name, *category.examples)]
                if self._text_vectors is None:  # the categories' texts do not change: embedded once
                    self._text_vectors = self._kb.embedder.embed(texts)
                table.update(best_entries(texts, self._text_vectors, self._kb.published()))
            return table.get(text, [])

        return matches
