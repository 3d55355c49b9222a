"""`citydesk connector`: one process per channel (what `serve` starts), and the messages the connectors gave up on."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer
from rich.table import Table

import database
from desk.cli.options import DatabaseUrl, DataDir, JsonFlag, console, errors, settings_for

connector_app = typer.Typer(help="Channel connectors: one process per channel.", no_args_is_help=True)


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


@connector_app.command("telegram")
def connector_telegram(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Run the Telegram connector (long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set)."""
    import asyncio

    from connectors.telegram.app import run_telegram_connector

    _log_to_stderr()
    try:
        asyncio.run(run_telegram_connector(settings_for(data_dir, database_url)))
    except ValueError as error:
        errors.print(f"[red]{error}")
        raise typer.Exit(2) from None


@connector_app.command("x")
def connector_x(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Run the X/Twitter connector: poll mentions and direct messages, answer in threads or by DM."""
    import asyncio

    from connectors.x.app import run_x_connector

    _log_to_stderr()
    try:
        asyncio.run(run_x_connector(settings_for(data_dir, database_url)))
    except ValueError as error:
        errors.print(f"[red]{error}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


@connector_app.command("failed")
def connector_failed(retry: Annotated[int | None, typer.Option(help="Send this failed message again.")] = None,
                     data_dir: DataDir = None, database_url: DatabaseUrl = None, json_output: JsonFlag = False) -> None:
    """Outbox messages the connectors gave up on (after too many failed attempts), or retry one."""
    # the one place the CLI reaches the outbox; lazy, so that the other commands never load it
    from outbox.store import RequeueRefused, failed_messages, requeue

    sessions = database.open(settings_for(data_dir, database_url))
    if retry is not None:
        try:
            queued = requeue(sessions, retry)
        except (LookupError, RequeueRefused) as error:
            errors.print(str(error), style="red", markup=False)  # the retention marker is in [brackets]
            raise typer.Exit(1) from None
        console.print(f"Message {queued.id} to {queued.conversation_id} queued again.")
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
