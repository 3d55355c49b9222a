"""The editor's import and export pages: what `citydesk kb import` and `kb export` do, through the same functions
as the API (desk/uploads.py, desk/api/entries.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from desk.api.deps import get_entry_editor
from desk.api.entries import entries_file
from desk.uploads import MAX_UPLOAD_BYTES, UploadRefused, import_upload, upload_name
from desk.web.auth import EDITOR_PATH, PageError, PageRoute, csrf_protected, current_editor
from desk.web.editor import editor_context
from desk.web.templates import templates
from handoff.models import StaffUser
from knowledge_base.editor import EntryEditor
from knowledge_base.exporter import FORMATS
from knowledge_base.lifecycle import STATES
from knowledge_base.store import UpsertReport

EXPORT_STATES = (*STATES, "all")
IMPORT_AS = ("published", "draft")

router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                   dependencies=[Depends(current_editor)])
post_router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                        dependencies=[Depends(current_editor), Depends(csrf_protected)])


def _files_page(request: Request, user: StaffUser, editor: EntryEditor, *, report: UpsertReport | None = None,
                file_name: str = "", import_as: str = "published", error: str | None = None,
                status_code: int = 200) -> HTMLResponse:
    kb = editor.kb
    return templates.TemplateResponse(request, "editor_files.html", editor_context(
        request, user, report=report, file_name=file_name, import_as=import_as, error=error,
        max_megabytes=MAX_UPLOAD_BYTES // (1024 * 1024), export_states=EXPORT_STATES, formats=FORMATS,
        thresholds=kb.thresholds, published=len(kb.published())), status_code=status_code)


@router.get("/import", response_class=HTMLResponse)
def files_page(request: Request, user: StaffUser = Depends(current_editor),
               editor: EntryEditor = Depends(get_entry_editor)) -> HTMLResponse:
    """Import a file of entries; download the entries as a file."""
    return _files_page(request, user, editor)


@post_router.post("/import", response_class=HTMLResponse)
def import_file(request: Request, file: UploadFile | None = File(default=None), import_as: str = Form("published"),
                user: StaffUser = Depends(current_editor),
                editor: EntryEditor = Depends(get_entry_editor)) -> HTMLResponse:
    """All or nothing, as the API's import: the counts, or the bad line and nothing imported."""
    if import_as not in IMPORT_AS:
        import_as = "published"
    if file is None or not file.filename:
        return _files_page(request, user, editor, import_as=import_as, status_code=400,
                           error="Choose a .jsonl or .csv file of entries first.")
    name = upload_name(file.filename, "upload.jsonl")
    try:
        report = import_upload(editor, file.file, file.filename, editor_name=user.username,
                               draft=import_as == "draft")
    except UploadRefused as refused:
        return _files_page(request, user, editor, file_name=name, import_as=import_as, error=str(refused),
                           status_code=413 if refused.too_large else 400)
    return _files_page(request, user, editor, report=report, file_name=name, import_as=import_as)


@router.get("/export")
def export_file(file_format: str = Query(default="jsonl", alias="format"), state: str = "published",
                editor: EntryEditor = Depends(get_entry_editor)) -> Response:
    """The file `GET /api/kb/entries/export` and `citydesk kb export` give."""
    if file_format not in FORMATS or state not in EXPORT_STATES:
        raise PageError(400, "No such export", f"Export as {' or '.join(FORMATS)}, the entries "
                                               f"{', '.join(EXPORT_STATES)}.")
    return entries_file(editor, file_format, state)
