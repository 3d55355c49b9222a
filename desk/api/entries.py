"""Knowledge base entries for content editors: list, edit, publish, retire, revert, import, export (editors only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from desk.api.deps import get_entry_editor, get_knowledge_base
from desk.api.editor_auth import require_editor
from desk.api.kb import SearchResponse, hit_of
from desk.uploads import UploadRefused, import_upload
from knowledge_base.editor import MAX_NOTE_CHARS, EntryEditor
from knowledge_base.entry import Entry
from knowledge_base.exporter import render
from knowledge_base.lifecycle import EntryNotFound, EntryRecord, EntryVersion
from knowledge_base.service import MAX_QUERY_CHARS, KnowledgeBase

# A refused change raises the knowledge base's error: desk.api.errors answers 404 (no such entry or version),
# 409 (the state does not allow it) or 422 (anything else), with the error's message as the detail.
router = APIRouter(prefix="/api/kb/entries", tags=["knowledge base entries"])

State = Literal["draft", "published", "retired"]
ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such entry or version."},
    401: {"description": "Not logged in as an editor, and no internal token."},
    403: {"description": "Logged in, but not as a content editor."}}


class RecordOut(BaseModel):
    """An entry's newest version, and the version that answers citizens (null: none does)."""

    entry: Entry
    state: str
    version: int
    published_version: int | None
    updated_at: datetime
    updated_by: str


class VersionOut(BaseModel):
    version: int
    entry: Entry
    state: str
    editor: str
    note: str
    created_at: datetime


class RecordPage(BaseModel):
    total: int
    items: list[RecordOut]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry: Entry
    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=MAX_NOTE_CHARS)


class RevertIn(ChangeIn):
    version: int = Field(ge=1)


class QuestionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    exclude_id: str | None = None
    limit: int = Field(default=5, ge=1, le=50)


class NearDuplicate(BaseModel):
    record: RecordOut
    similarity: float


class ImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int


def record_out(record: EntryRecord) -> RecordOut:
    return RecordOut(entry=record.entry, state=record.state, version=record.version,
                     published_version=record.published_version, updated_at=record.updated_at,
                     updated_by=record.updated_by)


def version_out(version: EntryVersion) -> VersionOut:
    return VersionOut(version=version.version, entry=version.entry, state=version.state, editor=version.editor,
                      note=version.note, created_at=version.created_at)


def entry_exists(editor: EntryEditor, entry_id: str) -> bool:
    try:
        editor.get(entry_id)
    except EntryNotFound:
        return False
    return True


@router.get("", response_model=RecordPage, responses=ERRORS)
def list_entries(text: str | None = Query(default=None, max_length=MAX_QUERY_CHARS),
                 department: str | None = None, topic: str | None = None, state: State | None = None,
                 limit: int = Query(default=50, ge=1, le=500), offset: int = Query(default=0, ge=0),
                 _: str = Depends(require_editor), editor: EntryEditor = Depends(get_entry_editor)) -> RecordPage:
    """Entries by id; `text` matches id, question, phrasings and answer (case-insensitive)."""
    records, total = editor.list(text=text, department=department, topic=topic, state=state, limit=limit,
                                 offset=offset)
    return RecordPage(total=total, items=[record_out(r) for r in records])


@router.post("", response_model=RecordOut, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def create_entry(body: EntryIn, editor_name: str = Depends(require_editor),
                 editor: EntryEditor = Depends(get_entry_editor)) -> RecordOut:
    """Create an entry as a draft (409 if the id exists)."""
    if entry_exists(editor, body.entry.id):
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"there is already an entry {body.entry.id!r}: "
                                                             "edit it with PUT")
    return record_out(editor.save(body.entry, editor=editor_name, note=body.note))


def entries_file(editor: EntryEditor, file_format: str, state: str) -> Response:
    """Entries as a JSON Lines or CSV download (shared/EVAL.md): the published ones, the newest in a state, or all."""
    body = render(editor.export_entries(state=None if state == "all" else state), file_format)
    media = "application/x-ndjson" if file_format == "jsonl" else "text/csv"
    return Response(body.encode("utf-8"), media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="kb-{state}.{file_format}"'})


@router.get("/export", responses=ERRORS)
def export_entries(file_format: Literal["jsonl", "csv"] = Query(default="jsonl", alias="format"),
                   state: State | Literal["all"] = "published", _: str = Depends(require_editor),
                   editor: EntryEditor = Depends(get_entry_editor)) -> Response:
    """Download entries as JSON Lines or CSV (shared/EVAL.md): the published ones, or the newest in a state."""
    return entries_file(editor, file_format, state)


@router.post("/import", response_model=ImportReport, responses={
    **ERRORS, 422: {"description": "A bad line: nothing was imported; the detail names the line and the reason."}})
def import_entries(file: UploadFile = File(description="A .jsonl or .csv file of entries."),
                   draft: bool = Query(default=False, description="Keep the imported entries as drafts."),
                   editor_name: str = Depends(require_editor),
                   editor: EntryEditor = Depends(get_entry_editor)) -> ImportReport:
    """Import all or nothing; entries are published unless `draft`; a re-import of the same file changes nothing."""
    try:
        report = import_upload(editor, file.file, file.filename, editor_name=editor_name, draft=draft)
    except UploadRefused as refused:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE if refused.too_large
                            else status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(refused)) from None
    return ImportReport(created=report.created, updated=report.updated, unchanged=report.unchanged)


@router.post("/near-duplicates", response_model=list[NearDuplicate], responses=ERRORS)
def near_duplicates(body: QuestionIn, _: str = Depends(require_editor),
                    editor: EntryEditor = Depends(get_entry_editor)) -> list[NearDuplicate]:
    """Drafts and published entries closest to a question, with the similarity (0..1), most similar first."""
    return [NearDuplicate(record=record_out(r), similarity=s)
            for r, s in editor.near_duplicates(body.question, exclude_id=body.exclude_id, limit=body.limit)]


@router.post("/preview", response_model=SearchResponse, responses=ERRORS)
def preview(body: QuestionIn, _: str = Depends(require_editor), editor: EntryEditor = Depends(get_entry_editor),
            kb: KnowledgeBase = Depends(get_knowledge_base)) -> SearchResponse:
    """How the assistant would answer this question now (published entries, the current threshold)."""
    decision = editor.preview(body.question)
    hits = [hit_of(h, kb) for h in decision.results[:body.limit]]
    return SearchResponse(text=body.question, threshold=decision.threshold,
                          answer=hits[0] if decision.entry is not None else None, results=hits)


@router.get("/{entry_id}", response_model=RecordOut, responses=ERRORS)
def get_entry(entry_id: str, _: str = Depends(require_editor),
              editor: EntryEditor = Depends(get_entry_editor)) -> RecordOut:
    """The entry's newest version with its state and version, and the published version."""
    return record_out(editor.get(entry_id))


@router.put("/{entry_id}", response_model=RecordOut, responses=ERRORS)
def edit_entry(entry_id: str, body: EntryIn, editor_name: str = Depends(require_editor),
               editor: EntryEditor = Depends(get_entry_editor)) -> RecordOut:
    """Save an edit as a new draft version; a published version keeps answering until this one is published."""
    if body.entry.id != entry_id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail=f"the entry's id {body.entry.id!r} is not {entry_id!r}: ids cannot change")
    editor.get(entry_id)  # 404 unless it exists
    return record_out(editor.save(body.entry, editor=editor_name, note=body.note))


@router.get("/{entry_id}/history", response_model=list[VersionOut], responses=ERRORS)
def history(entry_id: str, _: str = Depends(require_editor),
            editor: EntryEditor = Depends(get_entry_editor)) -> list[VersionOut]:
    """Every version, newest first: content, state, editor, note and time."""
    return [version_out(v) for v in editor.history(entry_id)]


@router.post("/{entry_id}/publish", response_model=RecordOut, responses={**ERRORS, 409: {
    "description": "Already published."}})
def publish(entry_id: str, body: ChangeIn, editor_name: str = Depends(require_editor),
            editor: EntryEditor = Depends(get_entry_editor)) -> RecordOut:
    """Publish the newest version: it answers citizens from now on."""
    return record_out(editor.publish(entry_id, editor=editor_name, note=body.note))


@router.post("/{entry_id}/retire", response_model=RecordOut, responses={**ERRORS, 409: {
    "description": "Already retired."}})
def retire(entry_id: str, body: ChangeIn, editor_name: str = Depends(require_editor),
           editor: EntryEditor = Depends(get_entry_editor)) -> RecordOut:
    """Stop the entry answering citizens; its history stays."""
    return record_out(editor.retire(entry_id, editor=editor_name, note=body.note))


@router.post("/{entry_id}/revert", response_model=RecordOut, responses=ERRORS)
def revert(entry_id: str, body: RevertIn, editor_name: str = Depends(require_editor),
           editor: EntryEditor = Depends(get_entry_editor)) -> RecordOut:
    """A new version equal to `version`, content and state."""
    return record_out(editor.revert(entry_id, body.version, editor=editor_name, note=body.note))
