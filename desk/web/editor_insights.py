"""The editor's pages about citizens: what they asked that no entry answered, and the answers they found unhelpful."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from desk.api.deps import get_entry_editor
from desk.api.entries import entry_exists
from desk.api.feedback import get_feedback
from desk.web.auth import EDITOR_PATH, PageRoute, current_editor
from desk.web.editor import editor_context
from desk.web.templates import templates
from handoff.models import StaffUser
from handoff.unanswered import UnansweredQuestions
from knowledge_base.editor import EntryEditor
from knowledge_base.feedback import FeedbackStore
from knowledge_base.gaps import Gap, GapFinder, Question

DEFAULT_DAYS = 30
MAX_DAYS = 3650

router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                   dependencies=[Depends(current_editor)])


def get_unanswered(request: Request) -> UnansweredQuestions:
    return request.app.state.unanswered


def get_gap_finder(request: Request) -> GapFinder:
    return request.app.state.gap_finder


def create_link(gap: Gap) -> str:
    """The new-entry form with the group's examples: the newest as the question, the others as phrasings."""
    question, *others = gap.examples
    return f"{EDITOR_PATH}/entries/new?{urlencode([('question', question), *(('alt', o) for o in others)])}"


@router.get("/gaps", response_class=HTMLResponse)
def gaps_page(request: Request, days: str = "30", user: StaffUser = Depends(current_editor),
              unanswered: UnansweredQuestions = Depends(get_unanswered),
              finder: GapFinder = Depends(get_gap_finder)) -> HTMLResponse:
    """Questions the knowledge base could not answer in the last `days` days, grouped by meaning, newest first."""
    error = None
    if not (days.isdigit() and 1 <= int(days) <= MAX_DAYS):
        error = f"Days is a whole number from 1 to {MAX_DAYS}; showing the last {DEFAULT_DAYS} days."
        days = str(DEFAULT_DAYS)
    since = request.app.state.cases.now() - timedelta(days=int(days))
    questions = [Question(text=q.text, at=q.at) for q in unanswered.newest(since=since)]
    gaps = finder.gaps(questions)
    return templates.TemplateResponse(request, "editor_gaps.html", editor_context(
        request, user, gaps=[(g, create_link(g)) for g in gaps], days=days, questions=len(questions), error=error),
        status_code=400 if error else 200)


@router.get("/feedback", response_class=HTMLResponse)
def feedback_page(request: Request, user: StaffUser = Depends(current_editor),
                  feedback: FeedbackStore = Depends(get_feedback),
                  editor: EntryEditor = Depends(get_entry_editor)) -> HTMLResponse:
    """The entries citizens most often found unhelpful."""
    rows = [(votes, editor.get(votes.entry_id) if entry_exists(editor, votes.entry_id) else None)
            for votes in feedback.most_unhelpful()]
    return templates.TemplateResponse(request, "editor_feedback.html", editor_context(request, user, rows=rows))
