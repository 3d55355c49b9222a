"""The staff inbox: a department's open cases (and its views: mine, unassigned, awaiting review), one case's history,
clock and internal notes, and the actions on it (assign, claim, take over, reply or draft, review, ask, note, close)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from types import EllipsisType
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.api.deps import get_cases, get_knowledge_base, get_learner
from desk.web.auth import (
    INBOX_PATH,
    PageError,
    PageRoute,
    csrf_protected,
    current_user,
    flash,
    page_context,
    sentence,
)
from desk.web.formatting import deadline_status, duration, local_time
from desk.web.mail_status import mail_banner, mail_lines
from desk.web.templates import templates
from handoff.account_scope import AccountScope
from handoff.clock import DeadlineState
from handoff.directory import SLA
from handoff.inbox_search import VIEWS, InboxQuery, search_inbox
from handoff.models import Case, CaseState, CaseStatus, Role, StaffUser
from handoff.replies import ResponseTemplates, fill
from handoff.service import MAX_STAFF_TEXT_CHARS, CaseConflict, CaseDesk, CaseError, InboxView
from handoff.staff import actor_of
from knowledge_base.candidates import Source
from knowledge_base.entry import Entry
from knowledge_base.learning import PhrasingLearner
from knowledge_base.search import SearchHit
from knowledge_base.service import KnowledgeBase

ENTRY_CHOICES = 5  # entries offered for "Answer with a knowledge base entry", the closest to the case first

router = APIRouter(prefix=INBOX_PATH, include_in_schema=False, route_class=PageRoute,
                   dependencies=[Depends(current_user)])
post_router = APIRouter(prefix=INBOX_PATH, include_in_schema=False, route_class=PageRoute,
                        dependencies=[Depends(current_user), Depends(csrf_protected)])

EVENT_LABELS = {"opened": "Opened", "claimed": "Claimed", "replied": "Replied to the citizen",
                "asked_details": "Asked the citizen for details (clock paused)", "reassigned": "Reassigned",
                "closed": "Closed", "escalated": "Escalated (overdue)", "assigned": "Assigned",
                "taken_over": "Taken over", "draft_submitted": "Draft answer submitted for review",
                "draft_returned": "Draft returned", "approved": "Approved and sent to the citizen",
                "note": "Internal note", "citizen_replied": "The citizen replied (clock running again)",
                "citizen_follow_up": "The citizen added information", "status_asked": "The citizen asked about the "
                "status (the assistant answered with it)"}
VIEW_LABELS = {InboxView.ALL: "All open", InboxView.MINE: "My cases", InboxView.UNASSIGNED: "Unassigned",
               InboxView.REVIEW: "Awaiting review"}
CLOCK_LABELS = {DeadlineState.DUE: "due", DeadlineState.PAUSED: "paused: waiting for the citizen",
                DeadlineState.OVERDUE: "overdue", DeadlineState.MET: "deadline met",
                DeadlineState.MISSED: "deadline missed"}


def get_templates(request: Request) -> ResponseTemplates:
    return request.app.state.response_templates


def _row(case: Case, cases: CaseDesk) -> dict[str, Any]:
    now, reading = cases.now(), cases.clock(case)
    if reading.state in (DeadlineState.MET, DeadlineState.MISSED):
        status = f"{CLOCK_LABELS[reading.state]}: answered {local_time(reading.responded_at or now, cases.timezone)}"
    elif reading.state == DeadlineState.PAUSED:
        status = f"{CLOCK_LABELS[reading.state]} for {duration(reading.paused_for)}"
    else:
        status = deadline_status(case.expected_datetime, now)
    return {"case": case, "department": cases.directory.department(case.agency_responsible).name,
            "deadline": local_time(case.expected_datetime, cases.timezone),
            "deadline_status": status, "clock": reading, "clock_label": CLOCK_LABELS[reading.state],
            "overdue": reading.state == DeadlineState.OVERDUE and case.status == CaseStatus.OPEN}


@router.get("", response_class=HTMLResponse)
def inbox(request: Request, department: str | None = None, q: str = "", state: str = "", sla: str = "",
          overdue: bool = False, mine: bool = False, view: str = "open", page: int = 1, account: str = "",
          user: StaffUser = Depends(current_user), cases: CaseDesk = Depends(get_cases)) -> HTMLResponse:
    """Staff: their department's cases. Supervisors: every department's, or one department's. The views of the
    open cases (all, mine, unassigned, awaiting review: `inbox_views`) are filters of the one search, with its
    filters, counts, closed cases and pages (`_search`, handoff/inbox_search.py)."""
    error, status_code = None, 200
    department = department or None
    if user.role != Role.SUPERVISOR:
        department = None
    elif department is not None and department not in {d.code for d in cases.directory.departments}:
        error, status_code, department = f"There is no department {department!r}; showing all departments.", 400, None
    accounts = request.app.state.accounts
    scope = None
    if account:
        try:
            scope = AccountScope.of(accounts, account)
        except KeyError:
            error, status_code = f"There is no account {account!r}; showing every account.", 400
    views = inbox_views(cases, user, department=department, view=view)
    focus = views["view"]
    search = _search(cases, user, InboxQuery(text=q, department=department, state=state or VIEW_STATES.get(focus),
                                              sla=sla or None, overdue=overdue, mine=mine or focus == InboxView.MINE,
                                              view=CLOSED_VIEW if view == CLOSED_VIEW else "open", page=page,
                                              account=scope))
    rows = [_row(c, cases) for c in search["found"].cases]
    own = cases.directory.department(user.department).name if user.department else None
    # departments only the knowledge base names: their head is the fallback department's until the file has them
    from_entries = [d.name for d in cases.directory.departments if d.from_knowledge_base
                    and (user.role == Role.SUPERVISOR or d.code == user.department)]
    fallback_head = cases.directory.department(cases.directory.fallback_department).head.name
    return templates.TemplateResponse(request, "inbox.html", page_context(
        request, user, rows=rows, department=department, own_department=own, error=error,
        departments=cases.directory.departments, from_entries=from_entries, fallback_head=fallback_head,
        views=views, search=search, mail_banner=mail_banner(request.app.state.settings),
        accounts=accounts if len(accounts) > len({a.channel for a in accounts}) else []), status_code=status_code)


CLOSED_VIEW = "closed"


def inbox_views(cases: CaseDesk, user: StaffUser, *, department: str | None, view: str | None) -> dict[str, Any]:
    """The inbox's one bar of views, each with its count: the open cases (all, mine, unassigned, awaiting review)
    and the closed ones; and the one shown (an unknown view: all open)."""
    chosen = InboxView(view) if view in set(InboxView) else InboxView.ALL
    actor = actor_of(user)
    counts = cases.view_counts(actor, department=department)
    closed = view == CLOSED_VIEW
    tabs = [{"view": v.value, "label": VIEW_LABELS[v], "count": counts[v], "current": v == chosen and not closed}
            for v in InboxView]
    tabs.append({"view": CLOSED_VIEW, "label": "Closed", "count": cases.closed_count(actor, department=department),
                 "current": closed})
    return {"view": chosen, "label": VIEW_LABELS[chosen], "tabs": tabs}


# the views that are a state of the search (mine is its own filter)
VIEW_STATES = {InboxView.UNASSIGNED: CaseState.NEW.value, InboxView.REVIEW: CaseState.IN_REVIEW.value}

# --- the inbox at scale: search, filters, counts per filter, paging (issue 17, part 8) ---

STATE_LABELS = {CaseState.NEW: "New", CaseState.ASSIGNED: "Assigned",
                CaseState.WAITING_CITIZEN: "Waiting for the citizen", CaseState.IN_REVIEW: "Awaiting review",
                CaseState.ANSWERED: "Answered",
                CaseState.CLOSED: "Closed"}


def _search(cases: CaseDesk, user: StaffUser, query: InboxQuery) -> dict[str, Any]:
    """One page of the inbox, and what the search form, the counts and the pager show (links keep the other
    filters; a changed filter starts again at page 1). Unknown states and deadline classes are ignored."""
    query = replace(query, state=query.state if query.state in set(CaseState) else None,
                    sla=query.sla if query.sla in set(SLA) else None,
                    view=query.view if query.view in VIEWS else "open")
    found = search_inbox(cases.sessions, actor_of(user), query, cases.now())
    params = {"department": query.department or "", "q": query.text, "state": query.state or "",
              "sla": query.sla or "", "overdue": "1" if query.overdue else "", "mine": "1" if query.mine else "",
              "view": query.view if query.view != "open" else "",
              "account": query.account.name if query.account else ""}

    def link(page: int = 1, **changes: str) -> str:
        values = {**params, **changes, "page": str(page) if page > 1 else ""}
        return f"{INBOX_PATH}?{urlencode({k: v for k, v in values.items() if v})}".rstrip("?")

    counts = found.counts
    states = [s for s in STATE_LABELS if s != CaseState.CLOSED] if query.view == "open" else [CaseState.CLOSED]
    return {
        "found": found, "query": found.query, "filtered": bool(query.words() or query.state or query.sla
                                                               or query.overdue or query.mine or query.account),
        "states": [{"key": s.value, "label": STATE_LABELS[s], "count": counts.states.get(s, 0),
                    "link": link(state=s.value)} for s in states],
        "slas": [{"key": c.value, "label": c.value, "count": counts.slas.get(c, 0), "link": link(sla=c.value)}
                 for c in SLA],
        # the search words match cases of the other view too: say so, with the link (the bar's counts have no words)
        "other": _other_view(query, counts.open if query.view == CLOSED_VIEW else counts.closed, link),
        "overdue": {"count": counts.overdue, "link": link(overdue="1")},
        "mine": {"count": counts.mine, "link": link(mine="1")},
        "clear": link(q="", state="", sla="", overdue="", mine="", account=""),
        "previous": link(found.page - 1) if found.page > 1 else None,
        "next": link(found.page + 1) if found.page < found.pages else None,
        "first_row": (found.page - 1) * found.query.size + 1 if found.total else 0,
        "last_row": (found.page - 1) * found.query.size + len(found.cases),
        "state_labels": STATE_LABELS,
    }


def _other_view(query: InboxQuery, count: int, link: Callable[..., str]) -> dict[str, Any] | None:
    if not query.words() or not count:
        return None
    other = "open" if query.view == CLOSED_VIEW else CLOSED_VIEW
    label = f"{count} {other} case{'' if count == 1 else 's'} match{'es' if count == 1 else ''} too"
    return {"label": label, "link": link(view=other if other == CLOSED_VIEW else "", state="", overdue="")}


def _case_page(request: Request, user: StaffUser, cases: CaseDesk, case: Case, *,
               forms: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200) -> HTMLResponse:
    """The case page; after a refused action, with the error beside its form and everything typed kept."""
    response_templates = get_templates(request).for_case(case)
    settings = request.app.state.settings
    entry_choices = _entry_choices(get_knowledge_base(request), case) if case.status != CaseStatus.CLOSED else []
    events = [{"event": e, "label": EVENT_LABELS.get(e.kind, e.kind), "at": local_time(e.at, cases.timezone)}
              for e in case.events]
    return templates.TemplateResponse(request, "case.html", page_context(
        request, user, row=_row(case, cases), case=case, events=events, response_templates=response_templates,
        departments=[d for d in cases.directory.departments if d.code != case.agency_responsible],
        forms=forms or {}, errors=errors or {}, max_chars=MAX_STAFF_TEXT_CHARS, entry_choices=entry_choices,
        requested=local_time(case.requested_datetime, cases.timezone), mail_banner=mail_banner(settings),
        mails=mail_lines(cases.sessions, case.id, timezone=cases.timezone, smtp_configured=settings.smtp_configured),
        **case_work(cases, user, case)), status_code=status_code)


def case_work(cases: CaseDesk, user: StaffUser, case: Case) -> dict[str, Any]:
    """The case page's assignment, review, notes and clock."""
    actor, reading = actor_of(user), cases.clock(case)
    department = cases.directory.department(case.agency_responsible)
    returned = next((e for e in reversed(case.events) if e.kind in ("draft_returned", "draft_submitted")), None)
    return {
        "nobody": NOBODY, "can_assign": actor.can_assign(case),
        "officers": cases.officers(case.agency_responsible) if actor.can_assign(case) else [],
        "can_review": actor.can_review(case), "reviewed": department.review_answers,
        "in_review": case.state == CaseState.IN_REVIEW,
        "returned": returned if returned is not None and returned.kind == "draft_returned"
        and case.state != CaseState.IN_REVIEW and case.draft_text else None,
        "notes": [{"event": e, "at": local_time(e.at, cases.timezone)} for e in case.events if e.kind == "note"],
        "clock": {"state": reading.state, "label": CLOCK_LABELS[reading.state],
                  "due": local_time(reading.expected, cases.timezone),
                  "paused_for": duration(reading.paused_for) if reading.paused_for.total_seconds() else None,
                  "paused_since": local_time(reading.paused_since, cases.timezone) if reading.paused_since else None,
                  "answered": local_time(case.answered_at, cases.timezone) if case.answered_at else None,
                  "office_hours": department.office_hours if case.sla == "simple" else None},
    }


def _entry_choices(kb: KnowledgeBase, case: Case) -> list[SearchHit]:
    """The published entries closest to what the citizen wrote."""
    return kb.answer(case.description, top_k=ENTRY_CHOICES).results


def entry_reply(entry: Entry) -> str:
    """What the citizen receives when staff answer with an entry: its answer, and its page if it has one."""
    return f"{entry.answer}\n\nMore: {entry.url}" if entry.url else entry.answer


def _load(cases: CaseDesk, service_request_id: str, user: StaffUser) -> Case:
    """The case, if the user may see it; else LookupError: "Case not found" (desk.web.auth.domain_page)."""
    return cases.get(service_request_id, actor_of(user))


@router.get("/cases/{service_request_id}", response_class=HTMLResponse)
def case_page(request: Request, service_request_id: str, user: StaffUser = Depends(current_user),
              cases: CaseDesk = Depends(get_cases)) -> HTMLResponse:
    return _case_page(request, user, cases, _load(cases, service_request_id, user))


def _act(request: Request, user: StaffUser, cases: CaseDesk, service_request_id: str, form: str,
         typed: dict[str, str], action: Callable[[], Case], done: str | Callable[[Case], Response]) -> Response:
    """Run one action; on success back to the case page with a notice (or `done`'s response), else the page
    with the refusal beside the form and what was typed (no case, or not the user's: the error page)."""
    try:
        case = action()
    except CaseError as error:
        current = _load(cases, service_request_id, user)
        conflict = isinstance(error, CaseConflict) or current.status == CaseStatus.CLOSED
        return _case_page(request, user, cases, current, forms=typed, errors={form: sentence(error)},
                          status_code=409 if conflict else 400)
    if callable(done):
        return done(case)
    flash(request, done)
    return RedirectResponse(f"{INBOX_PATH}/cases/{service_request_id.upper()}", status_code=303)


NOBODY = "(none)"  # a form's `seen_assignee` when the page showed the case unassigned (never a username)


def _seen(assignee: str | None) -> str | EllipsisType | None:
    """The assignee the page showed, from the form's hidden `seen_assignee`; absent (an old form): not checked."""
    if not assignee:
        return ...
    return None if assignee == NOBODY else assignee


@post_router.post("/cases/{service_request_id}/claim")
def claim(request: Request, service_request_id: str, seen_assignee: str | None = Form(None),
          user: StaffUser = Depends(current_user), cases: CaseDesk = Depends(get_cases)) -> Response:
    return _act(request, user, cases, service_request_id, "claim", {},
                lambda: cases.claim(service_request_id=service_request_id, actor=actor_of(user),
                                    seen_assignee=_seen(seen_assignee)),
                "You have claimed this case.")


class HandOver(StrEnum):
    """Who the case goes to, on its page's assignment card: a named officer (the head's or a supervisor's choice), or
    the person acting, taking it over from the officer who holds it (with a reason)."""

    ASSIGN = "assign"
    TAKE_OVER = "take_over"


@post_router.post("/cases/{service_request_id}/assign")
def assign(request: Request, service_request_id: str, move: HandOver = Form(HandOver.ASSIGN), officer: str = Form(""),
           reason: str = Form(""), seen_assignee: str | None = Form(None), user: StaffUser = Depends(current_user),
           cases: CaseDesk = Depends(get_cases)) -> Response:
    """The case changes hands: assigned to a named officer of the department, or taken over (a reason is required);
    both are recorded in the history and the audit log, and refused if it changed hands since the page was read."""
    actor, seen = actor_of(user), _seen(seen_assignee)
    if move == HandOver.TAKE_OVER:
        return _act(request, user, cases, service_request_id, "take_over", {"take_over": reason},
                    lambda: cases.take_over(service_request_id=service_request_id, actor=actor, reason=reason,
                                            seen_assignee=seen),
                    "You have taken over this case.")
    return _act(request, user, cases, service_request_id, "assign", {"officer": officer, "assign_reason": reason},
                lambda: cases.assign(service_request_id=service_request_id, actor=actor, officer=officer,
                                     reason=reason, seen_assignee=seen),
                lambda case: _done(request, case, f"The case is assigned to {case.assignee}."))


@post_router.post("/cases/{service_request_id}/approve")
def approve(request: Request, service_request_id: str, draft: int | None = Form(None),
            user: StaffUser = Depends(current_user), cases: CaseDesk = Depends(get_cases),
            learner: PhrasingLearner = Depends(get_learner)) -> Response:
    """A reviewer approves the draft: it goes out to the citizen (and an entry's answer teaches the entry)."""
    def done(case: Case) -> Response:
        approved = case.events[-1]
        entry_id = approved.data.get("entry_id") if approved.kind == "approved" else None
        if entry_id:
            learner.record(case.description, entry_id, conversation_id=case.conversation_id, source=Source.STAFF)
        return _done(request, case, "Approved: the answer is on its way to the citizen.")

    return _act(request, user, cases, service_request_id, "review", {},
                lambda: cases.approve(service_request_id=service_request_id, actor=actor_of(user),
                                      draft_event_id=draft), done)


@post_router.post("/cases/{service_request_id}/return")
def return_draft(request: Request, service_request_id: str, comment: str = Form(""), draft: int | None = Form(None),
                 user: StaffUser = Depends(current_user), cases: CaseDesk = Depends(get_cases)) -> Response:
    """A reviewer returns the draft to its officer with a comment; nothing goes to the citizen."""
    return _act(request, user, cases, service_request_id, "review", {"review_comment": comment},
                lambda: cases.return_draft(service_request_id=service_request_id, actor=actor_of(user),
                                           comment=comment, draft_event_id=draft),
                "The draft is back with its officer, with your comment.")


@post_router.post("/cases/{service_request_id}/notes")
def add_note(request: Request, service_request_id: str, text: str = Form(""),
             user: StaffUser = Depends(current_user), cases: CaseDesk = Depends(get_cases)) -> Response:
    """An internal note: staff only, never sent to the citizen, never published."""
    return _act(request, user, cases, service_request_id, "note", {"note": text},
                lambda: cases.add_note(service_request_id=service_request_id, actor=actor_of(user), text=text),
                "Your internal note is saved. Only staff see it.")


def _done(request: Request, case: Case, notice: str) -> Response:
    flash(request, notice)
    return RedirectResponse(f"{INBOX_PATH}/cases/{case.service_request_id}", status_code=303)


def _sent_or_drafted(request: Request, case: Case, sent: str) -> Response:
    """After a reply: out to the citizen, or (a reviewing department) waiting for review."""
    if case.state == CaseState.IN_REVIEW:
        return _done(request, case, "Your draft answer is waiting for review; the citizen receives it once a "
                                    "reviewer approves it.")
    return _done(request, case, sent)


@post_router.post("/cases/{service_request_id}/reply")
def reply(request: Request, service_request_id: str, text: str = Form(""), template: str = Form(""),
          action: str = Form("send"), user: StaffUser = Depends(current_user),
          cases: CaseDesk = Depends(get_cases)) -> Response:
    """Send the reply, or ('Use template') put the chosen template's text in the reply box."""
    if action == "template":
        case = _load(cases, service_request_id, user)
        options = get_templates(request).for_case(case)
        if not template.isdigit() or int(template) >= len(options):
            return _case_page(request, user, cases, case, forms={"reply": text},
                              errors={"reply": "Pick a template from the list first."}, status_code=400)
        return _case_page(request, user, cases, case, forms={"reply": fill(options[int(template)], case,
                                                                           cases.directory),
                                                             "template": template})
    return _act(request, user, cases, service_request_id, "reply", {"reply": text, "template": template},
                lambda: cases.reply(service_request_id=service_request_id, actor=actor_of(user), text=text),
                lambda case: _sent_or_drafted(request, case, "Your reply is on its way to the citizen."))


@post_router.post("/cases/{service_request_id}/answer-with-entry")
def answer_with_entry(request: Request, service_request_id: str, entry_id: str = Form(""),
                      user: StaffUser = Depends(current_user), cases: CaseDesk = Depends(get_cases),
                      kb: KnowledgeBase = Depends(get_knowledge_base),
                      learner: PhrasingLearner = Depends(get_learner)) -> Response:
    """Send a published entry's answer and link the case to it; the citizen's words become its phrasing."""
    entry = next((i.entry for i in kb.published() if i.entry.id == entry_id), None)
    if entry is None:
        case = _load(cases, service_request_id, user)
        return _case_page(request, user, cases, case, forms={"entry": entry_id},
                          errors={"entry": f"There is no published entry {entry_id!r}."}, status_code=400)

    def done(case: Case) -> Response:
        if case.state == CaseState.IN_REVIEW:  # learned once a reviewer approves it
            return _sent_or_drafted(request, case, "")
        learner.record(case.description, entry.id, conversation_id=case.conversation_id or case.service_request_id,
                       source=Source.STAFF)
        flash(request, f"The answer of {entry.id} is on its way to the citizen.")
        return RedirectResponse(f"{INBOX_PATH}/cases/{service_request_id.upper()}", status_code=303)

    return _act(request, user, cases, service_request_id, "entry", {"entry": entry_id},
                lambda: cases.reply(service_request_id=service_request_id, actor=actor_of(user),
                                    text=entry_reply(entry), entry_id=entry.id), done)


@post_router.post("/cases/{service_request_id}/ask")
def ask_details(request: Request, service_request_id: str, text: str = Form(""),
                user: StaffUser = Depends(current_user), cases: CaseDesk = Depends(get_cases)) -> Response:
    return _act(request, user, cases, service_request_id, "ask", {"ask": text},
                lambda: cases.ask_details(service_request_id=service_request_id, actor=actor_of(user), text=text),
                "Your question is on its way to the citizen.")


@post_router.post("/cases/{service_request_id}/reassign")
def reassign(request: Request, service_request_id: str, department: str = Form(""), reason: str = Form(""),
             user: StaffUser = Depends(current_user), cases: CaseDesk = Depends(get_cases)) -> Response:
    def action() -> Case:
        if not department:
            raise CaseError("choose the department the case goes to")
        return cases.reassign(service_request_id=service_request_id, actor=actor_of(user), department=department,
                              reason=reason)

    def done(case: Case) -> Response:
        target = cases.directory.department(case.agency_responsible).name
        flash(request, f"Case {case.service_request_id} is now with {target}.")
        if actor_of(user).can_see(case):
            return RedirectResponse(f"{INBOX_PATH}/cases/{case.service_request_id}", status_code=303)
        return RedirectResponse(INBOX_PATH, status_code=303)  # it left the officer's department

    return _act(request, user, cases, service_request_id, "reassign", {"department": department, "reason": reason},
                action, done)


@post_router.post("/cases/{service_request_id}/close")
def close(request: Request, service_request_id: str, note: str = Form(""), user: StaffUser = Depends(current_user),
          cases: CaseDesk = Depends(get_cases)) -> Response:
    return _act(request, user, cases, service_request_id, "close", {"close": note},
                lambda: cases.close(service_request_id=service_request_id, actor=actor_of(user), note=note),
                "The case is closed.")


@post_router.post("/escalate")
def escalate(request: Request, user: StaffUser = Depends(current_user),
             cases: CaseDesk = Depends(get_cases)) -> RedirectResponse:
    """Supervisors: escalate every overdue case now (the desk also does it every minute)."""
    if user.role != Role.SUPERVISOR:
        raise PageError(403, "Supervisors only", "Only a supervisor can escalate overdue cases.")
    escalated = cases.escalate_overdue()
    if escalated:
        flash(request, f"Escalated {len(escalated)} overdue case{'s' if len(escalated) != 1 else ''}; "
                       "their department heads were notified.")
    else:
        flash(request, "No overdue case was waiting to be escalated.")
    return RedirectResponse(INBOX_PATH, status_code=303)
