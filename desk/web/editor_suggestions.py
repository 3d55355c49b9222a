"""The editor's "Suggested phrasings" page: questions resolved for an entry in use, approved or rejected in bulk
(knowledge_base/learning.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.api.deps import get_learner
from desk.web.auth import EDITOR_PATH, PageRoute, csrf_protected, current_editor, flash
from desk.web.editor import editor_context
from desk.web.templates import templates
from handoff.models import StaffUser
from knowledge_base.candidates import CandidateState, Source
from knowledge_base.learning import Decision, PhrasingLearner

PAGE_SIZE = 100
SUGGESTIONS_PATH = f"{EDITOR_PATH}/suggestions"
STATES = ("pending", "approved", "rejected", "all")
MAX_LINKED = 3  # a gap shows up to three examples

router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                   dependencies=[Depends(current_editor)])
post_router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                        dependencies=[Depends(current_editor), Depends(csrf_protected)])


@router.get("/suggestions", response_class=HTMLResponse)
def suggestions_page(request: Request, state: str = "pending", entry: str = "",
                     user: StaffUser = Depends(current_editor),
                     learner: PhrasingLearner = Depends(get_learner)) -> HTMLResponse:
    """Candidate phrasings, most confirmed first; the pending ones with checkboxes to approve or reject."""
    error = None
    if state not in STATES:
        error, state = f"There is no state {state!r}; showing the pending suggestions.", "pending"
    candidates, total = learner.candidates.page(state=None if state == "all" else CandidateState(state),
                                                entry_id=entry or None, limit=PAGE_SIZE)
    return templates.TemplateResponse(request, "editor_suggestions.html", editor_context(
        request, user, candidates=candidates, total=total, state=state, entry=entry, suggestion_states=STATES,
        error=error,
        auto_approve_after=learner.auto_approve_after), status_code=400 if error else 200)


def _summary(decision: Decision, verb: str) -> str:
    done = decision.approved or decision.rejected
    text = f"{verb} {len(done)} suggested phrasing{'s' if len(done) != 1 else ''}."
    if decision.skipped:
        text += " Skipped: " + "; ".join(f"{i} ({why})" for i, why in decision.skipped) + "."
    return text


@post_router.post("/suggestions")
def decide_suggestions(request: Request, ids: list[int] = Form(default=[]), action: str = Form(""),
                       user: StaffUser = Depends(current_editor),
                       learner: PhrasingLearner = Depends(get_learner)) -> Response:
    """Approve (each entry gets a new published version with the phrasings) or reject the ticked candidates."""
    if not ids or action not in ("approve", "reject"):
        flash(request, "Tick at least one suggestion, then Approve or Reject.")
        return RedirectResponse(SUGGESTIONS_PATH, status_code=303)
    if action == "approve":
        flash(request, _summary(learner.approve(ids, editor=user.username, note="approved on the suggestions page"),
                                "Approved"))
    else:
        flash(request, _summary(learner.reject(ids, editor=user.username), "Rejected"))
    return RedirectResponse(SUGGESTIONS_PATH, status_code=303)


@post_router.post("/gaps/link")
def link_gap(request: Request, entry_id: str = Form(""), examples: list[str] = Form(default=[]),
             user: StaffUser = Depends(current_editor),
             learner: PhrasingLearner = Depends(get_learner)) -> Response:
    """An editor links a group of unanswered questions to an entry: their (redacted) words become its phrasings."""
    entry_id = entry_id.strip()
    if learner.kb.store.get(entry_id) is None:
        flash(request, f"There is no entry {entry_id!r}; nothing was linked.")
        return RedirectResponse(f"{EDITOR_PATH}/gaps", status_code=303)
    learned = [c for c in (learner.record(text, entry_id, conversation_id=f"editor:{user.username}",
                                          source=Source.EDITOR) for text in examples[:MAX_LINKED]) if c]
    flash(request, f"{entry_id} learned {len(learned)} phrasing{'s' if len(learned) != 1 else ''} from the group."
          if learned else f"Nothing new for {entry_id}: it is not published, or already has these words.")
    return RedirectResponse(f"{EDITOR_PATH}/gaps", status_code=303)
