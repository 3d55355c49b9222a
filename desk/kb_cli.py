"""`citydesk kb list/show/publish/retire/revert/export/import`: the entry life cycle from the command line.

These commands write the database only (no embedding model is loaded, except by import, which embeds and
calibrates); a running desk on the same database picks the changes up within seconds.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from settings import Settings

console = Console()
errors = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(help="The desk's data folder (its SQLite database citydesk.db), "
                                              "instead of CITYDESK_DATA_DIR.")]
DatabaseUrl = Annotated[str | None, typer.Option(help="SQLAlchemy URL of the database, instead of DATABASE_URL.")]
EditorName = Annotated[str | None, typer.Option("--editor", help="Name recorded with the change "
                                                "(default: your login name).")]
Note = Annotated[str, typer.Option(help="Why: kept in the entry's history.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

EXIT_REFUSED = 1  # a change the knowledge base refused, or a bad file: nothing changed
EXIT_USAGE = 2


def settings_for(data_dir: Path | None, database_url: str | None) -> Settings:
    """The settings with the command's --data-dir (a separate desk, even if DATABASE_URL is set) or --database-url."""
    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    if data_dir is not None:
        settings.database_url = None
    if database_url:
        settings.database_url = database_url
    return settings


def entry_editor(settings: Settings):
    """An EntryEditor on the settings' database, without the embedding model."""
    from database import create_db_engine, session_factory, upgrade
    from knowledge_base.editor import EntryEditor
    from knowledge_base.store import EntryStore

    upgrade(settings.resolved_database_url)
    return EntryEditor(store=EntryStore(session_factory(create_db_engine(settings.resolved_database_url))))


def editor_name(name: str | None) -> str:
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def refused(error: Exception) -> typer.Exit:
    errors.print(f"[red]Nothing changed:[/red] {error}")
    return typer.Exit(EXIT_REFUSED)


def record_json(record) -> dict:
    return {"entry": record.entry.model_dump(mode="json"), "state": record.state, "version": record.version,
            "published_version": record.published_version, "updated_at": record.updated_at.isoformat(),
            "updated_by": record.updated_by}


def add_entry_commands(kb_app: typer.Typer) -> None:
    """Register the life-cycle commands on the `kb` group."""
    kb_app.command("list")(list_entries)
    kb_app.command("show")(show)
    kb_app.command("publish")(publish)
    kb_app.command("retire")(retire)
    kb_app.command("revert")(revert)
    kb_app.command("export")(export)
    kb_app.command("import")(import_entries)


def list_entries(text: Annotated[str | None, typer.Option(help="In the id, question, phrasings or answer.")] = None,
                 department: Annotated[str | None, typer.Option()] = None,
                 topic: Annotated[str | None, typer.Option()] = None,
                 state: Annotated[str | None, typer.Option(help="draft, published or retired.")] = None,
                 limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
                 offset: Annotated[int, typer.Option(min=0)] = 0,
                 data_dir: DataDir = None, database_url: DatabaseUrl = None, json_output: JsonFlag = False) -> None:
    """List entries by id, with their state and version."""
    from knowledge_base.lifecycle import EntryError

    try:
        records, total = entry_editor(settings_for(data_dir, database_url)).list(
            text=text, department=department, topic=topic, state=state, limit=limit, offset=offset)
    except EntryError as error:
        errors.print(f"[red]{error}")
        raise typer.Exit(EXIT_USAGE) from None
    if json_output:
        print(json.dumps({"total": total, "items": [record_json(r) for r in records]}, ensure_ascii=False))
        return
    table = Table("id", "state", "version", "published", "department", "question", "updated",
                  title=f"{total} entries" + (f" (showing {offset + 1}-{offset + len(records)})" if records else ""))
    for r in records:
        table.add_row(r.entry.id, r.state, str(r.version), str(r.published_version or "—"), r.entry.department or "",
                      r.entry.question, f"{r.updated_at:%Y-%m-%d %H:%M} {r.updated_by}")
    console.print(table)


def show(entry_id: Annotated[str, typer.Argument()], data_dir: DataDir = None, database_url: DatabaseUrl = None,
         json_output: JsonFlag = False) -> None:
    """An entry's newest version and its history."""
    from knowledge_base.lifecycle import EntryError

    editor = entry_editor(settings_for(data_dir, database_url))
    try:
        record, history = editor.get(entry_id), editor.history(entry_id)
    except EntryError as error:
        errors.print(f"[red]{error}")
        raise typer.Exit(EXIT_REFUSED) from None
    if json_output:
        print(json.dumps({**record_json(record), "history": [
            {"version": v.version, "state": v.state, "editor": v.editor, "note": v.note,
             "created_at": v.created_at.isoformat(), "entry": v.entry.model_dump(mode="json")} for v in history]},
            ensure_ascii=False))
        return
    fields = Table(show_header=False, box=None, title=f"{entry_id}: {record.state}, version {record.version}"
                   + (f" (published: version {record.published_version})" if record.published_version else ""))
    for key, value in record.entry.model_dump().items():
        fields.add_row(key, " | ".join(value) if isinstance(value, tuple) else "—" if value is None else str(value))
    console.print(fields)
    versions = Table("version", "state", "when", "editor", "note", title="History, newest first")
    for v in history:
        versions.add_row(str(v.version), v.state, f"{v.created_at:%Y-%m-%d %H:%M:%S}", v.editor, v.note)
    console.print(versions)


def _change(action: str, entry_id: str, data_dir: Path | None, database_url: str | None, **arguments) -> None:
    from knowledge_base.lifecycle import EntryError

    editor = entry_editor(settings_for(data_dir, database_url))
    try:
        record = getattr(editor, action)(entry_id, **arguments)
    except EntryError as error:
        raise refused(error) from None
    console.print(f"{entry_id}: {record.state}, version {record.version}. A running desk on this database applies "
                  "it within seconds.")


def publish(entry_id: Annotated[str, typer.Argument()], note: Note = "", editor: EditorName = None,
            data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Publish an entry's newest version: it answers citizens from now on."""
    _change("publish", entry_id, data_dir, database_url, editor=editor_name(editor), note=note)


def retire(entry_id: Annotated[str, typer.Argument()], note: Note = "", editor: EditorName = None,
           data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Retire an entry: it no longer answers citizens; its history stays."""
    _change("retire", entry_id, data_dir, database_url, editor=editor_name(editor), note=note)


def revert(entry_id: Annotated[str, typer.Argument()], version: Annotated[int, typer.Argument(min=1)],
           note: Note = "", editor: EditorName = None, data_dir: DataDir = None,
           database_url: DatabaseUrl = None) -> None:
    """Make a new version equal to VERSION, content and state."""
    _change("revert", entry_id, data_dir, database_url, version=version, editor=editor_name(editor), note=note)


def export(file: Annotated[Path, typer.Argument(help="A .jsonl or .csv file to write.")],
           state: Annotated[str, typer.Option(help="published (what answers citizens), draft, retired or all "
                                              "(every entry's newest version).")] = "published",
           data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Write entries as JSON Lines or CSV (shared/EVAL.md); importing the file gives them back exactly."""
    from knowledge_base.exporter import format_of, write_entries
    from knowledge_base.lifecycle import EntryError

    try:
        format_of(file)
        entries = entry_editor(settings_for(data_dir, database_url)).export_entries(
            state=None if state == "all" else state)
        write_entries(file, entries)
    except (EntryError, ValueError, OSError) as error:
        errors.print(f"[red]Nothing exported:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from None
    console.print(f"Exported {len(entries)} {state} entries to {file}.")


def import_entries(file: Annotated[Path, typer.Argument(help="A .jsonl or .csv file of entries.")],
                   draft: Annotated[bool, typer.Option("--draft", help="Keep the entries as drafts "
                                                       "(default: publish them).")] = False,
                   editor: EditorName = None, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Add or update entries from a file, all or nothing (a re-import of the same file changes nothing)."""
    from desk.cli import _calibration_summary, _knowledge_base
    from knowledge_base.editor import EntryEditor
    from knowledge_base.importer import EntryFileError, read_entries
    from knowledge_base.lifecycle import EntryError

    try:
        read_entries(file)  # before loading the model: a bad file is named at once
    except EntryFileError as error:
        errors.print(f"[red]Nothing imported.[/red] {error}")
        raise typer.Exit(EXIT_REFUSED) from None
    kb = _knowledge_base(settings_for(data_dir, database_url), load_index=False)
    console.print("Importing: embedding new phrasings (unchanged ones come from the cache), then calibrating the "
                  "answer threshold…")
    try:
        report = EntryEditor(kb).import_file(file, editor=editor_name(editor) if editor else "import", draft=draft,
                                             show_progress=True)
    except (EntryFileError, EntryError) as error:
        errors.print(f"[red]Nothing imported.[/red] {error}")
        raise typer.Exit(EXIT_REFUSED) from None
    console.print(f"Imported {report.created + report.updated + report.unchanged} entries from {file} as "
                  f"{'drafts' if draft else 'published'}: {report.created} new, {report.updated} updated, "
                  f"{report.unchanged} unchanged. A running desk on this database answers from them within seconds.")
    if kb.calibration is not None:
        console.print(_calibration_summary(kb.calibration))
