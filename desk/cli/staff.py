"""`citydesk staff`: the inbox's accounts (the demo accounts of an empty desk are `serve`'s)."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.table import Table

import database
from desk.cli.options import DatabaseUrl, DataDir, JsonFlag, console, errors, settings_for
from handoff.audit import AuditFilter, AuditLog
from handoff.models import StaffUser
from handoff.staff import ROLES, SYSTEM_ACTOR, StaffAccounts, StaffError
from settings import Settings

staff_app = typer.Typer(help="Staff accounts of the inbox: add, list, edit, disable, enable, role, reset-password, "
                             "password; the audit log.", no_args_is_help=True)
Admin = Annotated[str, typer.Option("--by", help="Who makes the change, for the audit log (default: system).")]
EMAIL_HELP = ("The person's own e-mail address: the notices meant for them as an officer go there (a case assigned "
              "to them, a citizen's follow-up, a reminder, a draft returned by review).")


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
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)} (admin: staff accounts and the audit log "
                                      "on /inbox/admin).")] = "staff",
    department: Annotated[str | None, typer.Option(help="Department code (handoff/departments.yml, or the slug "
                                                   "of a department the entries name); required for staff and heads.")
                                   ] = None,
    reviewer: Annotated[bool, typer.Option("--reviewer", help="May approve the department's answers where it "
                                           "wants them reviewed (heads and supervisors always may).")] = False,
    email: Annotated[str | None, typer.Option("--email", help=EMAIL_HELP)] = None,
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
            reviewer=reviewer, email=email)
    except StaffError as error:
        errors.print(f"[red]No account added:[/red] {error}.")
        raise typer.Exit(2) from None
    where = f" in {user.department}" if user.department else ""
    console.print(f"Added {user.role} {user.username} ({user.display_name}){where}.")


def _state(user: StaffUser) -> str:
    if user.disabled_at is not None:
        return "disabled"
    return "temporary password" if user.must_change_password else "active"


@staff_app.command("list")
def list_accounts(data_dir: DataDir = None, database_url: DatabaseUrl = None, json_output: JsonFlag = False) -> None:
    """Every account: username, name, role, department (never a password)."""
    users = staff_accounts(settings_for(data_dir, database_url)).all()
    if json_output:
        print(json.dumps([{"username": u.username, "name": u.display_name, "role": u.role,
                           "department": u.department, "email": u.email, "state": _state(u)} for u in users]))
        return
    table = Table("username", "name", "role", "department", "e-mail", "state")
    for user in users:
        table.add_row(user.username, user.display_name, user.role, user.department or "—", user.email or "—",
                      _state(user))
    console.print(table if users else "No staff accounts yet: add one with `citydesk staff add`.")


def _change(what: str, change: object) -> None:
    """Run an account change; a refusal is printed, exit code 2."""
    try:
        if callable(change):
            change()
    except StaffError as error:
        errors.print(f"[red]Nothing changed:[/red] {error}.")
        raise typer.Exit(2) from None
    console.print(what)


@staff_app.command("edit")
def edit(username: str,
         email: Annotated[str | None, typer.Option("--email", help=EMAIL_HELP + " An empty value removes it.")]
         = None,
         name: Annotated[str | None, typer.Option("--name", help="The person's name, as shown in the inbox.")] = None,
         by: Admin = SYSTEM_ACTOR, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Change an account's e-mail address or name (role and department: `citydesk staff role`)."""
    if email is None and name is None:
        errors.print("[red]Nothing changed:[/red] say what to change (--email, --name).")
        raise typer.Exit(2)
    accounts = staff_accounts(settings_for(data_dir, database_url))
    _change(f"{username} is saved.", lambda: accounts.edit(username, email=email, display_name=name, actor=by))


@staff_app.command("disable")
def disable(username: str, reason: Annotated[str, typer.Option(help="Why, for the audit log.")] = "",
            by: Admin = SYSTEM_ACTOR, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Disable an account: it cannot log in, and its open sessions end."""
    accounts = staff_accounts(settings_for(data_dir, database_url))
    _change(f"{username} is disabled: no login, open sessions ended.",
            lambda: accounts.disable(username, actor=by, reason=reason))


@staff_app.command("enable")
def enable(username: str, by: Admin = SYSTEM_ACTOR, data_dir: DataDir = None,
           database_url: DatabaseUrl = None) -> None:
    """Enable a disabled account again."""
    accounts = staff_accounts(settings_for(data_dir, database_url))
    _change(f"{username} can log in again.", lambda: accounts.enable(username, actor=by))


@staff_app.command("role")
def role(username: str, new_role: Annotated[str, typer.Argument(metavar="ROLE", help=f"One of: {', '.join(ROLES)}.")],
         department: Annotated[str | None, typer.Option(help="Department code (required for staff).")] = None,
         by: Admin = SYSTEM_ACTOR, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Change an account's role and department."""
    accounts = staff_accounts(settings_for(data_dir, database_url))
    where = f" in {department}" if department else ""
    _change(f"{username} is now {new_role}{where}.",
            lambda: accounts.change_role(username, role=new_role, department=department, actor=by))


@staff_app.command("reset-password")
def reset_password(username: str, by: Admin = SYSTEM_ACTOR, data_dir: DataDir = None,
                   database_url: DatabaseUrl = None) -> None:
    """Print a temporary password (valid 3 days); the account must change it at its next login."""
    accounts = staff_accounts(settings_for(data_dir, database_url))
    try:
        password = accounts.reset_password(username, actor=by)
    except StaffError as error:
        errors.print(f"[red]Nothing changed:[/red] {error}.")
        raise typer.Exit(2) from None
    console.print(f"Temporary password for {username} (shown only now; valid 3 days, to be changed at the first "
                  f"login; their open sessions have ended):")
    print(password)


@staff_app.command("password")
def change_password(username: str, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Change one's own password: asks for the current one and the new one (twice)."""
    current = typer.prompt("Current password", hide_input=True)
    new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    accounts = staff_accounts(settings_for(data_dir, database_url))
    _change(f"{username}'s password is changed; their other sessions have ended.",
            lambda: accounts.change_password(username, current=current, new=new))


@staff_app.command("audit")
def audit_log(actor: Annotated[str, typer.Option(help="Only this user's actions.")] = "",
              action: Annotated[str, typer.Option(help="An action (login.failed) or an area (login, account, "
                                                  "case, transcript).")] = "",
              subject: Annotated[str, typer.Option(help="Only about this account, case or conversation.")] = "",
              csv_output: Annotated[bool, typer.Option("--csv", help="Every matching line as CSV (UTC times).")]
              = False,
              limit: Annotated[int, typer.Option(help="Lines shown (newest first) without --csv.")] = 50,
              data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """The audit log: logins, account changes, case assignments and take-overs, views of originals."""
    log = AuditLog(database.open(settings_for(data_dir, database_url)))
    filters = AuditFilter(actor=actor, action=action, subject=subject)
    if csv_output:
        print(log.export_csv(filters), end="")
        return
    table = Table("at (UTC)", "actor", "action", "subject", "detail")
    for entry in log.page(filters, size=limit).entries:
        table.add_row(f"{entry.at:%Y-%m-%d %H:%M:%S}", entry.actor, entry.action, entry.subject, entry.detail)
    console.print(table)
