"""`citydesk staff`: the inbox's accounts (the demo accounts of an empty desk are `serve`'s)."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.table import Table

import database
from desk.cli.options import DatabaseUrl, DataDir, JsonFlag, console, errors, settings_for
from handoff.staff import ROLES, StaffAccounts, StaffError
from settings import Settings

staff_app = typer.Typer(help="Staff accounts of the inbox: add, list.", no_args_is_help=True)


def staff_accounts(settings: Settings) -> StaffAccounts:
    """The accounts in the settings' database, brought to the newest schema first; departments: the directory
    file's and those the published entries name (handoff/city_directory.py), as the running desk has them."""
    from handoff.city_directory import stored_departments
    from handoff.directory import load_directory

    sessions = database.open(settings)
    return StaffAccounts(sessions, stored_departments(load_directory(settings.directory_file), sessions))


@staff_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="Login name: lowercase letters, digits, '.', '_' or '-'.")],
    name: Annotated[str, typer.Option("--name", help="The person's name, as shown in the inbox.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")] = "staff",
    department: Annotated[str | None, typer.Option(help="Department code (handoff/departments.yml, or the slug "
                                                   "of a department the entries name); required for staff and heads.")
                                   ] = None,
    reviewer: Annotated[bool, typer.Option("--reviewer", help="May approve the department's answers where it "
                                           "wants them reviewed (heads and supervisors always may).")] = False,
    password_env: Annotated[str | None, typer.Option("--password-env", help="Read the password from this "
                                                     "environment variable (for scripts) instead of asking.")] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
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
        user = staff_accounts(settings_for(data_dir, database_url)).add(
            username=username, display_name=name, password=password, role=role, department=department,
            reviewer=reviewer)
    except StaffError as error:
        errors.print(f"[red]No account added:[/red] {error}.")
        raise typer.Exit(2) from None
    where = f" in {user.department}" if user.department else ""
    console.print(f"Added {user.role} {user.username} ({user.display_name}){where}.")


@staff_app.command("list")
def list_accounts(data_dir: DataDir = None, database_url: DatabaseUrl = None, json_output: JsonFlag = False) -> None:
    """Every account: username, name, role, department (never a password)."""
    users = staff_accounts(settings_for(data_dir, database_url)).all()
    if json_output:
        print(json.dumps([{"username": u.username, "name": u.display_name, "role": u.role,
                           "department": u.department} for u in users]))
        return
    table = Table("username", "name", "role", "department")
    for user in users:
        table.add_row(user.username, user.display_name, user.role, user.department or "—")
    console.print(table if users else "No staff accounts yet: add one with `citydesk staff add`.")
