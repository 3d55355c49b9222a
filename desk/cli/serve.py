"""`citydesk serve`: the whole stack, and what it needs on a fresh desk (the demo staff accounts)."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

import database
from desk.cli.options import DataDir, JsonFlag, console, errors, settings_for
from handoff.staff import DemoAccount
from settings import DEMO_KB_FILE, Settings

if TYPE_CHECKING:
    from desk.stack import Stack
    from desk.supervisor import Supervisor


def serve(
    kb: Annotated[Path | None, typer.Option(help="Entries to load when the knowledge base is empty "
                                            "(default: the demo knowledge base).")] = None,
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    desk_port: Annotated[int | None, typer.Option()] = None,
    rasa_port: Annotated[int | None, typer.Option()] = None,
    action_port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Start the desk, the action server and Rasa and keep them running (a process that exits is restarted);
    stop them all with Ctrl+C or SIGTERM."""
    from desk.bot_model import ensure_trained
    from desk.stack import Stack, StackError

    # no --database-url: the processes it starts read DATABASE_URL from the environment as it is
    settings = settings_for(data_dir, host=host, desk_port=desk_port, rasa_port=rasa_port, action_port=action_port)
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
    supervisor: Supervisor | None = None
    try:
        with console.status("Starting the desk, the action server and Rasa (about a minute)…"):
            stack.start()
        if demo_accounts:
            print_demo_accounts(demo_accounts, settings)
        _print_addresses(settings)
        _print_connectors(stack)
        supervisor = stack.supervisor(report=_reporter(settings.data_dir / "logs" / "supervisor.log"))
        supervisor.run()  # restarts whatever exits, until Ctrl+C or SIGTERM
    except StackError as error:
        errors.print(f"[red]Could not start CityDesk:[/red] {error}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("Stopping…")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not interrupt the stopping
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        if supervisor is not None:
            supervisor.stopped()


def status(data_dir: DataDir = None, json_output: JsonFlag = False) -> None:
    """Each process of the stack `citydesk serve` runs: pid, state, uptime and restarts."""
    from desk.supervisor import read_status, state_file_of

    settings = settings_for(data_dir, opens_database=False)
    state = read_status(settings.data_dir)
    if state is None:
        if json_output:
            print(json.dumps({"running": False}))
        errors.print(f"CityDesk is not running (no live `citydesk serve` for {settings.data_dir}; "
                     f"state file {state_file_of(settings.data_dir)}).", markup=False)
        raise typer.Exit(1)
    table = Table("process", "pid", "state", "uptime", "restarts", "last exit",
                  title=f"CityDesk (supervisor pid {state['supervisor_pid']}, data {settings.data_dir})")
    for process in state["processes"]:
        uptime = process["uptime_s"]
        table.add_row(process["name"], str(process["pid"] or "-"), process["state"],
                      "-" if uptime is None else _duration(uptime), str(process["restarts"]),
                      "-" if process["last_exit"] is None else str(process["last_exit"]))
    console.print(table)
    if json_output:
        print(json.dumps(state))


SHELL_SPECIAL = frozenset(' #"$\\')


def environment(data_dir: DataDir = None) -> None:
    """The variables `serve` gives every process (its settings and .env), as KEY=value lines: systemd's
    EnvironmentFile for deploy/systemd/ (it holds secrets: keep it 0600)."""
    import os
    from unittest import mock

    from desk.stack import child_environment

    settings = settings_for(data_dir, opens_database=False)
    inherited = {k: os.environ[k] for k in ("HF_HUB_OFFLINE",) if k in os.environ}
    with mock.patch.dict(os.environ, {}, clear=True):  # not this shell's own variables
        variables = {**inherited, **child_environment(settings)}
    for key, value in sorted(variables.items()):
        quoted = json.dumps(value) if any(c in value for c in SHELL_SPECIAL) else value
        print(f"{key}={quoted}")


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _reporter(log_path: Path) -> Callable[[str], None]:
    """Each supervisor event: on the console and appended to logs/supervisor.log, with the time."""
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def report(line: str) -> None:
        stamped = f"{datetime.now(UTC).isoformat(timespec='seconds')} {line}"
        console.print(stamped, markup=False, highlight=False)
        with log_path.open("a") as log:
            log.write(stamped + "\n")

    return report


def ensure_demo_accounts(settings: Settings) -> list[DemoAccount]:
    """Demo accounts with random passwords, on a desk that has no account yet; else none."""
    from handoff.directory import load_directory
    from handoff.staff import StaffAccounts

    return StaffAccounts(database.open(settings), load_directory(settings.directory_file)).create_demo_accounts()


def print_demo_accounts(accounts: list[DemoAccount], settings: Settings) -> None:
    """Shown once, when they are created: the passwords are kept nowhere else."""
    table = Table("username", "password", "role", "department",
                  title=f"Demo staff accounts (log in at {settings.desk_url}/inbox; shown only now)")
    for account in accounts:
        table.add_row(account.user.username, account.password, account.user.role, account.user.department or "all")
    console.print(table)


def _print_connectors(stack: Stack) -> None:
    for process in stack.processes:
        if process.ready_url is None:
            console.print(f"Connector {process.name}: running (log {process.log_path})")
    for name, reason in stack.skipped.items():
        console.print(f"Connector {name}: skipped, {reason}")


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
