"""`citydesk`: run the whole assistant, manage and measure the knowledge base, train the bot.

One module per command group (`kb`, `bot`, `staff`, `connector`, `transcripts`, `serve`, `report`, `bench`,
`broadcast`); the
options they share, and the one rule for `--data-dir` and `--database-url`, are in `options`. The groups import
`options`, never each other or this module.
"""

from __future__ import annotations

import typer

from desk.cli.bench import bench_app
from desk.cli.bot import bot_app
from desk.cli.broadcast import broadcast_app
from desk.cli.connector import connector_app
from desk.cli.kb import kb_app
from desk.cli.report import report as report_command
from desk.cli.serve import environment as environment_command
from desk.cli.serve import serve as serve_command
from desk.cli.serve import status as status_command
from desk.cli.staff import staff_app
from desk.cli.transcripts import transcripts_app

app = typer.Typer(help="CityDesk: the city's social-media desk.", no_args_is_help=True)
app.command("serve")(serve_command)
app.command("status")(status_command)
app.command("env")(environment_command)
app.command("report")(report_command)
app.add_typer(kb_app, name="kb")
app.add_typer(bot_app, name="bot")
app.add_typer(staff_app, name="staff")
app.add_typer(connector_app, name="connector")
app.add_typer(transcripts_app, name="transcripts")
app.add_typer(bench_app, name="bench")
app.add_typer(broadcast_app, name="broadcast")

__all__ = ["app"]
