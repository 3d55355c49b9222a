"""Staff accounts (administration, argon2 hashes and the scrypt ones before them, the audit of changes) and response
templates, on a real migrated SQLite file."""

from __future__ import annotations

import base64
import hashlib
import secrets

import pytest
from sqlalchemy import select

from handoff.audit import AuditEntry
from handoff.directory import SLA, default_directory
from handoff.models import StaffUser
from handoff.passwords import hash_password, needs_rehash, verify_password
from handoff.replies import DEFAULT_KEY, ResponseTemplates, fill, load_templates
from handoff.routing import route_case
from handoff.service import Actor
from handoff.staff import StaffAccounts, StaffError, actor_of
from tests.handoff.conftest import START, FakeClock

DIRECTORY = default_directory()
PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(sessions) -> StaffAccounts:
    return StaffAccounts(sessions, DIRECTORY)


def scrypt_hash(password: str) -> str:
    """A hash as the desk made them before argon2 (revision 0015s): `scrypt$n$r$p$salt$key`."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32, maxmem=256 * 2**14 * 8)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def test_a_password_hash_is_salted_argon2id_and_verifies_only_the_password():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password("correct horse battery!", first)
    assert not verify_password(PASSWORD, "not a hash")
    assert not verify_password(PASSWORD, first.replace("argon2id", "argon2i", 1))
    assert not needs_rehash(first)


def test_an_old_scrypt_hash_still_verifies_and_is_replaced_by_argon2_at_the_next_login(accounts, sessions):
    old = scrypt_hash(PASSWORD)
    assert verify_password(PASSWORD, old) and not verify_password("wrong password", old) and needs_rehash(old)
    accounts.add(username="rosa", display_name="Rosa", password="temporary one", role="supervisor")
    with sessions.begin() as session:
        session.get(StaffUser, "rosa").password_hash = old
    assert accounts.authenticate("rosa", "wrong password") is None
    assert accounts.get("rosa").password_hash == old  # a failed login changes nothing
    assert accounts.authenticate("rosa", PASSWORD).username == "rosa"
    migrated = accounts.get("rosa").password_hash
    assert migrated.startswith("$argon2id$") and verify_password(PASSWORD, migrated)
    assert ("system", "account.password_rehashed", "rosa") in audit_lines(sessions)


def audit_lines(sessions) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [(e.actor, e.action, e.subject) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_disable_enable_role_department_reset_and_change_password_are_audited(accounts, sessions):
    clock = FakeClock(START)
    accounts.clock = clock
    accounts.add(username="ada", display_name="Ada Admin", password=PASSWORD, role="admin")
    accounts.add(username="rosa", display_name="Rosa", password=PASSWORD, role="staff", department="public-works",
                 actor="ada")
    accounts.disable("rosa", actor="ada", reason="left the city")
    assert accounts.login("rosa", PASSWORD).reason == "disabled"
    assert accounts.authenticate("rosa", PASSWORD) is None
    with pytest.raises(StaffError, match="rosa is already disabled"):
        accounts.disable("rosa", actor="ada")
    accounts.enable("rosa", actor="ada")
    assert accounts.authenticate("rosa", PASSWORD).username == "rosa"
    accounts.change_role("rosa", role="staff", department="waste", actor="ada")
    accounts.change_role("rosa", role="supervisor", department=None, actor="ada")
    assert (accounts.get("rosa").role, accounts.get("rosa").department) == ("supervisor", None)
    with pytest.raises(StaffError, match="a staff member belongs to a department"):
        accounts.change_role("rosa", role="staff", department=None, actor="ada")
    temporary = accounts.reset_password("rosa", actor="ada")
    assert accounts.authenticate("rosa", PASSWORD) is None
    result = accounts.login("rosa", temporary)
    assert result.ok and result.user.must_change_password
    with pytest.raises(StaffError, match="the current password is wrong"):
        accounts.change_password("rosa", current="not it at all", new="my own new password")
    with pytest.raises(StaffError, match="a password is 10 to 1000 characters long"):
        accounts.change_password("rosa", current=temporary, new="short")
    accounts.change_password("rosa", current=temporary, new="my own new password")
    assert not accounts.get("rosa").must_change_password
    assert accounts.authenticate("rosa", "my own new password").username == "rosa"
    assert [line for line in audit_lines(sessions) if line[2] == "rosa"] == [
        ("ada", "account.created", "rosa"), ("ada", "account.disabled", "rosa"), ("ada", "account.enabled", "rosa"),
        ("ada", "account.department_changed", "rosa"), ("ada", "account.role_changed", "rosa"),
        ("ada", "account.department_changed", "rosa"), ("ada", "account.password_reset", "rosa"),
        ("rosa", "account.password_changed", "rosa")]


def test_a_temporary_password_expires_unused_and_the_last_administrator_stays(accounts):
    clock = FakeClock(START)
    accounts.clock = clock
    accounts.add(username="ada", display_name="Ada Admin", password=PASSWORD, role="admin")
    accounts.add(username="rosa", display_name="Rosa", password=PASSWORD, role="staff", department="waste")
    temporary = accounts.reset_password("rosa", actor="ada")
    clock.advance(days=3)
    assert accounts.login("rosa", temporary).reason == "expired"
    with pytest.raises(StaffError, match="you cannot disable your own account"):
        accounts.disable("ada", actor="ada")
    with pytest.raises(StaffError, match="ada is the last administrator; make another one first"):
        accounts.disable("ada", actor="system")
    with pytest.raises(StaffError, match="you cannot take the administrator role from yourself"):
        accounts.change_role("ada", role="supervisor", department=None, actor="ada")
    with pytest.raises(StaffError, match="there is no user 'nobody'"):
        accounts.enable("nobody")


def test_add_stores_the_account_with_a_hash_and_authenticates_it(accounts):
    user = accounts.add(username="Rosa.M", display_name=" Rosa Martinez ", password=PASSWORD, role="staff",
                        department="public-works")
    stored = accounts.get("rosa.m")
    assert (stored.username, stored.display_name, stored.role, stored.department) == (
        "rosa.m", "Rosa Martinez", "staff", "public-works")
    assert stored.password_hash == user.password_hash != PASSWORD
    assert accounts.authenticate("ROSA.M", PASSWORD).username == "rosa.m"
    assert accounts.authenticate("rosa.m", "wrong password") is None
    assert accounts.authenticate("nobody", PASSWORD) is None
    assert accounts.authenticate("", PASSWORD) is None
    assert actor_of(stored) == Actor("rosa.m", role="staff", department="public-works")


@pytest.mark.parametrize(("fields", "message"), [
    ({"username": "a"}, "a username is 2 to 64 characters"),
    ({"username": "rosa martinez"}, "a username is 2 to 64 characters"),
    ({"display_name": "  "}, "give the person's name"),
    ({"role": "root"}, "unknown role 'root'; one of: staff, head, supervisor, editor, admin, broadcaster"),
    ({"department": None}, "a staff member belongs to a department"),
    ({"department": "roads"}, "unknown department 'roads'; one of: citizen-services,"),
    ({"role": "supervisor", "department": "roads"}, "unknown department 'roads'"),
    ({"password": "short"}, "a password is 10 to 1000 characters long"),
])
def test_add_refuses_a_bad_account_and_stores_nothing(accounts, fields, message):
    values = dict(username="rosa", display_name="Rosa", password=PASSWORD, role="staff", department="public-works")
    with pytest.raises(StaffError) as error:
        accounts.add(**{**values, **fields})
    assert str(error.value).startswith(message)
    assert accounts.count() == 0


def test_add_refuses_a_second_account_with_the_same_username(accounts):
    accounts.add(username="rosa", display_name="Rosa", password=PASSWORD, role="supervisor")
    with pytest.raises(StaffError, match="there is already a user 'rosa'"):
        accounts.add(username="ROSA", display_name="Other Rosa", password=PASSWORD, role="staff",
                     department="waste")
    assert [(u.username, u.display_name, u.role) for u in accounts.all()] == [("rosa", "Rosa", "supervisor")]


def test_demo_accounts_are_created_once_on_an_empty_desk_with_working_random_passwords(accounts):
    demo = accounts.create_demo_accounts()
    assert [(a.user.username, a.user.role, a.user.department) for a in demo] == [
        ("publicworks", "staff", "public-works"), ("waste", "staff", "waste"), ("supervisor", "supervisor", None),
        ("editor", "editor", None), ("admin", "admin", None)]
    assert len({a.password for a in demo}) == 5
    for account in demo:
        assert len(account.password) >= 16
        assert accounts.authenticate(account.user.username, account.password).username == account.user.username
    assert accounts.create_demo_accounts() == []
    assert accounts.count() == 5


def test_every_template_key_is_a_category_and_a_case_gets_its_own_before_the_defaults(desk):
    templates = load_templates(directory=DIRECTORY)
    pothole = DIRECTORY.category("pothole")
    case = desk.open_case(description="pothole on Main St", channel="web", conversation_id="web-1", sla=SLA.SIMPLE,
                          assignment=route_case(directory=DIRECTORY, category=pothole), category=pothole,
                          address="Main St")
    offered = templates.for_case(case)
    assert [t.title for t in offered] == [t.title for t in (*templates.root["pothole"], *templates.root[DEFAULT_KEY])]
    filled = fill(offered[0], case, DIRECTORY)
    assert "road damage at Main St" in filled and filled.endswith(f"Case {case.service_request_id}.")
    assert "${" not in filled
    uncategorised = desk.open_case(description="a question", channel="web", conversation_id="web-2",
                                   sla=SLA.REVIEW, assignment=route_case(directory=DIRECTORY))
    assert templates.for_case(uncategorised) == list(templates.root[DEFAULT_KEY])
    assert "Citizen Services has your case" in fill(templates.root[DEFAULT_KEY][0], uncategorised, DIRECTORY)


def test_templates_for_an_unknown_category_are_refused():
    templates = ResponseTemplates.model_validate({"potholes": [{"title": "t", "text": "x"}]})
    with pytest.raises(ValueError, match="response templates for unknown categories: potholes"):
        templates.check_categories(DIRECTORY)
