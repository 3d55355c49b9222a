"""`citydesk kb`: the entry life cycle (list, show, publish, retire, revert, export, import), calibration, search
and evaluation of the knowledge base.

The life-cycle commands write the database only (no embedding model is loaded, except by import, which embeds and
calibrates); a running desk on the same database picks the changes up within seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

import database
from desk.cli.options import DatabaseUrl, DataDir, EditorName, JsonFlag, console, editor_name, errors, settings_for
from desk.cli.suggestions import suggestions_app
from settings import Settings

if TYPE_CHECKING:  # the commands import the knowledge base when they run: `citydesk --help` stays quick
    from knowledge_base.calibration import Calibration
    from knowledge_base.editor import EntryEditor
    from knowledge_base.lifecycle import EntryRecord
    from knowledge_base.service import KnowledgeBase

kb_app = typer.Typer(help="Knowledge base: import, search, evaluate.", no_args_is_help=True)
kb_app.add_typer(suggestions_app, name="suggestions")

Note = Annotated[str, typer.Option(help="Why: kept in the entry's history.")]

EXIT_REFUSED = 1  # a change the knowledge base refused, or a bad file: nothing changed
EXIT_USAGE = 2


def entry_editor(settings: Settings) -> EntryEditor:
    """An EntryEditor on the settings' database, without the embedding model."""
    from knowledge_base.editor import EntryEditor
    from knowledge_base.store import EntryStore

    return EntryEditor(store=EntryStore(database.open(settings)))


def knowledge_base(settings: Settings, *, load_index: bool) -> KnowledgeBase:
    """The knowledge base on the settings' database, with the embedding model (and its index, if asked)."""
    from knowledge_base.factory import knowledge_base_for

    with console.status("Loading the embedding model…"):
        return knowledge_base_for(settings, load_index=load_index)


def refused(error: Exception) -> typer.Exit:
    errors.print(f"[red]Nothing changed:[/red] {error}")
    return typer.Exit(EXIT_REFUSED)


def record_json(record: EntryRecord) -> dict[str, Any]:
    return {"entry": record.entry.model_dump(mode="json"), "state": record.state, "version": record.version,
            "published_version": record.published_version, "updated_at": record.updated_at.isoformat(),
            "updated_by": record.updated_by}


@kb_app.command("list")
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


@kb_app.command("show")
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


def _change(action: str, entry_id: str, data_dir: Path | None, database_url: str | None,
            **arguments: str | int) -> None:
    from knowledge_base.lifecycle import EntryError

    editor = entry_editor(settings_for(data_dir, database_url))
    try:
        record = getattr(editor, action)(entry_id, **arguments)
    except EntryError as error:
        raise refused(error) from None
    console.print(f"{entry_id}: {record.state}, version {record.version}. A running desk on this database applies "
                  "it within seconds.")


@kb_app.command("publish")
def publish(entry_id: Annotated[str, typer.Argument()], note: Note = "", editor: EditorName = None,
            data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Publish an entry's newest version: it answers citizens from now on."""
    _change("publish", entry_id, data_dir, database_url, editor=editor_name(editor), note=note)


@kb_app.command("retire")
def retire(entry_id: Annotated[str, typer.Argument()], note: Note = "", editor: EditorName = None,
           data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Retire an entry: it no longer answers citizens; its history stays."""
    _change("retire", entry_id, data_dir, database_url, editor=editor_name(editor), note=note)


@kb_app.command("revert")
def revert(entry_id: Annotated[str, typer.Argument()], version: Annotated[int, typer.Argument(min=1)],
           note: Note = "", editor: EditorName = None, data_dir: DataDir = None,
           database_url: DatabaseUrl = None) -> None:
    """Make a new version equal to VERSION, content and state."""
    _change("revert", entry_id, data_dir, database_url, version=version, editor=editor_name(editor), note=note)


@kb_app.command("export")
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


@kb_app.command("import")
def import_entries(file: Annotated[Path, typer.Argument(help="A .jsonl or .csv file of entries.")],
                   draft: Annotated[bool, typer.Option("--draft", help="Keep the entries as drafts "
                                                       "(default: publish them).")] = False,
                   editor: EditorName = None, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Add or update entries from a file, all or nothing (a re-import of the same file changes nothing)."""
    from knowledge_base.editor import EntryEditor
    from knowledge_base.importer import EntryFileError, read_entries
    from knowledge_base.lifecycle import EntryError

    try:
        read_entries(file)  # before loading the model: a bad file is named at once
    except EntryFileError as error:
        errors.print(f"[red]Nothing imported.[/red] {error}")
        raise typer.Exit(EXIT_REFUSED) from None
    kb = knowledge_base(settings_for(data_dir, database_url), load_index=False)
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
        console.print(calibration_summary(kb.calibration))


@kb_app.command("calibrate")
def calibrate(target: Annotated[float | None, typer.Option(
                  min=0.5, max=0.999, help="Precision to calibrate for (default: the target_precision setting).")
              ] = None,
              data_dir: DataDir = None, database_url: DatabaseUrl = None, json_output: JsonFlag = False) -> None:
    """Pick the answer threshold for a target precision from the knowledge base itself, and store it."""
    settings = settings_for(data_dir, database_url)
    if target is not None:
        settings.target_precision = target
    kb = knowledge_base(settings, load_index=True)
    if kb.backend.count() == 0:
        errors.print("[red]The knowledge base is empty:[/red] import entries first (citydesk kb import FILE).")
        raise typer.Exit(1)
    with console.status("Calibrating: held-out phrasings, held-out entries and unanswerable questions…"):
        result = kb.calibrate()
    table = Table("figure", "value", title="Answer threshold calibrated on the knowledge base")
    for key, value in result.figures().items():
        table.add_row(key, "—" if value is None else str(value))
    console.print(table)
    console.print(calibration_summary(result))
    if settings.answer_threshold is not None:
        console.print(f"[yellow]CITYDESK_ANSWER_THRESHOLD={settings.answer_threshold} is set: it overrides the "
                      "calibrated threshold until it is unset.")
    if json_output:
        print(json.dumps(result.figures()))


def calibration_summary(result: Calibration) -> str:
    if result.expected_precision is None:
        summary = f"Answer threshold {result.threshold:.4g} ({result.method}): nothing is answered directly."
    else:
        summary = (f"Answer threshold {result.threshold:.4g}: expected precision {result.expected_precision:.1%} "
                   f"(target {result.target_precision:.0%}), expected auto-answer rate "
                   f"{result.expected_auto_answer_rate:.1%} with {result.unanswerable_share:.0%} of questions "
                   "unanswerable.")
    if result.expected_confirm_precision is not None and result.expected_confirm_rate is not None:
        summary += (f" Confirm threshold {result.confirm_threshold:.4g}: answers with \"Did this answer your "
                    f"question?\" expected right {result.expected_confirm_precision:.1%} of the time (at least "
                    f"{result.confirm_precision:.0%}), for {result.expected_confirm_rate:.1%} of questions.")
    return summary


@kb_app.command("search")
def search(text: Annotated[str, typer.Argument(help="A citizen's question.")],
           top_k: Annotated[int, typer.Option(min=1, max=50)] = 5,
           data_dir: DataDir = None, database_url: DatabaseUrl = None, json_output: JsonFlag = False) -> None:
    """Show the best entries for a question and whether the assistant would answer it."""
    decision = knowledge_base(settings_for(data_dir, database_url), load_index=True).answer(text, top_k=top_k)
    if json_output:
        print(json.dumps({"answer": decision.entry.id if decision.entry else None,
                          "threshold": decision.threshold, "options": [h.entry.id for h in decision.options],
                          "results": [{"id": h.entry.id, "confidence": round(h.confidence, 4),
                                       "question": h.entry.question, "department": h.entry.department}
                                      for h in decision.results]}))
        return
    table = Table("rank", "id", "confidence", "department", "question")
    for rank, hit in enumerate(decision.results, start=1):
        table.add_row(str(rank), hit.entry.id, f"{hit.confidence:.3f}", hit.entry.department or "",
                      hit.entry.question)
    console.print(table)
    options = ", ".join(h.entry.id for h in decision.options)
    verdict = (f"Would answer with {decision.entry.id}" if decision.entry
               else f"Would ask which one the citizen means ({options})" if options
               else "Would not answer automatically (hand off)")
    console.print(f"{verdict}: threshold {decision.threshold}.")


@kb_app.command("eval")
def evaluate(kb: Annotated[Path, typer.Option(help="Knowledge base file (.jsonl or .csv).")],
             questions: Annotated[Path, typer.Option(help="Question file (.jsonl).")],
             details: Annotated[Path | None, typer.Option(
                 help="Also write one JSON line per question (confidence, best entry, right or not).")] = None,
             json_output: JsonFlag = False) -> None:
    """Measure a knowledge base on real questions, in a fresh temporary store (shared/EVAL.md).

    The threshold is the one calibrated on the knowledge base, as in the running desk, unless
    CITYDESK_ANSWER_THRESHOLD is set.
    """
    from knowledge_base.evaluation import evaluate_files, read_questions
    from knowledge_base.importer import EntryFileError

    settings = settings_for()  # no --data-dir: it touches no local state
    try:
        total = len(read_questions(questions))
        # No refresh thread: it would compete with the timed questions and distort the latency figures.
        with Progress(console=errors, transient=True, auto_refresh=False) as progress:
            task = progress.add_task("Answering questions", total=total)

            def advance() -> None:
                progress.advance(task)
                if progress.tasks[0].completed % 50 == 0:
                    progress.refresh()

            records: list[dict] = []
            report = evaluate_files(kb_path=kb, questions_path=questions, model_name=settings.embedding_model,
                                    threshold=settings.answer_threshold,
                                    target_precision=settings.target_precision,
                                    unanswerable_share=settings.unanswerable_share,
                                    confirm_threshold=settings.confirm_threshold,
                                    confirm_precision=settings.confirm_precision, show_progress=True,
                                    on_progress=advance, details=records)
        if details is not None:
            details.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    except (EntryFileError, ValueError, OSError) as error:
        errors.print(f"[red]Cannot evaluate:[/red] {error}")
        raise typer.Exit(2) from None
    table = Table("figure", "value", title=f"{kb.name} against {questions.name}")
    for key, value in report.items():
        if key != "calibration" and not isinstance(value, dict):
            table.add_row(key, "—" if value is None else str(value))
    console.print(table)
    if "calibration" in report:
        calibration = report["calibration"]
        console.print(f"Calibrated on the knowledge base ({calibration['method']}): direct answers expected "
                      f"precision {calibration['expected_precision']}, rate "
                      f"{calibration['expected_auto_answer_rate']}; answers with \"Did this answer your question?\" "
                      f"expected precision {calibration.get('expected_confirm_precision')}, rate "
                      f"{calibration.get('expected_confirm_rate')}.")
    if json_output:
        print(json.dumps(report))


@kb_app.command("replay")
def replay(kb: Annotated[Path, typer.Option(help="Knowledge base file (.jsonl or .csv).")],
           stream: Annotated[Path, typer.Option(help="Question file (.jsonl), played in order as citizens.")],
           shuffle: Annotated[int | None, typer.Option(help="Shuffle the stream with this seed first.")] = None,
           block: Annotated[int, typer.Option(min=1, help="Questions per block of the learning curve.")] = 500,
           noise: Annotated[float, typer.Option(min=0.0, max=1.0, help="Share of the citizens' feedback that is "
                                                "wrong on purpose.")] = 0.0,
           recalibrate_after: Annotated[int, typer.Option(min=0, help="Recalibrate after this many approved "
                                                          "phrasings (0: never).")] = 50,
           json_output: JsonFlag = False) -> None:
    """Play a stream of questions against a fresh store that learns from each outcome (shared/EVAL.md)."""
    from knowledge_base.importer import EntryFileError
    from knowledge_base.replay import replay as play
    from privacy import build_redactor

    settings = settings_for()
    try:
        with Progress(console=errors, transient=True, auto_refresh=False) as progress:
            task = progress.add_task("Replaying the stream", total=None)

            def advance(done: int) -> None:
                progress.update(task, completed=done)
                if done % 50 == 0:
                    progress.refresh()

            def played(figures: dict[str, Any]) -> None:
                errors.print(f"questions {figures['first']}-{figures['last']}: " + ", ".join(
                    f"{key} {figures[key]}" for key in ("auto_answer_rate", "auto_answer_precision",
                                                         "confirm_answer_rate", "confirm_answer_precision",
                                                         "handled_without_staff_rate"))
                             + f", approved phrasings {figures['learning']['approved_phrasings']}")

            report = play(kb_path=kb, stream_path=stream, model_name=settings.embedding_model, shuffle=shuffle,
                          block=block, noise=noise, target_precision=settings.target_precision,
                          unanswerable_share=settings.unanswerable_share,
                          confirm_precision=settings.confirm_precision,
                          auto_approve_after=settings.phrasing_auto_approve_after, recalibrate_after=recalibrate_after,
                          on_progress=advance, on_block=played, redact=build_redactor(settings).public_text)
    except (EntryFileError, ValueError, OSError) as error:
        errors.print(f"[red]Cannot replay:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from None
    keys = ("auto_answer_rate", "auto_answer_precision", "confirm_answer_rate", "confirm_answer_precision",
            "handled_without_staff_rate", "handoff_recall", "threshold", "confirm_threshold")
    table = Table("questions", *keys, "approved phrasings", "wrongly approved",
                  title=f"{stream.name} played against {kb.name}")
    for row in [*report["blocks"], report["last_block"] | {"label": "last block"}]:
        table.add_row(row.get("label", f"{row['first']}-{row['last']}"),
                      *("—" if row[k] is None else f"{row[k]:.4g}" for k in keys),
                      str(row["learning"]["approved_phrasings"]), str(row["learning"]["wrongly_approved"]))
    console.print(table)
    if json_output:
        print(json.dumps(report))
