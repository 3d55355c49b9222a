"""`citydesk kb suggestions`: the candidate phrasings learned from resolved questions, approved or rejected in bulk.

Listing reads the database only; approving loads the embedding model, adds the phrasings to their entries as new
versions and re-indexes them (a running desk on the same database picks them up within seconds).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

import database
from desk.cli.options import DatabaseUrl, DataDir, EditorName, JsonFlag, console, editor_name, errors, settings_for
from settings import Settings

if TYPE_CHECKING:
    from knowledge_base.candidates import Candidate
    from knowledge_base.learning import Decision, PhrasingLearner

suggestions_app = typer.Typer(help="Suggested phrasings: questions citizens, staff and editors resolved for an "
                                   "entry. Without a command: list the pending ones.",
                              invoke_without_command=True)

Ids = Annotated[list[int], typer.Argument(help="Candidate ids (see `citydesk kb suggestions`).")]
STATES = ("pending", "approved", "rejected", "all")


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {"id": candidate.id, "entry_id": candidate.entry_id, "text": candidate.text, "state": candidate.state,
            "confirmations": candidate.confirmations, "rejections": candidate.rejections,
            "sources": list(candidate.sources), "updated_at": candidate.updated_at.isoformat(),
            "decided_by": candidate.decided_by, "entry_version": candidate.entry_version}


@suggestions_app.callback()
def list_suggestions(ctx: typer.Context,
                     state: Annotated[str, typer.Option(help="pending, approved, rejected or all.")] = "pending",
                     entry: Annotated[str | None, typer.Option(help="Only this entry's candidates.")] = None,
                     limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
                     offset: Annotated[int, typer.Option(min=0)] = 0,
                     data_dir: DataDir = None, database_url: DatabaseUrl = None,
                     json_output: JsonFlag = False) -> None:
    """List candidate phrasings, most confirmed first."""
    if ctx.invoked_subcommand is not None:
        return
    from knowledge_base.candidates import CandidateState, CandidateStore

    if state not in STATES:
        errors.print(f"[red]--state is one of {', '.join(STATES)}, not {state!r}.")
        raise typer.Exit(2)
    store = CandidateStore(database.open(settings_for(data_dir, database_url)))
    candidates, total = store.page(state=None if state == "all" else CandidateState(state), entry_id=entry,
                                   limit=limit, offset=offset)
    if json_output:
        print(json.dumps({"total": total, "items": [candidate_json(c) for c in candidates]}, ensure_ascii=False))
        return
    table = Table("id", "entry", "phrasing", "state", "confirmed", "rejected", "from", "updated",
                  title=f"{total} {state if state != 'all' else ''} suggested phrasings".replace("  ", " "))
    for c in candidates:
        table.add_row(str(c.id), c.entry_id, c.text, c.state, str(c.confirmations), str(c.rejections),
                      ", ".join(c.sources), f"{c.updated_at:%Y-%m-%d %H:%M}")
    console.print(table)
    if total > offset + len(candidates):
        console.print(f"Showing {offset + 1}-{offset + len(candidates)}; --offset {offset + len(candidates)} for more.")


def learner(settings: Settings) -> PhrasingLearner:
    """The learner on the settings' database, with the knowledge base indexed (approving re-indexes entries)."""
    from knowledge_base.candidates import CandidateStore
    from knowledge_base.factory import knowledge_base_for
    from knowledge_base.learning import PhrasingLearner
    from privacy import build_redactor

    with console.status("Loading the embedding model…"):
        kb = knowledge_base_for(settings)
    return PhrasingLearner(kb, CandidateStore(database.open(settings, migrate=False)),
                           redact=build_redactor(settings).public_text,
                           auto_approve_after=settings.phrasing_auto_approve_after, recalibrate_after=1)


def report(decision: Decision, verb: str, json_output: bool) -> None:
    done = decision.approved or decision.rejected
    if json_output:
        print(json.dumps({verb: [c.id for c in done], "skipped": [{"id": i, "why": why} for i, why in
                                                                   decision.skipped]}))
        return
    for c in done:
        console.print(f"{verb.capitalize()} {c.id}: {c.text!r} for {c.entry_id}"
                      + (f" (entry version {c.entry_version})" if c.entry_version else ""))
    for candidate_id, why in decision.skipped:
        errors.print(f"[yellow]Skipped {candidate_id}: {why}")


@suggestions_app.command("approve")
def approve(ids: Ids, editor: EditorName = None,
            note: Annotated[str | None, typer.Option(help="Kept in the entries' history.")] = None,
            data_dir: DataDir = None, database_url: DatabaseUrl = None, json_output: JsonFlag = False) -> None:
    """Add the candidates' phrasings to their entries (a new published version each) and recalibrate."""
    from knowledge_base.lifecycle import EntryError

    try:
        decision = learner(settings_for(data_dir, database_url)).approve(ids, editor=editor_name(editor), note=note)
    except EntryError as error:
        errors.print(f"[red]Nothing changed:[/red] {error}")
        raise typer.Exit(1) from None
    report(decision, "approved", json_output)
    if not decision.approved:
        raise typer.Exit(1)


@suggestions_app.command("reject")
def reject(ids: Ids, editor: EditorName = None, data_dir: DataDir = None, database_url: DatabaseUrl = None,
           json_output: JsonFlag = False) -> None:
    """Reject the candidates: never added, and no longer counted by the calibration."""
    from knowledge_base.candidates import CandidateStore
    from knowledge_base.learning import reject_candidates
    from knowledge_base.lifecycle import EntryError

    store = CandidateStore(database.open(settings_for(data_dir, database_url)))
    try:
        decision = reject_candidates(store, ids, editor=editor_name(editor))
    except EntryError as error:
        errors.print(f"[red]Nothing changed:[/red] {error}")
        raise typer.Exit(1) from None
    report(decision, "rejected", json_output)
    if not decision.rejected:
        raise typer.Exit(1)
