"""What every command group shares, defined once: the options, the consoles, and the settings they make.

The one rule for local state: `--data-dir` (else `CITYDESK_DATA_DIR`, else `var/`) is the folder of the desk's SQLite
database `citydesk.db`, its secrets and its logs. Options beat the environment: the database is `--database-url`,
else the data folder's `citydesk.db` when `--data-dir` is given (a separate desk, as `serve --data-dir` promises),
else `DATABASE_URL` (or `CITYDESK_DATABASE_URL`), else `citydesk.db` in the data folder.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from settings import Settings

console = Console()
errors = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="The desk's data folder: its SQLite database citydesk.db, secrets and logs "
                       "(default: CITYDESK_DATA_DIR, else var/).")]
DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="SQLAlchemy URL of the database (default: DATABASE_URL, else citydesk.db in the "
                           "data folder).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON, on the last line.")]


EditorName = Annotated[str | None, typer.Option("--editor", help="Name recorded with the change "
                                                "(default: your login name).")]


def editor_name(name: str | None) -> str:
    """The name recorded with an editor's change: the one given, else the login name."""
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def settings_for(data_dir: Path | None = None, database_url: str | None = None, *, opens_database: bool = True,
                 **overrides: Any) -> Settings:
    """The settings of a command: its options over the environment (and .env), the rest as every process reads it.

    Precedence of the database: --database-url > --data-dir's citydesk.db > DATABASE_URL (or CITYDESK_DATABASE_URL)
    > citydesk.db in CITYDESK_DATA_DIR or var/. Options left at None keep the environment's value. A command that
    opens the database says on stderr when --data-dir set DATABASE_URL aside.
    """
    given: dict[str, Any] = {"data_dir": data_dir, **overrides}
    settings = Settings(**{key: value for key, value in given.items() if value is not None})
    if database_url:
        settings.database_url = database_url
    elif data_dir is not None and settings.database_url:
        if opens_database:
            errors.print(f"Note: --data-dir is a separate desk: its database is {data_dir}/citydesk.db, not "
                         f"DATABASE_URL ({_shown(settings.database_url)}).", style="yellow", markup=False)
        settings.database_url = None
    return settings


def _shown(url: str) -> str:
    """A database URL without its password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable URL)"
