"""Staff administration (administrators): accounts, the audit log and its CSV export; every user's own password.

Administrators are accounts of the role `admin`: account administration is not case work, so supervisors do not
have it, and administrators have no inbox (desk.web.auth.home_of sends them to the accounts page).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.api.deps import get_settings
from desk.web.auth import (
    ADMIN_PATH,
    INBOX_PATH,
    PageError,
    PageRoute,
    csrf_protected,
    current_admin,
    flash,
    get_audit,
    get_staff_accounts,
    home_of,
    keep_session,
    logged_in_user,
    page_context,
    sentence,
)
from desk.web.formatting import local_time
from desk.web.templates import templates
from handoff.audit import AuditFilter, AuditLog
from handoff.models import StaffUser
from handoff.passwords import temporary_password
from handoff.staff import ROLES, StaffAccounts, StaffError
from settings import Settings

router = APIRouter(prefix=INBOX_PATH, include_in_schema=False, route_class=PageRoute)
post_router = APIRouter(prefix=INBOX_PATH, include_in_schema=False, route_class=PageRoute,
                        dependencies=[Depends(csrf_protected)])
STAFF_PATH = f"{ADMIN_PATH}/staff"
AUDIT_PATH = f"{ADMIN_PATH}/audit"


# --- one's own password (every role) ---

def _password_page(request: Request, user: StaffUser, *, error: str | None = None,
                   status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "password.html", page_context(request, user, error=error),
                                      status_code=status_code)


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, user: StaffUser = Depends(logged_in_user)) -> HTMLResponse:
    return _password_page(request, user)


@post_router.post("/password")
def change_password(request: Request, current: str = Form(""), new: str = Form(""), confirm: str = Form(""),
                    user: StaffUser = Depends(logged_in_user), accounts: StaffAccounts = Depends(get_staff_accounts),
                    settings: Settings = Depends(get_settings)) -> Response:
    """The new password ends every other session of the account; this one stays logged in."""
    if new != confirm:
        return _password_page(request, user, error="The new password and its confirmation differ.", status_code=400)
    try:
        changed = accounts.change_password(user.username, current=current, new=new)
    except StaffError as error:
        return _password_page(request, user, error=sentence(error), status_code=400)
    keep_session(request, changed, settings)
    flash(request, "Your password is changed.")
    return RedirectResponse(home_of(changed), status_code=303)


# --- accounts ---

def _accounts_page(request: Request, admin: StaffUser, accounts: StaffAccounts, *, error: str | None = None,
                   typed: dict[str, str] | None = None, created: tuple[str, str] | None = None,
                   status_code: int = 200) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    users = [{"user": u, "disabled": local_time(u.disabled_at, settings.city_timezone) if u.disabled_at else None}
             for u in accounts.all()]
    return templates.TemplateResponse(request, "admin_staff.html", page_context(
        request, admin, users=users, roles=ROLES, departments=accounts.directory.departments, error=error,
        typed=typed or {}, created=created), status_code=status_code)


@router.get("/admin/staff", response_class=HTMLResponse)
def accounts_page(request: Request, admin: StaffUser = Depends(current_admin),
                  accounts: StaffAccounts = Depends(get_staff_accounts)) -> HTMLResponse:
    return _accounts_page(request, admin, accounts)


@post_router.post("/admin/staff")
def create_account(request: Request, username: str = Form(""), display_name: str = Form(""), role: str = Form(""),
                   department: str = Form(""), email: str = Form(""), admin: StaffUser = Depends(current_admin),
                   accounts: StaffAccounts = Depends(get_staff_accounts)) -> Response:
    """A new account with a temporary password, shown once on the page that answers (never stored in clear)."""
    password = temporary_password()
    try:
        user = accounts.add(username=username, display_name=display_name, password=password, role=role,
                            department=department or None, actor=admin.username, temporary=True, email=email)
    except StaffError as error:
        return _accounts_page(request, admin, accounts, error=sentence(error), status_code=400,
                              typed={"username": username, "display_name": display_name, "role": role,
                                     "department": department, "email": email})
    return _accounts_page(request, admin, accounts, created=(user.username, password))


def _account(accounts: StaffAccounts, username: str) -> StaffUser:
    user = accounts.get(username)
    if user is None:
        raise PageError(404, "No such account", f"There is no staff account {username!r}.")
    return user


def _account_page(request: Request, admin: StaffUser, accounts: StaffAccounts, username: str, *,
                  error: str | None = None, temporary: str | None = None, status_code: int = 200) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    user = _account(accounts, username)
    tz = settings.city_timezone
    history = request.app.state.audit.page(AuditFilter(subject=user.username), size=20).entries
    return templates.TemplateResponse(request, "admin_account.html", page_context(
        request, admin, account=user, roles=ROLES, departments=accounts.directory.departments, error=error,
        temporary=temporary, disabled=local_time(user.disabled_at, tz) if user.disabled_at else None,
        expires=local_time(user.password_expires_at, tz) if user.password_expires_at else None,
        history=[{"e": e, "at": local_time(e.at, tz)} for e in history]), status_code=status_code)


@router.get("/admin/staff/{username}", response_class=HTMLResponse)
def account_page(request: Request, username: str, admin: StaffUser = Depends(current_admin),
                 accounts: StaffAccounts = Depends(get_staff_accounts)) -> HTMLResponse:
    return _account_page(request, admin, accounts, username)


def _account_change(request: Request, admin: StaffUser, accounts: StaffAccounts, username: str, action: Any,
                    done: str) -> Response:
    _account(accounts, username)
    try:
        action()
    except StaffError as error:
        return _account_page(request, admin, accounts, username, error=sentence(error), status_code=400)
    flash(request, done)
    return RedirectResponse(f"{STAFF_PATH}/{username}", status_code=303)


@post_router.post("/admin/staff/{username}/role")
def change_role(request: Request, username: str, role: str = Form(""), department: str = Form(""),
                admin: StaffUser = Depends(current_admin),
                accounts: StaffAccounts = Depends(get_staff_accounts)) -> Response:
    return _account_change(request, admin, accounts, username,
                           lambda: accounts.change_role(username, role=role, department=department or None,
                                                        actor=admin.username),
                           f"{username}'s role and department are saved.")


@post_router.post("/admin/staff/{username}/details")
def change_details(request: Request, username: str, display_name: str = Form(""), email: str = Form(""),
                   admin: StaffUser = Depends(current_admin),
                   accounts: StaffAccounts = Depends(get_staff_accounts)) -> Response:
    """The name and the e-mail address the officer's own notices go to (empty: none)."""
    return _account_change(request, admin, accounts, username,
                           lambda: accounts.edit(username, email=email, display_name=display_name,
                                                 actor=admin.username),
                           f"{username}'s name and e-mail address are saved.")


@post_router.post("/admin/staff/{username}/disable")
def disable(request: Request, username: str, reason: str = Form(""), admin: StaffUser = Depends(current_admin),
            accounts: StaffAccounts = Depends(get_staff_accounts)) -> Response:
    return _account_change(request, admin, accounts, username,
                           lambda: accounts.disable(username, actor=admin.username, reason=reason),
                           f"{username} is disabled: they cannot log in, and their open sessions have ended.")


@post_router.post("/admin/staff/{username}/enable")
def enable(request: Request, username: str, admin: StaffUser = Depends(current_admin),
           accounts: StaffAccounts = Depends(get_staff_accounts)) -> Response:
    return _account_change(request, admin, accounts, username,
                           lambda: accounts.enable(username, actor=admin.username),
                           f"{username} can log in again.")


@post_router.post("/admin/staff/{username}/reset-password")
def reset_password(request: Request, username: str, admin: StaffUser = Depends(current_admin),
                   accounts: StaffAccounts = Depends(get_staff_accounts)) -> Response:
    """The temporary password is shown on this answer only (no redirect: it never travels in a cookie)."""
    _account(accounts, username)
    password = accounts.reset_password(username, actor=admin.username)
    return _account_page(request, admin, accounts, username, temporary=password)


# --- the audit log ---

def _day(value: str, timezone: str, *, end: bool) -> datetime | None:
    """A day typed as YYYY-MM-DD, in the city's time: its start (or the next day's start, for `end`)."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    start = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
    return start + timedelta(days=1) if end else start


def _filters(request: Request, actor: str, action: str, subject: str, since: str,
             until: str) -> tuple[AuditFilter, str | None]:
    tz = request.app.state.settings.city_timezone
    error = None
    for label, typed in (("From", since), ("To", until)):
        if typed.strip() and _day(typed, tz, end=False) is None:
            error = f"{label}: give a day as YYYY-MM-DD (for example 2026-12-06); it was ignored."
    return AuditFilter(actor=actor, action=action, subject=subject, since=_day(since, tz, end=False),
                       until=_day(until, tz, end=True)), error


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, actor: str = "", action: str = "", subject: str = "", since: str = "",
               until: str = "", page: int = 1, admin: StaffUser = Depends(current_admin),
               audit_log: AuditLog = Depends(get_audit)) -> HTMLResponse:
    """Newest first, filtered by who, what (an action or its area), whom, and days."""
    filters, error = _filters(request, actor, action, subject, since, until)
    found = audit_log.page(filters, page=page)
    typed = {"actor": actor, "action": action, "subject": subject, "since": since, "until": until}
    query = urlencode({k: v for k, v in typed.items() if v})
    tz = request.app.state.settings.city_timezone
    return templates.TemplateResponse(request, "admin_audit.html", page_context(
        request, admin, found=found, rows=[{"e": e, "at": local_time(e.at, tz)} for e in found.entries],
        typed=typed, actions=audit_log.actions(), error=error, query=query,
        export=f"{AUDIT_PATH}.csv" + (f"?{query}" if query else "")), status_code=400 if error else 200)


@router.get("/admin/audit.csv")
def audit_export(request: Request, actor: str = "", action: str = "", subject: str = "", since: str = "",
                 until: str = "", admin: StaffUser = Depends(current_admin),
                 audit_log: AuditLog = Depends(get_audit)) -> Response:
    filters, _ = _filters(request, actor, action, subject, since, until)
    return Response(audit_log.export_csv(filters), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="citydesk-audit.csv"'})

