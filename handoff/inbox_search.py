"""The inbox at scale: full-text search, filters, counts per filter and paging over the cases an actor may see.

Search matches every word typed (as a prefix) in the case number, the citizen's message, the channel and the
conversation (the citizen's handle on the channel): SQLite FTS5 (`cases_fts`, kept by triggers), PostgreSQL a GIN
index over a tsvector (revision 0015s). Open cases come oldest deadline first, closed ones most recently changed first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import ColumnElement, Index, Integer, Select, and_, case, column, func, literal_column, select, text
from sqlalchemy.orm import Session, sessionmaker

from handoff.account_scope import AccountScope
from handoff.models import Case, CaseState, CaseStatus, Role
from handoff.service import Actor

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_QUERY_WORDS = 8
MANY_MATCHES = 1_000  # from this many, a page of search results is read in the order's index (search_condition)
OPEN_STATES = (CaseState.NEW, CaseState.ASSIGNED, CaseState.WAITING_CITIZEN, CaseState.ANSWERED)
VIEWS = ("open", "closed")
WORD = re.compile(r"[^\W_]+")  # letters and digits: what both engines' tokenizers keep

# Declared here so that autogenerate (scripts/new_migration.py) sees the indexes revision 0015s created.
Index("ix_cases_status_expected", Case.status, Case.expected_datetime, Case.id)
Index("ix_cases_agency_status_expected", Case.agency_responsible, Case.status, Case.expected_datetime, Case.id)
Index("ix_cases_status_updated", Case.status, Case.updated_datetime)
Index("ix_cases_agency_status_updated", Case.agency_responsible, Case.status, Case.updated_datetime)
Index("ix_cases_assignee", Case.assignee)
# covering the counts per filter: the grouped count reads only the index
Index("ix_cases_status_counts", Case.status, Case.state, Case.sla, Case.assignee, Case.expected_datetime)
Index("ix_cases_agency_status_counts", Case.agency_responsible, Case.status, Case.state, Case.sla, Case.assignee,
      Case.expected_datetime)

# Punctuation becomes space first: PostgreSQL's parser reads "CD-2026-000123" as a word and two negative numbers.
# The same expression as revision 0015s's index (ix_cases_search), or the index is not used.
PG_SEARCH_VECTOR = ("to_tsvector('simple', translate(coalesce(cases.service_request_id, '') || ' ' || "
                    "coalesce(cases.description, '') || ' ' || coalesce(cases.channel, '') || ' ' || "
                    "coalesce(cases.conversation_id, ''), '-_:./@#+', '        '))")


@dataclass(frozen=True)
class InboxQuery:
    """What the inbox shows: search words, filters, a view (open or closed cases) and a page."""

    text: str = ""
    department: str | None = None  # supervisors; staff always see their own department
    state: str | None = None  # a CaseState
    overdue: bool = False
    mine: bool = False
    sla: str | None = None  # deadline class
    account: AccountScope | None = None  # the cases written to one of the city's accounts
    view: str = "open"
    page: int = 1
    size: int = PAGE_SIZE

    def words(self) -> list[str]:
        return [w.lower() for w in WORD.findall(self.text)][:MAX_QUERY_WORDS]


@dataclass(frozen=True)
class InboxCounts:
    """How many cases each filter would show, within the same search, department and view."""

    open: int = 0
    closed: int = 0
    states: dict[str, int] = field(default_factory=dict)
    slas: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    mine: int = 0


@dataclass(frozen=True)
class InboxPage:
    cases: Sequence[Case]
    total: int  # matching every filter
    page: int
    pages: int
    counts: InboxCounts
    query: InboxQuery


def _fts_match(words: list[str]) -> str:
    """An FTS5 query: every word, as a prefix (words are letters and digits, so quoting them is enough)."""
    return " AND ".join(f'"{w}"*' for w in words)


def _pg_tsquery(words: list[str]) -> str:
    return " & ".join(f"{w}:*" for w in words)


def search_condition(session: Session, words: list[str], *, many: bool = False) -> ColumnElement[bool] | None:
    """`many` (SQLite): the search matches many cases, so the page is best read in the index's order, each case
    looked up in the matches, rather than every match read and sorted (`+id` keeps SQLite from starting at the
    matches; for a few matches that start is the faster one)."""
    if not words:
        return None
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        matches = (text("SELECT rowid FROM cases_fts WHERE cases_fts MATCH :match")
                   .bindparams(match=_fts_match(words)).columns(column("rowid", Integer)))
        return (literal_column("+cases.id", Integer) if many else Case.id).in_(matches)
    if dialect == "postgresql":
        return literal_column(PG_SEARCH_VECTOR).op("@@")(func.to_tsquery("simple", _pg_tsquery(words)))
    # any other engine: a scan, correct but slow
    searched = (func.coalesce(Case.service_request_id, "") + " " + func.coalesce(Case.description, "") + " "
                + Case.channel + " " + Case.conversation_id)
    return and_(*[func.lower(searched).contains(w) for w in words])


def _scope(session: Session, actor: Actor, query: InboxQuery, *, many: bool = False) -> list[ColumnElement[bool]]:
    """Who may see what (Actor.can_see's rule), the department chosen and the search."""
    conditions: list[ColumnElement[bool]] = []
    if actor.role not in (Role.SYSTEM, Role.SUPERVISOR):  # the same rule as Actor.can_see
        conditions.append(Case.agency_responsible == actor.department)
    elif query.department:
        conditions.append(Case.agency_responsible == query.department)
    if query.account is not None:
        conditions.append(query.account.cases())
    matched = search_condition(session, query.words(), many=many)
    if matched is not None:
        conditions.append(matched)
    return conditions


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Case.status == CaseStatus.OPEN, Case.expected_datetime < now)


def _shown_status(query: InboxQuery) -> CaseStatus:
    return CaseStatus.CLOSED if query.view == "closed" else CaseStatus.OPEN


@dataclass(frozen=True)
class _Group:
    """The cases in scope of one status, state and deadline class: how many, how many of them are overdue, mine,
    and both. Grouping by the index's own columns reads ix_cases_*_counts in order, with no sort."""

    status: str
    state: str
    sla: str
    count: int
    overdue: int
    mine: int
    mine_overdue: int

    def matching(self, query: InboxQuery) -> int:
        if self.status != _shown_status(query):
            return 0
        if (query.state and self.state != query.state) or (query.sla and self.sla != query.sla):
            return 0
        if query.overdue and query.mine:
            return self.mine_overdue
        return self.overdue if query.overdue else self.mine if query.mine else self.count


def _groups(session: Session, actor: Actor, scope: list[ColumnElement[bool]], query: InboxQuery,
            now: datetime) -> list[_Group]:
    """One grouped count over the view's cases in scope: the total for any combination of filters and the counts
    per filter both add up from these few rows. With a search, over every status: the matches are read once for
    both views (without one, the other view's total is an index-only count)."""
    mine = case((Case.assignee == actor.username, 1), else_=0)
    late = case((Case.expected_datetime < now, 1), else_=0) if query.view == "open" else literal_column("0")
    rows = session.execute(select(Case.status, Case.state, Case.sla, func.count(), func.sum(late), func.sum(mine),
                                  func.sum(mine * late))
                           .where(*scope, *([] if query.words() else [Case.status == _shown_status(query)]))
                           .group_by(Case.status, Case.state, Case.sla)).all()
    return [_Group(status, state, sla, count, int(overdue or 0), int(own or 0), int(both or 0))
            for status, state, sla, count, overdue, own, both in rows]


def _counts(session: Session, scope: list[ColumnElement[bool]], query: InboxQuery,
            groups: list[_Group]) -> InboxCounts:
    """Per filter, how many it shows within the same search, department and view (the other filters aside)."""
    shown = _shown_status(query)
    totals = {CaseStatus.OPEN: 0, CaseStatus.CLOSED: 0}
    states: dict[str, int] = {}
    slas: dict[str, int] = {}
    for g in groups:
        totals[CaseStatus(g.status)] = totals.get(CaseStatus(g.status), 0) + g.count
        if g.status == shown:
            states[g.state] = states.get(g.state, 0) + g.count
            slas[g.sla] = slas.get(g.sla, 0) + g.count
    if not query.words():  # the groups are the shown view's only: the other's total from its index
        other = CaseStatus.OPEN if shown == CaseStatus.CLOSED else CaseStatus.CLOSED
        totals[other] = session.scalar(select(func.count()).select_from(Case).where(*scope, Case.status == other)) or 0
    mine_overdue = [g for g in groups if g.status == shown]
    return InboxCounts(open=totals[CaseStatus.OPEN], closed=totals[CaseStatus.CLOSED], states=states, slas=slas,
                       overdue=sum(g.overdue for g in mine_overdue), mine=sum(g.mine for g in mine_overdue))


def search_inbox(sessions: sessionmaker, actor: Actor, query: InboxQuery, now: datetime) -> InboxPage:
    """One page of the cases matching the query, the number of them, and the counts per filter."""
    query = replace(query, view=query.view if query.view in VIEWS else "open",
                    size=min(max(query.size, 1), MAX_PAGE_SIZE))
    with sessions() as session:
        scope = _scope(session, actor, query)
        groups = _groups(session, actor, scope, query, now)
        total = sum(g.matching(query) for g in groups)
        pages = max(1, -(-total // query.size))
        page = min(max(query.page, 1), pages)
        filters = [Case.status == _shown_status(query)]
        if query.state:
            filters.append(Case.state == query.state)
        if query.sla:
            filters.append(Case.sla == query.sla)
        if query.overdue:
            filters.append(_overdue(now))
        if query.mine:
            filters.append(Case.assignee == actor.username)
        order = ((Case.updated_datetime.desc(), Case.id.desc()) if query.view == "closed"
                 else (Case.expected_datetime, Case.id))
        if total >= MANY_MATCHES:
            scope = _scope(session, actor, query, many=True)
        found: Select = (select(Case).where(*scope, *filters).order_by(*order)
                         .offset((page - 1) * query.size).limit(query.size))
        cases = list(session.scalars(found)) if total else []
        session.expunge_all()
        counts = _counts(session, scope, query, groups)
    return InboxPage(cases, total, page, pages, counts, replace(query, page=page))
