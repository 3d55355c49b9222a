"""`citydesk bench report`: a year of generated traffic in a fresh database, and the time of the monthly
all-departments report on it (handoff/report_bench.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

import database
from desk.cli.options import DatabaseUrl, DataDir, JsonFlag, console, errors, settings_for

bench_app = typer.Typer(help="Benchmarks on generated traffic.", no_args_is_help=True)


@bench_app.command("report")
def bench_report(
    decisions: Annotated[int, typer.Option(help="Messages over the year.")] = 1_000_000,
    cases: Annotated[int, typer.Option(help="Cases over the year (each with its message).")] = 300_000,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    json_output: JsonFlag = False,
) -> None:
    """Generate a year of traffic in an empty database, then time `citydesk report --period month`."""
    from sqlalchemy import func, select

    from handoff.directory import load_directory
    from handoff.models import MessageDecision
    from handoff.report_bench import run

    settings = settings_for(data_dir, database_url)
    sessions = database.open(settings)
    with sessions() as session:
        if session.scalar(select(func.count()).select_from(MessageDecision)):
            errors.print("[red]The database has messages already:[/red] run the benchmark on an empty one "
                         "(--data-dir of a new folder).")
            raise typer.Exit(2)
    departments = [d.code for d in load_directory(settings.directory_file).departments]
    result = run(sessions, decisions=decisions, cases=cases, departments=departments)
    if json_output:
        print(json.dumps(result.as_dict()))
        return
    console.print(f"Generated {result.decisions} messages and {result.cases} cases in {result.generate_s:.1f} s; "
                  f"the monthly all-departments report took {result.report_s:.3f} s "
                  f"({result.received} messages, {result.cases_opened} cases in the month).", markup=False)
