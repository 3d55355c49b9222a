"""`citydesk staff add|list|edit|disable|enable|role|reset-password|password|audit` and the demo accounts of `serve`, on
temporary data folders."""

from __future__ import annotations

import csv
import json

import pytest

from desk.cli import app
from desk.cli.serve import ensure_demo_accounts, print_demo_accounts
from desk.cli.staff import staff_accounts
from settings import Settings
from tests.desk.conftest import flat

PASSWORD = "a long enough password"


@pytest.fixture
def runner(runner, monkeypatch):
    """The runner of tests/desk/conftest.py, with the password `staff add --password-env ROSA_PASSWORD` reads."""
    monkeypatch.setenv("ROSA_PASSWORD", PASSWORD)
    return runner


def listed(runner) -> list[dict]:
    result = runner.invoke(app, ["staff", "list", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_with_a_password_from_the_environment_then_list(runner):
    result = runner.invoke(app, ["staff", "add", "rosa", "--name", "Rosa Martinez", "--department", "public-works",
                                 "--password-env", "ROSA_PASSWORD"])
    assert result.exit_code == 0, result.output
    assert flat(result.output) == "Added staff rosa (Rosa Martinez) in public-works."
    assert PASSWORD not in result.output
    assert listed(runner) == [{"username": "rosa", "name": "Rosa Martinez", "role": "staff",
                               "department": "public-works", "email": None, "state": "active"}]
    assert staff_accounts(Settings()).authenticate("rosa", PASSWORD).username == "rosa"
    table = runner.invoke(app, ["staff", "list"])
    assert table.exit_code == 0
    assert "rosa" in table.output and "Rosa Martinez" in table.output and PASSWORD not in table.output


def test_an_officers_own_e_mail_address_is_given_changed_and_removed_with_the_audit_log(runner):
    added = runner.invoke(app, ["staff", "add", "rosa", "--name", "Rosa", "--department", "waste",
                                "--email", "rosa.m@alderbrook.example", "--password-env", "ROSA_PASSWORD"])
    assert added.exit_code == 0, added.output
    assert listed(runner)[0]["email"] == "rosa.m@alderbrook.example"
    changed = runner.invoke(app, ["staff", "edit", "rosa", "--email", "r.martinez@alderbrook.example", "--by", "ada"])
    assert (changed.exit_code, flat(changed.output)) == (0, "rosa is saved.")
    assert listed(runner)[0]["email"] == "r.martinez@alderbrook.example"
    refused = runner.invoke(app, ["staff", "edit", "rosa", "--email", "Rosa <rosa@example>"])
    assert (refused.exit_code, flat(refused.output)) == (
        2, "Nothing changed: 'Rosa <rosa@example>' is not an e-mail address (name@example.org).")
    bad_add = runner.invoke(app, ["staff", "add", "pia", "--name", "Pia", "--department", "waste", "--email", "pia",
                                  "--password-env", "ROSA_PASSWORD"])
    assert bad_add.exit_code == 2 and listed(runner)[0]["username"] == "rosa" and len(listed(runner)) == 1
    assert runner.invoke(app, ["staff", "edit", "rosa", "--email", ""]).exit_code == 0
    assert listed(runner)[0]["email"] is None
    audit_csv = csv.reader(runner.invoke(app, ["staff", "audit", "--subject", "rosa", "--csv"]).stdout.splitlines())
    assert [row[2:6] for row in list(audit_csv)[1:]] == [
        ["system", "account.created", "rosa", "role staff, department waste"],
        ["ada", "account.email_changed", "rosa", "rosa.m@alderbrook.example → r.martinez@alderbrook.example"],
        ["system", "account.email_changed", "rosa", "r.martinez@alderbrook.example → —"]]


def test_add_asks_for_the_password_twice(runner):
    result = runner.invoke(app, ["staff", "add", "sam", "--name", "Sam", "--role", "supervisor"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert flat(result.output).endswith("Added supervisor sam (Sam).")
    assert staff_accounts(Settings()).authenticate("sam", PASSWORD).role == "supervisor"


@pytest.mark.parametrize(("arguments", "message"), [
    (["--department", "roads"], "No account added: unknown department 'roads'; one of: citizen-services,"),
    ([], "No account added: a staff member belongs to a department (--department)."),
    (["--department", "waste", "--role", "root"], "No account added: unknown role 'root'; one of: staff, "
                                                  "head, supervisor, editor, admin, broadcaster."),
])
def test_add_refuses_a_bad_account_clearly_and_adds_nothing(runner, arguments, message):
    result = runner.invoke(app, ["staff", "add", "rosa", "--name", "Rosa", "--password-env", "ROSA_PASSWORD",
                                 *arguments])
    assert result.exit_code == 2
    assert flat(result.output).startswith(message)
    assert listed(runner) == []


def test_add_with_an_unset_password_variable_adds_nothing(runner):
    result = runner.invoke(app, ["staff", "add", "rosa", "--name", "Rosa", "--department", "waste",
                                 "--password-env", "NO_SUCH_VARIABLE"])
    assert result.exit_code == 2
    assert flat(result.output) == ("No account added: the environment variable NO_SUCH_VARIABLE is not set or "
                                   "empty.")
    assert listed(runner) == []


def test_serve_creates_demo_accounts_once_and_prints_each_password_with_the_inbox_address(runner, capsys):
    settings = Settings()
    demo = ensure_demo_accounts(settings)
    assert [(a.user.username, a.user.role, a.user.department) for a in demo] == [
        ("publicworks", "staff", "public-works"), ("waste", "staff", "waste"), ("supervisor", "supervisor", None),
        ("editor", "editor", None), ("admin", "admin", None)]
    print_demo_accounts(demo, settings)
    printed = flat(capsys.readouterr().out)
    assert f"log in at {settings.desk_url}/inbox" in printed
    for account in demo:
        assert f"│ {account.user.username} │ {account.password} │ {account.user.role} │" in printed
    assert ensure_demo_accounts(settings) == []
    assert [user["username"] for user in listed(runner)] == ["admin", "editor", "publicworks", "waste",
                                                          "supervisor"]


def test_disable_enable_role_reset_and_password_from_the_command_line_with_the_audit_log(runner):
    assert runner.invoke(app, ["staff", "add", "rosa", "--name", "Rosa", "--department", "waste",
                               "--password-env", "ROSA_PASSWORD"]).exit_code == 0
    accounts = staff_accounts(Settings())
    result = runner.invoke(app, ["staff", "disable", "rosa", "--reason", "on leave", "--by", "ada"])
    assert result.exit_code == 0, result.output
    assert flat(result.output) == "rosa is disabled: no login, open sessions ended."
    assert listed(runner)[0]["state"] == "disabled"
    assert accounts.authenticate("rosa", PASSWORD) is None
    again = runner.invoke(app, ["staff", "disable", "rosa"])
    assert (again.exit_code, flat(again.output)) == (2, "Nothing changed: rosa is already disabled.")
    assert runner.invoke(app, ["staff", "enable", "rosa"]).exit_code == 0
    assert accounts.authenticate("rosa", PASSWORD).username == "rosa"
    moved = runner.invoke(app, ["staff", "role", "rosa", "staff", "--department", "public-works"])
    assert flat(moved.output) == "rosa is now staff in public-works."
    refused = runner.invoke(app, ["staff", "role", "rosa", "staff"])
    assert (refused.exit_code, flat(refused.output)) == (
        2, "Nothing changed: a staff member belongs to a department (--department).")
    reset = runner.invoke(app, ["staff", "reset-password", "rosa"])
    assert reset.exit_code == 0, reset.output
    temporary = reset.stdout.strip().splitlines()[-1]
    assert listed(runner)[0]["state"] == "temporary password"
    assert accounts.login("rosa", temporary).user.must_change_password
    changed = runner.invoke(app, ["staff", "password", "rosa"], input=f"{temporary}\nmy very own password\n"
                                                                       "my very own password\n")
    assert changed.exit_code == 0, changed.output
    assert accounts.authenticate("rosa", "my very own password").username == "rosa"
    audit_csv = runner.invoke(app, ["staff", "audit", "--subject", "rosa", "--csv"]).stdout.splitlines()
    assert audit_csv[0] == "id,at_utc,actor,action,subject,detail"
    assert [line.split(",")[2:5] for line in audit_csv[1:]] == [
        ["system", "account.created", "rosa"], ["ada", "account.disabled", "rosa"],
        ["system", "account.enabled", "rosa"], ["system", "account.department_changed", "rosa"],
        ["system", "account.password_reset", "rosa"], ["rosa", "account.password_changed", "rosa"]]
