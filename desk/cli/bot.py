"""`citydesk bot`: train the Rasa model, and measure what the running assistant does with each message."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from desk.cli.options import DataDir, JsonFlag, console, errors, settings_for

bot_app = typer.Typer(help="The Rasa assistant.", no_args_is_help=True)


@bot_app.command("train")
def train(force: Annotated[bool, typer.Option(help="Train even if the data did not change.")] = False) -> None:
    """Train the Rasa model if its training data changed since the last training."""
    from desk.bot_model import ensure_trained

    path, trained = ensure_trained(settings_for(), force=force)
    console.print(f"{'Trained' if trained else 'Up to date'}: {path}")


@bot_app.command("eval")
def bot_evaluate(
    messages: Annotated[Path, typer.Option(help="Message file (.jsonl; format in shared/EVAL.md).")],
    url: Annotated[str | None, typer.Option(help="The running assistant's Rasa server "
                                            "(default: http://127.0.0.1:5005, or CITYDESK_RASA_PORT).")] = None,
    desk_url: Annotated[str | None, typer.Option(help="The running desk (default: http://127.0.0.1:8000, "
                                                 "or CITYDESK_DESK_PORT).")] = None,
    data_dir: DataDir = None,
    json_output: JsonFlag = False,
) -> None:
    """Send each message to the running assistant as a new conversation; measure what it did (shared/EVAL.md).

    --data-dir is the running desk's data folder, where it keeps its internal token (or set CITYDESK_INTERNAL_TOKEN).
    """
    from desk import bot_eval
    from settings.secrets import read_secret

    settings = settings_for(data_dir, opens_database=False)
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
