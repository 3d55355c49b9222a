"""`citydesk transcripts`: check the hash chain, measure the redaction, redact again what an older redactor let
through, export the public disclosure, apply retention."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import database
from desk.cli.options import DatabaseUrl, DataDir, JsonFlag, console, errors, settings_for
from privacy import build_redactor
from settings import Settings

if TYPE_CHECKING:
    from disclosure.public import Disclosure, PublicConversation

transcripts_app = typer.Typer(help="Transcripts: verify the chain, redaction, disclosure exports.",
                              no_args_is_help=True)


@transcripts_app.command("verify")
def verify(data_dir: DataDir = None, database_url: DatabaseUrl = None, json_output: JsonFlag = False) -> None:
    """Check every record's hash and link; exit 1 naming the first broken record."""
    from transcripts.chain import verify as verify_chain

    result = verify_chain(database.open(settings_for(data_dir, database_url)))
    if json_output:
        print(json.dumps({"ok": result.ok, "checked": result.checked, "first_broken_id": result.first_broken_id,
                          "reason": result.reason}))
    elif result.ok:
        console.print(f"[green]The transcript is whole:[/green] {result.checked} records, every hash and link "
                      "matches.")
    else:
        errors.print(f"[red]The transcript is broken at record {result.first_broken_id}:[/red] {result.reason}. "
                     f"{result.checked} records before it are whole.")
    if not result.ok:
        raise typer.Exit(1)


@transcripts_app.command("redaction-eval")
def redaction_eval(
    corpus: Annotated[Path | None, typer.Option(help="Labelled messages, JSON Lines: id, text, spans "
                                                "(default: the project's corpus).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Precision and recall of the redaction of personal data, per kind, on a labelled corpus."""
    from rich.table import Table

    from privacy.evaluation import DEFAULT_CORPUS, CorpusError, evaluate, load_corpus

    path = corpus or DEFAULT_CORPUS
    try:
        messages = load_corpus(path)
    except (OSError, CorpusError) as exc:
        errors.print(f"[red]Cannot read the corpus:[/red] {exc}")
        raise typer.Exit(2) from exc
    report = evaluate(messages, build_redactor(settings_for()))  # no --data-dir: it touches no local state
    if json_output:
        print(report.to_json())
        return
    table = Table(title=f"Redaction on {report.messages} messages ({path.name})")
    for column in ("kind", "gold", "found", "recall", "redacted", "right", "precision", "leaked chars"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for score in [*report.kinds.values(), report.overall]:
        table.add_row(score.kind, str(score.gold), str(score.found), _share(score.recall), str(score.predicted),
                      str(score.correct), _share(score.precision), f"{score.leaked_chars}/{score.gold_chars}")
    console.print(table)
    for error in report.errors:
        label = "missed" if error.what == "missed" else "false alarm"
        console.print(f"  {label:<11} {error.kind:<11} {error.message_id}: {error.text!r}", highlight=False)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@transcripts_app.command("redact-again")
def redact_again(
    by: Annotated[str, typer.Option("--by", help="Who runs it (a supervisor's user name), for the redaction log.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be hidden; change nothing.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    json_output: JsonFlag = False,
) -> None:
    """Hide what today's redactor finds in the public text of records written by an older one.

    A record's public text is redacted when it is written and is part of the hash chain, so an improved redactor
    (names without a cue, account numbers) does not change records already written. This runs it over every
    record's public view and hides each new finding as a manual redaction, logged with its kind, which the
    disclosure page, its search and its exports all apply. Records a supervisor un-redacted are listed, not changed.
    """
    from sqlalchemy import select

    from disclosure.staff_review import RedactionRefused, TranscriptDesk
    from handoff.models import Role
    from handoff.service import Actor
    from transcripts.log_models import UNREDACT, RedactionLogRow
    from transcripts.models import TranscriptRecord
    from transcripts.public_view import stored_public_view

    settings = settings_for(data_dir, database_url)
    sessions = database.open(settings)
    redactor = build_redactor(settings)
    found: list[tuple[int, str, str]] = []
    skipped: list[int] = []
    with sessions() as session:
        logs: dict[int, list[RedactionLogRow]] = {}
        for row in session.scalars(select(RedactionLogRow).order_by(RedactionLogRow.id)):
            logs.setdefault(row.record_id, []).append(row)
        records = session.execute(select(TranscriptRecord.id, TranscriptRecord.public_text)
                                  .order_by(TranscriptRecord.id)).all()
    for record_id, public_text in records:
        log = logs.get(record_id, [])
        if any(row.action == UNREDACT for row in log):
            skipped.append(record_id)
            continue
        view = stored_public_view(public_text or "", log)
        pieces = dict.fromkeys((f.kind, view[f.start:f.end]) for f in redactor.find(view))
        found += [(record_id, kind, piece) for kind, piece in pieces]
    hidden = 0
    if not dry_run:
        desk = TranscriptDesk(sessions, redactor=redactor)
        actor = Actor(by, role=Role.SUPERVISOR)
        for record_id, kind, piece in found:
            try:
                desk.redact(actor, record_id=record_id, text=piece,
                            reason=f"redact-again: a {kind} found by today's redactor")
                hidden += 1
            except RedactionRefused:
                pass  # hidden already with another piece of the same record
    if json_output:
        print(json.dumps({"dry_run": dry_run, "records": len(records), "found": len(found), "hidden": hidden,
                          "records_with_findings": len({r for r, _, _ in found}), "skipped_unredacted": skipped,
                          "kinds": {k: sum(1 for _, kind, _ in found if kind == k) for k in
                                    sorted({kind for _, kind, _ in found})}}))
        return
    kinds = ", ".join(f"{sum(1 for _, kind, _ in found if kind == k)} {k}" for k in sorted({k for _, k, _ in found}))
    verb = "Would hide" if dry_run else "Hid"
    console.print(f"{verb} {len(found) if dry_run else hidden} pieces of personal data in "
                  f"{len({r for r, _, _ in found})} of {len(records):,} records{f' ({kinds})' if kinds else ''}.",
                  highlight=False)
    if skipped:
        console.print(f"Not changed, a supervisor un-redacted part of them: records {', '.join(map(str, skipped))}.",
                      highlight=False)


def _disclosure(settings: Settings) -> Disclosure:
    from disclosure.public import build_disclosure
    from handoff.city_directory import stored_departments
    from handoff.directory import load_directory

    sessions = database.open(settings)
    return build_disclosure(settings, sessions, stored_departments(load_directory(settings.directory_file), sessions),
                            build_redactor(settings))


@transcripts_app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="File to write (replaced only when the export is complete).")],
    export_format: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    q: Annotated[str | None, typer.Option(help="Text in the public messages.")] = None,
    department: Annotated[str | None, typer.Option(help="Department code.")] = None,
    topic: Annotated[str | None, typer.Option(help="A case's category or an answering entry's topic.")] = None,
    status: Annotated[str | None, typer.Option(help="answered_automatically, case_open, case_answered or "
                                                    "closed.")] = None,
    date_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD (UTC).")] = None,
    date_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD (UTC), inclusive.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """The public disclosure as CSV or JSON: what /api/disclosure serves, with the same filters."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from desk.api.disclosure import export_meta
    from disclosure.export import FORMATS, csv_chunks, json_chunks
    from disclosure.public import DisclosureError, make_filter

    if export_format not in FORMATS:
        errors.print(f"[red]Unknown format {export_format!r}; one of: {', '.join(FORMATS)}.")
        raise typer.Exit(2)
    try:
        filters = make_filter(q=q, department=department, topic=topic, status=status, date_from=date_from,
                              date_to=date_to)
    except DisclosureError as error:
        errors.print(f"[red]{error}.")
        raise typer.Exit(2) from None
    disclosure = _disclosure(settings_for(data_dir, database_url))
    chosen = disclosure.summaries(filters)
    draft = out.with_name(f".{out.name}.partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=errors) as progress:
        task = progress.add_task("Exporting conversations", total=len(chosen))

        def counted() -> Iterator[PublicConversation]:
            for conversation in disclosure.stream(chosen=chosen):
                yield conversation
                progress.advance(task)

        chunks = (csv_chunks(counted()) if export_format == "csv"
                  else json_chunks(counted(), export_meta(disclosure, filters)))
        try:
            with draft.open("w", encoding="utf-8", newline="") as file:
                for chunk in chunks:
                    file.write(chunk)
            draft.replace(out)
        finally:
            draft.unlink(missing_ok=True)
    console.print(f"Exported {len(chosen):,} conversations to {out}.")


@transcripts_app.command("apply-retention")
def apply_retention_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be removed; change nothing.")] = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    json_output: JsonFlag = False,
) -> None:
    """Remove citizens' text older than CITYDESK_ORIGINALS_RETENTION_DAYS from every table that keeps it; log it.

    Transcript originals, closed cases' contact data and text, delivered replies, decisions, inbound messages and
    the assistant's own (Rasa) conversation events; open cases and undelivered replies keep theirs.
    """
    from datetime import UTC, datetime

    from disclosure.retention import apply_retention

    settings = settings_for(data_dir, database_url)
    report = apply_retention(database.open(settings), retention_days=settings.originals_retention_days,
                             now=datetime.now(UTC), dry_run=dry_run)
    if json_output:
        print(json.dumps({"dry_run": dry_run, "run_id": report.run_id, "cutoff": report.cutoff.isoformat(),
                          "originals_removed": report.originals_removed, "first_record_id": report.first_record_id,
                          "last_record_id": report.last_record_id, "cases_cleared": report.cases_cleared,
                          "case_events_cleared": report.case_events_cleared, "outbox_cleared": report.outbox_cleared,
                          "decisions_cleared": report.decisions_cleared, "inbound_cleared": report.inbound_cleared,
                          "tracker_events_removed": report.tracker_events_removed}))
        return
    verb = "Would remove" if dry_run else "Removed"
    span = (f" (records {report.first_record_id} to {report.last_record_id})" if report.originals_removed else "")
    console.print(f"{verb} citizens' text older than {settings.originals_retention_days} days "
                  f"(before {report.cutoff:%Y-%m-%d %H:%M} UTC):")
    for label, count in ((f"transcript originals{span}", report.originals_removed),
                         ("closed cases: contact data, description, notes, address", report.cases_cleared),
                         ("case history entries", report.case_events_cleared),
                         ("delivered or abandoned replies (outbox)", report.outbox_cleared),
                         ("message decisions", report.decisions_cleared),
                         ("inbound messages", report.inbound_cleared),
                         ("the assistant's conversation events (Rasa tracker store)", report.tracker_events_removed)):
        console.print(f"  {count:>9,}  {label}", highlight=False)
    console.print("Nothing was changed." if dry_run
                  else f"Logged as retention run {report.run_id}; the public records are unchanged.")
