"""`citydesk staff`: the inbox's accounts; and the demo accounts `serve` creates on an empty desk."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from handoff.staff import ROLES, DemoAccount, StaffAccounts, StaffError
from settings import Settings

staff_app = typer.Typer(help="Staff accounts of the inbox: add, list.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def staff_accounts(settings: Settings) -> StaffAccounts:
    """The accounts in the settings' database, brought to the newest schema first."""
    from database import create_db_engine, session_factory
    from database.migrate import upgrade
    from handoff.directory import load_directory

    upgrade(settings.resolved_database_url)
    return StaffAccounts(session_factory(create_db_engine(settings.resolved_database_url)),
                         load_directory(settings.directory_file))


@staff_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name: lowercase letters, digits, '.', '_' or '-'.")],
    name: Annotated[str, typer.Option("--name", help="The person's name, as shown in the inbox.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")] = "staff",
    department: Annotated[str | None, typer.Option(help="Department code (handoff/departments.yml); "
                                                   "required for staff.")] = None,
    password_env: Annotated[str | None, typer.Option("--password-env", help="Read the password from this "
                                                     "environment variable (for scripts) instead of asking.")] = None,
) -> None:
    """Add a staff account; the password is asked for (twice), or read from --password-env."""
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            errors.print(f"[red]No account added:[/red] the environment variable {password_env} is not set or empty.")
            raise typer.Exit(2)
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = staff_accounts(Settings()).add(username=username, display_name=name, password=password, role=role,
                                              department=department)
    except StaffError as error:
        errors.print(f"[red]No account added:[/red] {error}.")
        raise typer.Exit(2) from None
    where = f" in {user.department}" if user.department else ""
    console.print(f"Added {user.role} {user.username} ({user.display_name}){where}.")


@staff_app.command("list")
def list_accounts(json_output: Annotated[bool, typer.Option("--json", help="Print one JSON array.")] = False) -> None:
    """Every account: username, name, role, department (never a password)."""
    users = staff_accounts(Settings()).all()
    if json_output:
        print(json.dumps([{"username": u.username, "name": u.display_name, "role": u.role,
                           "department": u.department} for u in users]))
        return
    table = Table("username", "name", "role", "department")
    for user in users:
        table.add_row(user.username, user.display_name, user.role, user.department or "—")
    console.print(table if users else "No staff accounts yet: add one with `citydesk staff add`.")


def ensure_demo_accounts(settings: Settings) -> list[DemoAccount]:
    """Demo accounts with random passwords, on a desk that has no account yet; else none."""
    return staff_accounts(settings).create_demo_accounts()


def print_demo_accounts(accounts: list[DemoAccount], settings: Settings) -> None:
    """Shown once, when they are created: the passwords are kept nowhere else."""
    table = Table("username", "password", "role", "department",
                  title=f"Demo staff accounts (log in at {settings.desk_url}/inbox; shown only now)")
    for account in accounts:
        table.add_row(account.user.username, account.password, account.user.role, account.user.department or "all")
    console.print(table)
