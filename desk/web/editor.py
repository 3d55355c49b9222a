"""The content editors' web editor: list and search entries, create and edit, preview, publish, retire, revert."""

from __future__ import annotations

from math import ceil
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.api.deps import get_entry_editor
from desk.api.entries import entry_exists
from desk.api.feedback import get_feedback
from desk.web.auth import EDITOR_PATH, PageRoute, csrf_protected, current_editor, flash, page_context, sentence
from desk.web.editor_form import EntryForm, new_entry_id, to_entry
from desk.web.formatting import local_time
from desk.web.templates import templates
from handoff.models import StaffUser
from knowledge_base.editor import EntryEditor
from knowledge_base.feedback import FeedbackStore
from knowledge_base.lifecycle import STATES, EntryError, EntryNotFound, EntryRecord

PAGE_SIZE = 25
# At this similarity a new question is probably an entry that exists: saving asks the editor to confirm.
DUPLICATE_SIMILARITY = 0.8
SHOWN_SIMILARITY = 0.5

router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                   dependencies=[Depends(current_editor)])
post_router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                        dependencies=[Depends(current_editor), Depends(csrf_protected)])


def editor_context(request: Request, user: StaffUser, **values: Any) -> dict[str, Any]:
    """page_context plus what the editor's pages share: the departments, the states and the city's time zone."""
    directory = request.app.state.cases.directory
    timezone = request.app.state.settings.city_timezone
    return page_context(request, user, departments=[d.name for d in directory.departments], states=STATES,
                        when=lambda moment: local_time(moment, timezone) if moment else "—", **values)


@router.get("", response_class=HTMLResponse)
def entries(request: Request, text: str = "", department: str = "", topic: str = "", state: str = "",
            page: str = "1", user: StaffUser = Depends(current_editor),
            editor: EntryEditor = Depends(get_entry_editor)) -> HTMLResponse:
    """Every entry, or those matching the search, a page at a time."""
    error, status_code = None, 200
    if state and state not in STATES:
        error, status_code, state = f"There is no state {state!r}; showing every state.", 400, ""
    if not (page.isdigit() and int(page) >= 1):
        error, status_code, page = f"There is no page {page!r}; showing the first.", 400, "1"
    number = int(page)
    records, total = editor.list(text=text.strip() or None, department=department or None, topic=topic.strip() or None,
                                 state=state or None, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    pages = max(1, ceil(total / PAGE_SIZE))
    query = {k: v for k, v in {"text": text, "department": department, "topic": topic, "state": state}.items() if v}
    link = {n: f"{EDITOR_PATH}?{urlencode({**query, 'page': n})}" for n in (number - 1, number + 1)}
    return templates.TemplateResponse(request, "editor_list.html", editor_context(
        request, user, records=records, total=total, page=number, pages=pages, link=link, text=text,
        department=department, topic=topic, state=state, error=error), status_code=status_code)


@router.get("/preview", response_class=HTMLResponse)
def preview_page(request: Request, question: str = "", user: StaffUser = Depends(current_editor),
                 editor: EntryEditor = Depends(get_entry_editor)) -> HTMLResponse:
    """How the assistant would answer a question now, from the published entries."""
    return templates.TemplateResponse(request, "editor_preview.html", editor_context(
        request, user, question=question, preview=editor.preview(question) if question.strip() else None))


@router.get("/entries/new", response_class=HTMLResponse)
def new_entry(request: Request, question: str = "", alt: list[str] = Query(default=[]),
              user: StaffUser = Depends(current_editor)) -> HTMLResponse:
    """The empty form, or one filled in from citizens' questions (the unanswered questions page)."""
    form = EntryForm(question=question, alt_questions="\n".join(alt))
    return _form_page(request, user, form, record=None)


@router.get("/entries/{entry_id}", response_class=HTMLResponse)
def entry_page(request: Request, entry_id: str, user: StaffUser = Depends(current_editor),
               editor: EntryEditor = Depends(get_entry_editor),
               feedback: FeedbackStore = Depends(get_feedback)) -> HTMLResponse:
    return _entry_page(request, user, editor, feedback, editor.get(entry_id))


@router.get("/entries/{entry_id}/edit", response_class=HTMLResponse)
def edit_entry(request: Request, entry_id: str, user: StaffUser = Depends(current_editor),
               editor: EntryEditor = Depends(get_entry_editor)) -> HTMLResponse:
    record = editor.get(entry_id)
    return _form_page(request, user, EntryForm.of(record.entry), record=record)


def _entry_page(request: Request, user: StaffUser, editor: EntryEditor, feedback: FeedbackStore,
                record: EntryRecord, *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "editor_entry.html", editor_context(
        request, user, record=record, history=editor.history(record.entry.id), votes=feedback.counts(record.entry.id),
        error=error), status_code=status_code)


def _form_page(request: Request, user: StaffUser, form: EntryForm, *, record: EntryRecord | None,
               duplicates: list[tuple[EntryRecord, float]] | None = None, preview: Any = None,
               confirm: bool = False, status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "editor_form.html", editor_context(
        request, user, form=form, record=record, duplicates=duplicates, preview=preview, confirm=confirm,
        duplicate_similarity=DUPLICATE_SIMILARITY), status_code=status_code)


def _similar(editor: EntryEditor, question: str, exclude_id: str | None) -> list[tuple[EntryRecord, float]]:
    return [(r, s) for r, s in editor.near_duplicates(question, exclude_id=exclude_id) if s >= SHOWN_SIMILARITY]


async def _submitted(request: Request) -> EntryForm:
    data = await request.form()

    def value(name: str) -> str:
        return str(data.get(name, ""))

    return EntryForm(id=value("id"), question=value("question"), alt_questions=value("alt_questions"),
                     answer=value("answer"), department=value("department"), topic=value("topic"), url=value("url"),
                     language=value("language"), note=value("note"))


@post_router.post("/entries/new", response_class=HTMLResponse)
async def create_entry(request: Request, action: str = Form("save"), checked_question: str = Form(""),
                       user: StaffUser = Depends(current_editor),
                       editor: EntryEditor = Depends(get_entry_editor)) -> Response:
    form = await _submitted(request)
    form.id = form.id.strip()
    if form.id and action == "save" and entry_exists(editor, form.id):
        form.errors["id"] = f"There is already an entry {form.id!r}; choose another id or edit that entry."
        return _form_page(request, user, form, record=None, status_code=409)
    # no id typed: one made from the question (the form keeps the field empty, should the question change)
    entry_id = form.id or new_entry_id(form.question, lambda candidate: entry_exists(editor, candidate))
    return _submit(request, user, editor, form, entry_id=entry_id, action=action, checked_question=checked_question,
                   record=None)


@post_router.post("/entries/{entry_id}/edit", response_class=HTMLResponse)
async def save_entry(request: Request, entry_id: str, action: str = Form("save"), checked_question: str = Form(""),
                     user: StaffUser = Depends(current_editor),
                     editor: EntryEditor = Depends(get_entry_editor)) -> Response:
    record = editor.get(entry_id)
    form = await _submitted(request)
    form.id = record.entry.id  # the id is not editable
    return _submit(request, user, editor, form, entry_id=record.entry.id, action=action,
                   checked_question=checked_question, record=record)


def _submit(request: Request, user: StaffUser, editor: EntryEditor, form: EntryForm, *, entry_id: str, action: str,
            checked_question: str, record: EntryRecord | None) -> Response:
    """'check': similar entries; 'preview': the assistant's answer now; 'save': a new draft version."""
    exclude = record.entry.id if record else None
    if action in ("check", "preview"):
        if not form.question.strip():
            form.errors["question"] = "Write the question first."
            return _form_page(request, user, form, record=record, status_code=400)
        if action == "check":
            return _form_page(request, user, form, record=record,
                              duplicates=_similar(editor, form.question, exclude))
        return _form_page(request, user, form, record=record, preview=editor.preview(form.question))
    entry = to_entry(form, entry_id=entry_id, category=record.entry.category if record else None)
    if entry is None:
        return _form_page(request, user, form, record=record, status_code=400)
    question_changed = record is None or entry.question != record.entry.question
    if question_changed and checked_question.strip() != entry.question:
        similar = _similar(editor, entry.question, exclude)
        if any(score >= DUPLICATE_SIMILARITY for _, score in similar):
            return _form_page(request, user, form, record=record, duplicates=similar, confirm=True, status_code=409)
    try:
        saved = editor.save(entry, editor=user.username, note=form.note.strip())
    except EntryError as error:
        form.errors["form"] = sentence(error)
        return _form_page(request, user, form, record=record, status_code=400)
    flash(request, f"Saved as version {saved.version} ({saved.state})."
          + (" Publish it to let the assistant answer with it." if saved.state == "draft" else ""))
    return RedirectResponse(f"{EDITOR_PATH}/entries/{saved.entry.id}", status_code=303)


def _change(request: Request, user: StaffUser, editor: EntryEditor, feedback: FeedbackStore, entry_id: str,
            change: Any, done: str) -> Response:
    """Publish, retire or revert; a refused change shows the entry page with the reason, nothing changed
    (no such entry: the error page)."""
    record = editor.get(entry_id)
    try:
        changed = change()
    except EntryError as error:
        if isinstance(error, EntryNotFound):
            raise
        return _entry_page(request, user, editor, feedback, record, error=sentence(error), status_code=409)
    flash(request, done.format(version=changed.version))
    return RedirectResponse(f"{EDITOR_PATH}/entries/{entry_id}", status_code=303)


@post_router.post("/entries/{entry_id}/publish")
def publish(request: Request, entry_id: str, note: str = Form(""),
            user: StaffUser = Depends(current_editor), editor: EntryEditor = Depends(get_entry_editor),
            feedback: FeedbackStore = Depends(get_feedback)) -> Response:
    return _change(request, user, editor, feedback, entry_id,
                   lambda: editor.publish(entry_id, editor=user.username, note=note.strip() or "published"),
                   "Published (version {version}): the assistant answers with it now.")


@post_router.post("/entries/{entry_id}/retire")
def retire(request: Request, entry_id: str, note: str = Form(""),
           user: StaffUser = Depends(current_editor), editor: EntryEditor = Depends(get_entry_editor),
           feedback: FeedbackStore = Depends(get_feedback)) -> Response:
    return _change(request, user, editor, feedback, entry_id,
                   lambda: editor.retire(entry_id, editor=user.username, note=note.strip() or "retired"),
                   "Retired (version {version}): the assistant no longer answers with it.")


@post_router.post("/entries/{entry_id}/revert")
def revert(request: Request, entry_id: str, version: str = Form(""), note: str = Form(""),
           user: StaffUser = Depends(current_editor), editor: EntryEditor = Depends(get_entry_editor),
           feedback: FeedbackStore = Depends(get_feedback)) -> Response:
    if not version.isdigit():
        return _entry_page(request, user, editor, feedback, editor.get(entry_id),
                           error="Choose the version to go back to.", status_code=400)
    return _change(request, user, editor, feedback, entry_id,
                   lambda: editor.revert(entry_id, int(version), editor=user.username,
                                         note=note.strip() or f"back to version {version}"),
                   f"Back to version {version}: saved as version {{version}}.")
