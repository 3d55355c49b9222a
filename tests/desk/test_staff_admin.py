"""Staff administration over HTTP, through the real login form: throttling (per account and per address), the
administrator's pages (accounts, temporary passwords, disabling, roles), one's own password, and the audit log
(page, filters, CSV) with logins, account changes, case assignments and views of unredacted originals."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from desk.web.auth import LOGIN_FAILED, LOGIN_REFUSED, MUST_CHANGE_PASSWORD
from handoff.audit import AuditEntry
from settings import Settings
from tests.desk.inbox_support import PASSWORD, add_users, anonymous, element, logged_in, token
from tests.handoff.conftest import START, FakeClock, open_case
from tests.support import free_port

ADMIN = "ada"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("staff-admin"), rasa_port=free_port())


@pytest.fixture(scope="module")
def app(settings):
    application = create_app(settings)
    with TestClient(application):
        add_users(application.state.staff)
        application.state.staff.add(username=ADMIN, display_name="Ada Admin", password=PASSWORD, role="admin")
        yield application


@pytest.fixture(scope="module")
def throttle_clock(app) -> FakeClock:
    fake = FakeClock(START)
    app.state.login_throttle.clock = fake
    return fake


@pytest.fixture
def clock(throttle_clock) -> FakeClock:
    """The login throttle's clock, moved by hand; each test starts an hour later, with no failures in the window."""
    throttle_clock.advance(hours=1)
    return throttle_clock


def try_login(client: TestClient, username: str, password: str):
    return client.post("/inbox/login", data={"username": username, "password": password, "next": "",
                                              "csrf_token": token(client.get("/inbox/login"))})


def audit(app, **where: str) -> list[tuple[str, str, str, str]]:
    """(actor, action, subject, detail) of the audit log, oldest first."""
    with app.state.sessions() as session:
        lines = session.query(AuditEntry).order_by(AuditEntry.id).all()
    return [(e.actor, e.action, e.subject, e.detail) for e in lines
            if all(getattr(e, k) == v for k, v in where.items())]


def form(client: TestClient, page: str, action: str, **fields: str):
    return client.post(action, data={"csrf_token": token(client.get(page)), **fields})


# --- login throttling ----------------------------------------------------------------------------------

def test_five_failures_lock_the_account_for_fifteen_minutes_with_429_and_retry_after(app, clock):
    client = anonymous(app)
    for _ in range(5):
        failed = try_login(client, "wes", "not his password")
        assert failed.status_code == 401 and element(failed, "login-error") == LOGIN_FAILED
        clock.advance(seconds=30)
    # the right password no longer helps: refused before it is checked
    locked = try_login(client, "wes", PASSWORD)
    assert locked.status_code == 429
    retry = int(locked.headers["Retry-After"])
    assert retry == 15 * 60 - 5 * 30  # the first failure leaves the window 15 minutes after it happened
    message = element(locked, "login-error")
    assert message.startswith("Too many failed logins for this account. Logging in to it is blocked for 13 minutes")
    assert 'id="login"' in locked.text  # the login page itself, with its form
    page = client.get("/inbox/login")
    assert page.status_code == 200 and 'id="login-button"' in page.text
    # another account from another session is not locked by wes's failures
    assert try_login(anonymous(app), "rosa", PASSWORD).status_code == 303
    clock.advance(seconds=retry - 1)
    assert try_login(client, "wes", PASSWORD).status_code == 429
    clock.advance(seconds=1)
    back = try_login(client, "wes", PASSWORD)
    assert back.status_code == 303 and back.headers["location"] == "/inbox"
    wes = [(action, detail) for _, action, _, detail in audit(app, subject="wes")]
    assert wes[-8:] == [("login.failed", "from testclient: wrong")] * 5 + [
        ("login.throttled", "from testclient: too many failures for the account")] * 2 + [
        ("login.succeeded", "from testclient")]


def test_failures_from_one_address_are_throttled_across_accounts(app, clock):
    client = anonymous(app)
    for number in range(20):
        assert try_login(client, f"guess{number}", "password guess").status_code == 401
    refused = try_login(client, "sam", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 15 * 60
    assert element(refused, "login-error") == ("Too many failed logins from your network address. Try again in "
                                               "15 minutes.")
    clock.advance(minutes=15)
    assert try_login(client, "sam", PASSWORD).status_code == 303


# --- administration ------------------------------------------------------------------------------------

def test_only_administrators_reach_the_accounts_and_audit_pages(app, clock):
    for username in ("rosa", "sam", "eddie"):
        client = logged_in(app, username)
        for page in ("/inbox/admin/staff", "/inbox/admin/audit", "/inbox/admin/audit.csv", "/inbox/admin/staff/rosa"):
            response = client.get(page)
            assert response.status_code == 403, (username, page)
            assert element(response, "error-title") == "Administrators only"
    assert anonymous(app).get("/inbox/admin/staff").headers["location"] == "/inbox/login?next=/inbox/admin/staff"
    ada = anonymous(app)
    arrived = try_login(ada, ADMIN, PASSWORD)
    assert arrived.headers["location"] == "/inbox/admin/staff"  # an administrator's home
    listing = ada.get("/inbox/admin/staff")
    assert re.findall(r'data-user="([^"]+)"', listing.text) == ["ada", "eddie", "rosa", "wes", "sam"]


def test_a_new_account_gets_a_temporary_password_that_must_be_changed_at_the_first_login(app, clock):
    ada = logged_in(app, ADMIN)
    refused = form(ada, "/inbox/admin/staff", "/inbox/admin/staff", username="tom", display_name="Tom Tanaka",
                   role="staff", department="")
    assert refused.status_code == 400
    assert element(refused, "add-error") == "A staff member belongs to a department (--department)."
    added = form(ada, "/inbox/admin/staff", "/inbox/admin/staff", username="tom", display_name="Tom Tanaka",
                 role="staff", department="waste")
    assert added.status_code == 200
    temporary = element(added, "temporary-password")
    assert len(temporary) >= 16
    assert 'data-user="tom"' in added.text and "temporary password" in added.text
    tom = anonymous(app)
    first = try_login(tom, "tom", temporary)
    assert first.headers["location"] == "/inbox/password"
    # every page sends him to the password page until he has chosen his own
    assert tom.get("/inbox").headers["location"] == "/inbox/password"
    page = tom.get("/inbox/password")
    assert element(page, "flash") == MUST_CHANGE_PASSWORD and 'id="must-change"' in page.text
    mismatch = form(tom, "/inbox/password", "/inbox/password", current=temporary, new="tom's own password",
                    confirm="tom's other password")
    assert element(mismatch, "password-error") == "The new password and its confirmation differ."
    wrong = form(tom, "/inbox/password", "/inbox/password", current="not the temporary one",
                 new="tom's own password", confirm="tom's own password")
    assert wrong.status_code == 400 and element(wrong, "password-error") == "The current password is wrong."
    changed = form(tom, "/inbox/password", "/inbox/password", current=temporary, new="tom's own password",
                   confirm="tom's own password")
    assert changed.headers["location"] == "/inbox"
    assert element(tom.get("/inbox"), "flash") == "Your password is changed."  # still logged in
    assert try_login(anonymous(app), "tom", temporary).status_code == 401
    assert try_login(anonymous(app), "tom", "tom's own password").status_code == 303
    assert [(actor, action) for actor, action, _, _ in audit(app, subject="tom")] == [
        ("ada", "account.created"), ("tom", "login.succeeded"), ("tom", "account.password_changed"),
        ("anonymous", "login.failed"), ("tom", "login.succeeded")]


def test_a_disabled_account_cannot_log_in_and_its_open_session_ends(app, clock):
    wes = logged_in(app, "wes")
    assert wes.get("/inbox").status_code == 200
    ada = logged_in(app, ADMIN)
    done = form(ada, "/inbox/admin/staff/wes", "/inbox/admin/staff/wes/disable", reason="left the city")
    assert done.headers["location"] == "/inbox/admin/staff/wes"
    page = ada.get("/inbox/admin/staff/wes")
    assert element(page, "flash") == "wes is disabled: they cannot log in, and their open sessions have ended."
    assert element(page, "account-state").startswith("disabled since")
    assert wes.get("/inbox").headers["location"] == "/inbox/login?next=/inbox"
    refused = try_login(anonymous(app), "wes", PASSWORD)
    assert refused.status_code == 401 and element(refused, "login-error") == LOGIN_REFUSED["disabled"]
    self_disable = form(ada, "/inbox/admin/staff/ada", "/inbox/admin/staff/ada/disable", reason="")
    assert element(self_disable, "account-error") == "You cannot disable your own account."
    form(ada, "/inbox/admin/staff/wes", "/inbox/admin/staff/wes/enable")
    assert try_login(anonymous(app), "wes", PASSWORD).status_code == 303
    assert [(a, act, d) for a, act, _, d in audit(app, subject="wes") if act.startswith("account.")] == [
        ("system", "account.created", "role staff, department waste"), ("ada", "account.disabled", "left the city"),
        ("ada", "account.enabled", "")]


def test_role_and_department_changes_and_a_password_reset_end_the_old_sessions(app, clock):
    ada = logged_in(app, ADMIN)
    app.state.staff.add(username="lee", display_name="Lee Park", password=PASSWORD, role="staff",
                        department="public-works")
    lee = logged_in(app, "lee")
    assert "Public Works" in lee.get("/inbox").text
    form(ada, "/inbox/admin/staff/lee", "/inbox/admin/staff/lee/role", role="staff", department="waste")
    assert element(ada.get("/inbox/admin/staff/lee"), "account-department") == "waste"
    assert "Open cases · Waste" in lee.get("/inbox").text  # the next page already shows the new department
    bad = form(ada, "/inbox/admin/staff/lee", "/inbox/admin/staff/lee/role", role="root", department="")
    assert bad.status_code == 400 and element(bad, "account-error").startswith("Unknown role 'root'")
    reset = form(ada, "/inbox/admin/staff/lee", "/inbox/admin/staff/lee/reset-password")
    temporary = element(reset, "temporary-password")
    assert lee.get("/inbox").headers["location"] == "/inbox/login?next=/inbox"  # the old session ended
    assert try_login(anonymous(app), "lee", PASSWORD).status_code == 401
    assert try_login(anonymous(app), "lee", temporary).headers["location"] == "/inbox/password"
    assert [act for _, act, _, _ in audit(app, subject="lee") if act.startswith("account.")] == [
        "account.created", "account.department_changed", "account.password_reset"]


def test_an_administrator_gives_and_changes_an_officers_own_e_mail_address(app, clock):
    ada = logged_in(app, ADMIN)
    created = form(ada, "/inbox/admin/staff", "/inbox/admin/staff", username="noor", display_name="Noor Haddad",
                   role="staff", department="waste", email="noor.h@alderbrook.example")
    assert created.status_code == 200 and element(created, "temporary-password")
    assert element(ada.get("/inbox/admin/staff/noor"), "account-email") == "noor.h@alderbrook.example"
    bad = form(ada, "/inbox/admin/staff", "/inbox/admin/staff", username="omar", display_name="Omar",
               role="staff", department="waste", email="omar at city")
    assert bad.status_code == 400 and element(bad, "add-error") == (
        "'omar at city' is not an e-mail address (name@example.org).")
    assert app.state.staff.get("omar") is None
    saved = form(ada, "/inbox/admin/staff/noor", "/inbox/admin/staff/noor/details", display_name="Noor Haddad",
                 email="n.haddad@alderbrook.example")
    assert saved.status_code == 303
    assert element(ada.get("/inbox/admin/staff/noor"), "account-email") == "n.haddad@alderbrook.example"
    refused = form(ada, "/inbox/admin/staff/noor", "/inbox/admin/staff/noor/details", display_name="Noor Haddad",
                   email="n.haddad@")
    assert refused.status_code == 400 and element(refused, "account-error").endswith("is not an e-mail address "
                                                                                      "(name@example.org).")
    assert audit(app, subject="noor", action="account.email_changed") == [
        (ADMIN, "account.email_changed", "noor", "noor.h@alderbrook.example → n.haddad@alderbrook.example")]


# --- the audit log ---------------------------------------------------------------------------------------

def test_assignments_and_views_of_originals_are_audited_and_the_log_filters_and_exports(app, clock):
    case = open_case(app.state.cases, category="pothole", text="Pothole outside 3 Oak Lane, call me on 555-0101",
                     conversation_id="web-audit-1")
    number = case.service_request_id
    assert try_login(anonymous(app), "rosa", "a wrong password").status_code == 401
    rosa = logged_in(app, "rosa")
    claim_page = rosa.get(f"/inbox/cases/{number}")
    rosa.post(f"/inbox/cases/{number}/claim", data={"csrf_token": token(claim_page)})
    assert rosa.get("/inbox/conversations/web-audit-1").status_code == 200
    sam = logged_in(app, "sam")
    # a case someone else holds is taken over with a reason, never by a plain claim
    sam.post(f"/inbox/cases/{number}/assign", data={"csrf_token": token(sam.get(f"/inbox/cases/{number}")),
                                                     "move": "take_over", "reason": "Rosa is on leave",
                                                     "seen_assignee": "rosa"})
    assert audit(app, subject=number) == [("rosa", "case.assigned", number, "to rosa"),
                                          ("sam", "case.taken_over", number, "from rosa to sam: Rosa is on leave")]
    assert audit(app, subject="web-audit-1") == [("rosa", "transcript.originals_viewed", "web-audit-1",
                                                  "as staff")]
    wes = logged_in(app, "wes")  # another department: refused, nothing shown, nothing logged
    assert wes.get("/inbox/conversations/web-audit-1").status_code in (403, 404)
    assert len(audit(app, subject="web-audit-1")) == 1

    ada = logged_in(app, ADMIN)
    page = ada.get("/inbox/admin/audit", params={"subject": number})
    assert page.status_code == 200
    assert re.findall(r'data-action="([^"]+)"', page.text) == ["case.taken_over", "case.assigned"]  # newest first
    assert element(page, "audit-total") == "2 lines"
    logins = ada.get("/inbox/admin/audit", params={"action": "login", "actor": "anonymous"})
    assert "login.failed" in re.findall(r'data-action="([^"]+)"', logins.text)
    assert set(re.findall(r'data-action="([^"]+)"', logins.text)) <= {"login.failed", "login.throttled"}
    nothing = ada.get("/inbox/admin/audit", params={"subject": number, "until": "2000-01-01"})
    assert element(nothing, "audit-total") == "0 lines"
    bad_day = ada.get("/inbox/admin/audit", params={"since": "yesterday"})
    assert bad_day.status_code == 400
    assert element(bad_day, "audit-error").startswith("From: give a day as YYYY-MM-DD")
    export = ada.get(re.search(r'href="([^"]+)" id="audit-export"', page.text).group(1).replace("&amp;", "&"))
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["actor"], r["action"], r["subject"], r["detail"]) for r in rows] == [
        ("rosa", "case.assigned", number, "to rosa"),
        ("sam", "case.taken_over", number, "from rosa to sam: Rosa is on leave")]
    everything = list(csv.DictReader(io.StringIO(ada.get("/inbox/admin/audit.csv").text)))
    assert {"login.succeeded", "login.failed", "account.created", "case.assigned",
            "transcript.originals_viewed"} <= {r["action"] for r in everything}


def test_an_editor_with_a_temporary_password_is_sent_to_choose_one_by_the_editor_and_its_api(app, clock):
    temporary = app.state.staff.reset_password("eddie", actor=ADMIN)
    eddie = anonymous(app)
    assert try_login(eddie, "eddie", temporary).headers["location"] == "/inbox/password"
    assert eddie.get("/editor").headers["location"] == "/inbox/password"
    api = eddie.get("/api/kb/entries")
    assert api.status_code == 403
    assert api.json()["detail"] == ("This account logged in with a temporary password: choose a new one at "
                                    "/inbox/password first.")
    form(eddie, "/inbox/password", "/inbox/password", current=temporary, new=PASSWORD + "!", confirm=PASSWORD + "!")
    assert eddie.get("/api/kb/entries").status_code == 200
