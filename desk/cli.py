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

from desk.kb_cli import add_entry_commands
from desk.staff_cli import ensure_demo_accounts, print_demo_accounts, staff_app
from desk.transcripts_cli import transcripts_app
from settings import DEMO_KB_FILE, Settings

app = typer.Typer(help="CityDesk: the city's social-media desk.", no_args_is_help=True)
kb_app = typer.Typer(help="Knowledge base: import, search, evaluate.", no_args_is_help=True)
bot_app = typer.Typer(help="The Rasa assistant.", no_args_is_help=True)
app.add_typer(kb_app, name="kb")
add_entry_commands(kb_app)
app.add_typer(bot_app, name="bot")
app.add_typer(staff_app, name="staff")
connector_app = typer.Typer(help="Channel connectors: one process per channel.", no_args_is_help=True)
app.add_typer(connector_app, name="connector")
app.add_typer(transcripts_app, name="transcripts")

console = Console()
errors = Console(stderr=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON object on the last line.")]


def _knowledge_base(settings: Settings, *, load_index: bool):
    from knowledge_base.factory import build_knowledge_base

    with console.status("Loading the embedding model…"):
        return build_knowledge_base(database_url=settings.resolved_database_url,
                                    model_name=settings.embedding_model, threshold=settings.answer_threshold,
                                    target_precision=settings.target_precision,
                                    unanswerable_share=settings.unanswerable_share, load_index=load_index,
                                    **settings.elasticsearch_options)


@app.command()
def serve(
    kb: Annotated[Path | None, typer.Option(help="Entries to load when the knowledge base is empty "
                                            "(default: the demo knowledge base).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Folder for the database and logs; given, it is a "
                                                  "separate desk with its own SQLite database, even if "
                                                  "DATABASE_URL is set.")] = None,
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
    if data_dir is not None:  # e.g. for `citydesk bot eval`: its cases must never land in the live database
        settings.database_url = None
    settings.seed_kb_file = kb or settings.seed_kb_file or DEMO_KB_FILE
    if not settings.seed_kb_file.is_file():
        errors.print(f"[red]No such knowledge base file: {settings.seed_kb_file}")
        raise typer.Exit(2)
    _, trained = ensure_trained(settings)
    if trained:
        console.print("Trained a new Rasa model (the training data changed).")
    demo_accounts = ensure_demo_accounts(settings)  # only on a desk with no staff account yet
    stack = Stack(settings)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        with console.status("Starting the desk, the action server and Rasa (about a minute)…"):
            stack.start()
        if demo_accounts:
            print_demo_accounts(demo_accounts, settings)
        _print_addresses(settings)
        _print_connectors(stack)
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


def _print_connectors(stack) -> None:
    for process in stack.processes:
        if process.ready_url is None:
            console.print(f"Connector {process.name}: running (log {process.log_path})")
    for name, reason in stack.skipped.items():
        console.print(f"Connector {name}: skipped, {reason}")


@connector_app.command("telegram")
def connector_telegram() -> None:
    """Run the Telegram connector (long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set)."""
    import logging

    from connectors.telegram.bot import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        run(Settings())
    except ValueError as error:
        errors.print(f"[red]{error}")
        raise typer.Exit(2) from None


@connector_app.command("x")
def connector_x() -> None:
    """Run the X/Twitter connector: poll mentions and direct messages, answer in threads or by DM."""
    import asyncio
    import logging

    from connectors.x.app import run_x_connector

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        asyncio.run(run_x_connector(Settings()))
    except ValueError as error:
        errors.print(f"[red]{error}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


@connector_app.command("failed")
def connector_failed(retry: Annotated[int | None, typer.Option(help="Send this failed message again.")] = None,
                     json_output: JsonFlag = False) -> None:
    """Outbox messages the connectors gave up on (after too many failed attempts), or retry one."""
    import database
    from connectors.outbox import RequeueRefused, failed_messages, requeue

    settings = Settings()
    database.upgrade(settings.resolved_database_url)
    sessions = database.session_factory(database.create_db_engine(settings.resolved_database_url))
    if retry is not None:
        try:
            message = requeue(sessions, retry)
        except (LookupError, RequeueRefused) as error:
            errors.print(str(error), style="red", markup=False)  # the retention marker is in [brackets]
            raise typer.Exit(1) from None
        console.print(f"Message {message.id} to {message.conversation_id} queued again.")
        return
    failed = failed_messages(sessions)
    table = Table("id", "channel", "conversation", "attempts", "last error", "text")
    for message in failed:
        table.add_row(str(message.id), message.channel, message.conversation_id, str(message.attempts),
                      message.last_error or "", message.text[:60])
    console.print(table if failed else "No failed messages.")
    if json_output:
        print(json.dumps([{"id": m.id, "channel": m.channel, "conversation_id": m.conversation_id,
                           "attempts": m.attempts, "last_error": m.last_error, "text": m.text} for m in failed]))


def _stop_on_sigterm(*_: object) -> None:
    """`kill` stops the stack as cleanly as Ctrl+C does."""
    raise KeyboardInterrupt


def _print_addresses(settings: Settings) -> None:
    table = Table(title=f"CityDesk is running for {settings.city_name}", show_header=False, box=None)
    table.add_row("Web chat", f"{settings.desk_url}/")
    table.add_row("Staff inbox", f"{settings.desk_url}/inbox")
    table.add_row("Knowledge base editor", f"{settings.desk_url}/editor")
    table.add_row("Public disclosure", f"{settings.desk_url}/disclosure")
    table.add_row("Desk API (OpenAPI)", f"{settings.desk_url}/docs")
    table.add_row("Rasa REST channel", f"{settings.rasa_url}/webhooks/rest/webhook")
    table.add_row("Action server", f"http://{settings.host}:{settings.action_port}/health")
    table.add_row("Data and logs", f"{settings.data_dir}  (logs in {settings.data_dir / 'logs'})")
    console.print(table)
    console.print("Press Ctrl+C to stop.")


@kb_app.command()
def calibrate(target: Annotated[float | None, typer.Option(
                  min=0.5, max=0.999, help="Precision to calibrate for (default: the target_precision setting).")
              ] = None,
              json_output: JsonFlag = False) -> None:
    """Pick the answer threshold for a target precision from the knowledge base itself, and store it."""
    settings = Settings()
    if target is not None:
        settings.target_precision = target
    kb = _knowledge_base(settings, load_index=True)
    if kb.backend.count() == 0:
        errors.print("[red]The knowledge base is empty:[/red] import entries first (citydesk kb import FILE).")
        raise typer.Exit(1)
    with console.status("Calibrating: held-out phrasings, held-out entries and unanswerable questions…"):
        result = kb.calibrate()
    table = Table("figure", "value", title="Answer threshold calibrated on the knowledge base")
    for key, value in result.figures().items():
        table.add_row(key, "—" if value is None else str(value))
    console.print(table)
    console.print(_calibration_summary(result))
    if settings.answer_threshold is not None:
        console.print(f"[yellow]CITYDESK_ANSWER_THRESHOLD={settings.answer_threshold} is set: it overrides the "
                      "calibrated threshold until it is unset.")
    if json_output:
        print(json.dumps(result.figures()))


def _calibration_summary(result) -> str:
    if result.expected_precision is None:
        return f"Answer threshold {result.threshold} ({result.method})."
    return (f"Answer threshold {result.threshold}: expected precision {result.expected_precision:.1%} "
            f"(target {result.target_precision:.0%}), expected auto-answer rate "
            f"{result.expected_auto_answer_rate:.1%} with {result.unanswerable_share:.0%} of questions "
            "unanswerable.")


@kb_app.command()
def search(text: Annotated[str, typer.Argument(help="A citizen's question.")],
           top_k: Annotated[int, typer.Option(min=1, max=50)] = 5,
           json_output: JsonFlag = False) -> None:
    """Show the best entries for a question and whether the assistant would answer it."""
    decision = _knowledge_base(Settings(), load_index=True).answer(text, top_k=top_k)
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

            records: list[dict] = []
            report = evaluate_files(kb_path=kb, questions_path=questions, model_name=settings.embedding_model,
                                    threshold=settings.answer_threshold,
                                    target_precision=settings.target_precision,
                                    unanswerable_share=settings.unanswerable_share, show_progress=True,
                                    on_progress=advance, details=records)
        if details is not None:
            details.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    except (EntryFileError, ValueError, OSError) as error:
        errors.print(f"[red]Cannot evaluate:[/red] {error}")
        raise typer.Exit(2) from None
    table = Table("figure", "value", title=f"{kb.name} against {questions.name}")
    for key, value in report.items():
        if key != "calibration":
            table.add_row(key, "—" if value is None else str(value))
    console.print(table)
    if "calibration" in report:
        calibration = report["calibration"]
        console.print(f"Calibrated on the knowledge base ({calibration['method']}): expected precision "
                      f"{calibration['expected_precision']}, expected auto-answer rate "
                      f"{calibration['expected_auto_answer_rate']}.")
    if json_output:
        print(json.dumps(report))


@bot_app.command()
def train(force: Annotated[bool, typer.Option(help="Train even if the data did not change.")] = False) -> None:
    """Train the Rasa model if its training data changed since the last training."""
    from desk.bot_model import ensure_trained

    path, trained = ensure_trained(Settings(), force=force)
    console.print(f"{'Trained' if trained else 'Up to date'}: {path}")



@bot_app.command("eval")
def bot_evaluate(
    messages: Annotated[Path, typer.Option(help="Message file (.jsonl; format in shared/EVAL.md).")],
    url: Annotated[str | None, typer.Option(help="The running assistant's Rasa server "
                                            "(default: http://127.0.0.1:5005, or CITYDESK_RASA_PORT).")] = None,
    desk_url: Annotated[str | None, typer.Option(help="The running desk (default: http://127.0.0.1:8000, "
                                                 "or CITYDESK_DESK_PORT).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="The running desk's data folder, where it keeps its "
                                                  "internal token (or set CITYDESK_INTERNAL_TOKEN).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Send each message to the running assistant as a new conversation; measure what it did (shared/EVAL.md)."""
    from desk import bot_eval
    from settings.secrets import read_secret

    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    token = ((settings.internal_token.get_secret_value() if settings.internal_token else None)
             or read_secret(settings.internal_token_file))
    if not token:
        errors.print(f"[red]Cannot evaluate:[/red] no internal token in {settings.internal_token_file}. Pass the "
                     "running desk's --data-dir, or set CITYDESK_INTERNAL_TOKEN.")
        raise typer.Exit(2)
    try:
        items = bot_eval.read_messages(messages)
        with Progress(console=errors, transient=True) as progress, \
                bot_eval.Assistant(rasa_url=url or settings.rasa_url, desk_url=desk_url or settings.desk_url,
                                   internal_token=token) as assistant:
            task = progress.add_task("Sending messages", total=len(items))
            observed = bot_eval.run(items, assistant, on_progress=lambda: progress.advance(task))
    except (bot_eval.MessageFileError, bot_eval.EvalError, OSError) as error:
        errors.print(f"[red]Cannot evaluate:[/red] {error}")
        raise typer.Exit(2) from None
    report = bot_eval.score(items, observed)
    misses = Table("expected", "got", "message", "detail", title="Messages handled wrongly")
    for miss in bot_eval.misses(items, observed):
        misses.add_row(miss.expected, miss.got, miss.text[:90], miss.detail)
    if misses.row_count:
        console.print(misses)
    figures = Table("figure", "value", title=f"The assistant on {messages.name}")
    for key, value in report.items():
        if key != "confusion":
            figures.add_row(key, "—" if value is None else str(value))
    console.print(figures)
    actual_routes = list(report["confusion"][bot_eval.ROUTES[0]])
    confusion = Table("expected \\ got", *actual_routes, title="Routes: expected (rows) against actual (columns)")
    for expected, row in report["confusion"].items():
        confusion.add_row(expected, *(str(row[route]) for route in actual_routes))
    console.print(confusion)
    if json_output:
        print(json.dumps(report))
