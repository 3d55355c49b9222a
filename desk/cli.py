"""`citydesk`: run the whole assistant, manage and measure the knowledge base, train the bot."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from desk.settings import DEMO_KB_FILE, Settings

app = typer.Typer(help="CityDesk: the city's social-media desk.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: import, search, evaluate.", no_args_is_help=True)
bot_app = typer.Typer(help="The Rasa assistant.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
app.add_typer(bot_app, name="bot")

console = Console()
errors = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on the last line.")]


def _knowledge_base(settings: Settings, *, load_index: bool):
    from knowledge_base.factory import build_knowledge_base

    with console.status("Loading the embedding model…"):
        return build_knowledge_base(database_url=settings.resolved_database_url,
                                    model_name=settings.embedding_model, threshold=settings.answer_threshold,
                                    load_index=load_index)


@app.command()
def serve(
    kb: Annotated[Path | None, typer.Option(help="Entries to load when the knowledge base is empty "
                                            "(default: the demo knowledge base).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Folder for the database and logs.")] = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    desk_port: Annotated[int | None, typer.Option()] = None,
    rasa_port: Annotated[int | None, typer.Option()] = None,
    action_port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Start the desk, the action server and the Rasa server; stop them all with Ctrl+C."""
    from desk.bot_model import ensure_trained
    from desk.stack import Stack, StackError

    overrides = {"data_dir": data_dir, "host": host, "desk_port": desk_port, "rasa_port": rasa_port,
                 "action_port": action_port}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    settings.seed_kb_file = kb or settings.seed_kb_file or DEMO_KB_FILE
    if not settings.seed_kb_file.is_file():
        errors.print(f"[red]No such knowledge base file: {settings.seed_kb_file}")
        raise typer.Exit(2)
    _, trained = ensure_trained(settings)
    if trained:
        console.print("Trained a new Rasa model (the training data changed).")
    stack = Stack(settings)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with console.status("Starting the desk, the action server and Rasa (about a minute)…"):
            stack.start()
        _print_addresses(settings)
        exited = stack.wait()
        errors.print(f"[red]{exited} stopped; stopping the others. Its log: "
                     f"{settings.data_dir / 'logs' / (exited + '.log')}")
        raise typer.Exit(1)
    except StackError as error:
        errors.print(f"[red]Could not start CityDesk:[/red] {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("Stopping…")
    finally:
        stack.stop()


def _stop_on_sigterm(*_: object) -> None:
    """`kill` stops the stack as cleanly as Ctrl+C does."""
    raise KeyboardInterrupt


def _print_addresses(settings: Settings) -> None:
    table = Table(title=f"CityDesk is running for {settings.city_name}", show_header=False, box=None)
    table.add_row("Web chat", f"{settings.desk_url}/")
    table.add_row("Desk API (OpenAPI)", f"{settings.desk_url}/docs")
    table.add_row("Rasa REST channel", f"{settings.rasa_url}/webhooks/rest/webhook")
    table.add_row("Action server", f"http://{settings.host}:{settings.action_port}/health")
    table.add_row("Data and logs", f"{settings.data_dir}  (logs in {settings.data_dir / 'logs'})")
    console.print(table)
    console.print("Press Ctrl+C to stop.")


@kb_app.command("import")
def import_entries(file: Annotated[Path, typer.Argument(help="A .jsonl or .csv file of entries.")]) -> None:
    """Add or update entries from a file, all or nothing (a re-import of the same file changes nothing)."""
    from knowledge_base.importer import EntryFileError, read_entries

    try:
        entries = read_entries(file)
    except EntryFileError as error:
        errors.print(f"[red]Nothing imported.[/red] {error}")
        raise typer.Exit(1) from None
    kb = _knowledge_base(Settings(), load_index=False)
    report = kb.import_entries(entries, show_progress=True)
    console.print(f"Imported {len(entries)} entries from {file}: {report.created} new, "
                  f"{report.updated} updated, {report.unchanged} unchanged. "
                  "A running desk answers from them after a restart.")


@kb_app.command()
def search(text: Annotated[str, typer.Argument(help="A citizen's question.")],
           top_k: Annotated[int, typer.Option(min=1, max=50)] = 5,
           json_output: JsonFlag = False) -> None:
    """Show the best entries for a question and whether the assistant would answer it."""
    decision = _knowledge_base(Settings(), load_index=True).answer(text, top_k=top_k)
    if json_output:
        print(json.dumps({"answer": decision.entry.id if decision.entry else None,
                          "threshold": decision.threshold,
                          "results": [{"id": h.entry.id, "confidence": round(h.confidence, 4),
                                       "question": h.entry.question, "department": h.entry.department}
                                      for h in decision.results]}))
        return
    table = Table("rank", "id", "confidence", "department", "question")
    for rank, hit in enumerate(decision.results, start=1):
        table.add_row(str(rank), hit.entry.id, f"{hit.confidence:.3f}", hit.entry.department or "",
                      hit.entry.question)
    console.print(table)
    verdict = (f"Would answer with {decision.entry.id}" if decision.entry
               else "Would not answer automatically (hand off)")
    console.print(f"{verdict}: threshold {decision.threshold}.")


@kb_app.command("eval")
def evaluate(kb: Annotated[Path, typer.Option(help="Knowledge base file (.jsonl or .csv).")],
             questions: Annotated[Path, typer.Option(help="Question file (.jsonl).")],
             json_output: JsonFlag = False) -> None:
    """Measure a knowledge base on real questions, in a fresh temporary store (shared/EVAL.md)."""
    from knowledge_base.evaluation import evaluate_files, read_questions
    from knowledge_base.importer import EntryFileError

    settings = Settings()
    try:
        total = len(read_questions(questions))
        # No refresh thread: it would compete with the timed questions and distort the latency figures.
        with Progress(console=errors, transient=True, auto_refresh=False) as progress:
            task = progress.add_task("Answering questions", total=total)

            def advance() -> None:
                progress.advance(task)
                if progress.tasks[0].completed % 50 == 0:
                    progress.refresh()

            report = evaluate_files(kb_path=kb, questions_path=questions, model_name=settings.embedding_model,
                                    threshold=settings.answer_threshold, show_progress=True,
                                    on_progress=advance)
    except (EntryFileError, ValueError, OSError) as error:
        errors.print(f"[red]Cannot evaluate:[/red] {error}")
        raise typer.Exit(2) from None
    table = Table("figure", "value", title=f"{kb.name} against {questions.name}")
    for key, value in report.items():
        table.add_row(key, "—" if value is None else str(value))
    console.print(table)
    if json_output:
        print(json.dumps(report))


@bot_app.command()
def train(force: Annotated[bool, typer.Option(help="Train even if the data did not change.")] = False) -> None:
    """Train the Rasa model if its training data changed since the last training."""
    from desk.bot_model import ensure_trained

    path, trained = ensure_trained(Settings(), force=force)
    console.print(f"{'Trained' if trained else 'Up to date'}: {path}")
