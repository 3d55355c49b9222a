"""Staff accounts, password hashes and response templates, on a real migrated SQLite file."""

from __future__ import annotations

import pytest

from handoff.directory import SLA, default_directory
from handoff.passwords import hash_password, verify_password
from handoff.replies import DEFAULT_KEY, ResponseTemplates, fill, load_templates
from handoff.routing import route_case
from handoff.service import Actor
from handoff.staff import StaffAccounts, StaffError, actor_of

DIRECTORY = default_directory()
PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(sessions) -> StaffAccounts:
    return StaffAccounts(sessions, DIRECTORY)


def test_a_password_hash_is_salted_scrypt_and_verifies_only_the_password():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$16384$8$1$")
    assert first != second  # a fresh salt each time
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)
    assert not verify_password("correct horse battery!", first)
    assert not verify_password(PASSWORD, "not a hash")
    assert not verify_password(PASSWORD, first.replace("scrypt", "md5", 1))


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
    ({"role": "admin"}, "unknown role 'admin'; one of: staff, head, supervisor, editor"),
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
        ("editor", "editor", None)]
    assert len({a.password for a in demo}) == 4
    for account in demo:
        assert len(account.password) >= 16
        assert accounts.authenticate(account.user.username, account.password).username == account.user.username
    assert accounts.create_demo_accounts() == []
    assert accounts.count() == 4


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
