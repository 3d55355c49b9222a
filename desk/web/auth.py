"""Staff sessions: the signed cookie, CSRF tokens, the logged-in user, and the login and logout pages."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.middleware.sessions import SessionMiddleware

from desk.api.deps import get_settings
from desk.api.errors import DOMAIN_ERRORS, status_of
from desk.web.templates import templates
from disclosure.staff_review import OriginalsRefused, TranscriptNotFound
from handoff import audit
from handoff.audit import AuditLog
from handoff.logins import LoginThrottle, Throttled
from handoff.models import Role, StaffUser
from handoff.staff import INBOX_ROLES, StaffAccounts
from knowledge_base.lifecycle import EntryNotFound
from settings import Settings

SESSION_COOKIE = "citydesk_session"
SESSION_MAX_AGE_S = 12 * 60 * 60  # a working day; then log in again
INBOX_PATH = "/inbox"
EDITOR_PATH = "/editor"
REPORTS_PATH = "/reports"
LOGIN_PATH = f"{INBOX_PATH}/login"
PASSWORD_PATH = f"{INBOX_PATH}/password"
ADMIN_PATH = f"{INBOX_PATH}/admin"
LOGIN_FAILED = "Wrong username or password."
LOGIN_REFUSED = {"disabled": "This account is disabled. Ask an administrator to enable it again.",
                 "expired": "This temporary password has expired. Ask an administrator for a new one."}
MUST_CHANGE_PASSWORD = "Choose a new password now: the one you logged in with was temporary."


def throttled_message(throttled: Throttled) -> str:
    minutes = f"{throttled.minutes} minute{'s' if throttled.minutes != 1 else ''}"
    if throttled.reason == "account":
        return (f"Too many failed logins for this account. Logging in to it is blocked for {minutes}; "
                "try again after that, or ask an administrator to reset the password.")
    return f"Too many failed logins from your network address. Try again in {minutes}."
FORM_REJECTED = ("This form was not sent from a staff page of the desk, or your session has changed since the page "
                 "was loaded. Nothing was done. Go back, reload the page and send it again.")


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class PasswordChangeRequired(Exception):
    """The user logged in with a temporary password: the password page, before anything else."""


class PageError(Exception):
    """A request refused with a page that says why."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message = status_code, title, message


class PageRoute(APIRoute):
    """Turns LoginRequired into a redirect to the login page, and PageError or a domain error into the error page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                back = request.url.path if request.method == "GET" else section_of(request.url.path)
                if request.method == "GET" and request.url.query:
                    back += f"?{request.url.query}"
                return RedirectResponse(f"{LOGIN_PATH}?next={quote(back)}", status_code=303)
            except PasswordChangeRequired:
                return RedirectResponse(PASSWORD_PATH, status_code=303)
            except PageError as error:
                return error_page(request, error)
            except DOMAIN_ERRORS as error:
                page = domain_page(request, error)
                if page is None:
                    raise
                return error_page(request, page)

        return guarded


def domain_page(request: Request, error: Exception) -> PageError | None:
    """A domain error as the staff error page: its status from desk.api.errors, in the staff's words.

    A refusal of what a form asked (a case already closed, a redaction without a reason) is not shown here but
    on the page the form was on, by the page's own route.
    """
    status = status_of(error)
    if status is None:
        return None
    params = request.path_params
    if isinstance(error, EntryNotFound):
        return PageError(status, "Entry not found", f"There is no knowledge base entry {error.entry_id!r}.")
    if isinstance(error, TranscriptNotFound):  # a message (the redaction forms), else a conversation
        if "record_id" in params:
            return PageError(status, "Message not found", sentence(error))
        return PageError(status, "Conversation not found", f"There is no conversation {params.get('conversation_id')}.")
    if isinstance(error, OriginalsRefused):  # a change (the redaction forms), else reading the originals
        if "record_id" in params:
            return PageError(status, "Not allowed", f"Nothing was changed: {error}.")
        return PageError(status, "Not your conversation", f"You cannot read these originals: {error}.")
    if isinstance(error, LookupError) and "service_request_id" in params:
        # the same page whether the case does not exist or is another department's: no case numbers leak
        return PageError(status, "Case not found",
                         f"There is no case {params['service_request_id'].upper()} in your inbox.")
    return PageError(status, {404: "Not found", 403: "Not allowed"}.get(status, "Not possible"), sentence(error))


def sentence(error: Exception) -> str:
    """The domain's messages are phrases in lower case (they follow 'because'); on a page they stand alone."""
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def section_of(path: str) -> str:
    """The staff pages' section a path is in: the editor's, else the inbox's."""
    return EDITOR_PATH if path.startswith(EDITOR_PATH) else INBOX_PATH


def home_of(user: StaffUser) -> str:
    """Where a user works: editors in the editor, administrators on the accounts page, broadcasters on the
    broadcasts page, others in the inbox."""
    if user.role == Role.ADMIN:
        return f"{ADMIN_PATH}/staff"
    if user.role == Role.BROADCASTER:
        return f"{INBOX_PATH}/broadcasts"
    return EDITOR_PATH if user.role == Role.EDITOR else INBOX_PATH


def add_sessions(app: FastAPI, settings: Settings) -> None:
    """Signed session cookies for the staff pages (inbox, editor): HttpOnly, SameSite=Lax."""
    app.add_middleware(SessionMiddleware, secret_key=settings.resolved_secret_key, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE_S, path="/", same_site="lax",
                       https_only=settings.secure_cookies)


def get_staff_accounts(request: Request) -> StaffAccounts:
    return request.app.state.staff


def get_audit(request: Request) -> AuditLog:
    return request.app.state.audit


def get_login_throttle(request: Request) -> LoginThrottle:
    return request.app.state.login_throttle


def client_address(request: Request) -> str:
    """The address the request came from (behind a reverse proxy: run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


def error_page(request: Request, error: PageError) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    return templates.TemplateResponse(request, "staff_error.html", page_context(request, user, title=error.title,
                                                                                message=error.message),
                                      status_code=error.status_code)


def page_context(request: Request, user: StaffUser | None, **values: Any) -> dict[str, Any]:
    """What every staff page shows: the city, the user, a CSRF token and a one-time notice."""
    return {"city_name": request.app.state.settings.city_name, "user": user, "csrf_token": csrf_token(request),
            "flash": request.session.pop("flash", None), "home": home_of(user) if user else INBOX_PATH, **values}


def flash(request: Request, message: str) -> None:
    """A notice shown once, on the next page (after a redirect)."""
    request.session["flash"] = message


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created with the session."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def csrf_protected(request: Request) -> None:
    """A dependency of every POST: the form's hidden csrf_token must be this session's."""
    submitted = (await request.form()).get("csrf_token")
    expected = request.session.get("csrf")
    if not (isinstance(submitted, str) and expected and hmac.compare_digest(submitted, expected)):
        raise PageError(403, "Form rejected", FORM_REJECTED)


def _fingerprint(user: StaffUser, secret_key: str) -> str:
    """Ties a session to the password it was opened with: a new password ends the old sessions."""
    return hmac.new(secret_key.encode(), user.password_hash.encode(), hashlib.sha256).hexdigest()[:32]


def keep_session(request: Request, user: StaffUser, settings: Settings) -> None:
    """After the user changed their own password: this session stays, the account's other sessions end."""
    request.session["auth"] = _fingerprint(user, settings.resolved_secret_key)


def logged_in_user(request: Request, accounts: StaffAccounts = Depends(get_staff_accounts),
                   settings: Settings = Depends(get_settings)) -> StaffUser:
    """The user of this session, whatever their role; without a valid session, the login page."""
    username = request.session.get("user")
    user = accounts.get(username) if isinstance(username, str) else None
    if (user is None or user.disabled_at is not None
            or request.session.get("auth") != _fingerprint(user, settings.resolved_secret_key)):
        request.session.pop("user", None)  # a disabled account's sessions end here
        raise LoginRequired
    request.state.user = user
    if user.must_change_password and request.url.path != PASSWORD_PATH:
        raise PasswordChangeRequired
    return user


def current_admin(user: StaffUser = Depends(logged_in_user)) -> StaffUser:
    """The logged-in administrator (accounts, audit log); anyone else is refused."""
    if user.role != Role.ADMIN:
        raise PageError(403, "Administrators only",
                        f"Staff accounts and the audit log are for administrators; {user.username}'s role is "
                        f"{user.role}.")
    return user


def current_editor(user: StaffUser = Depends(logged_in_user)) -> StaffUser:
    """The logged-in content editor; anyone else is refused (no login: the login page)."""
    if user.role != Role.EDITOR:
        raise PageError(403, "No editor for this account",
                        f"The knowledge base editor is for content editors; {user.username}'s role is {user.role}.")
    return user


def current_user(user: StaffUser = Depends(logged_in_user)) -> StaffUser:
    """The logged-in staff member or supervisor; anyone else goes to the login page."""
    if user.role not in INBOX_ROLES:
        raise PageError(403, "No inbox for this account",
                        f"The inbox is for department staff and supervisors; {user.username} is an {user.role}.")
    return user


def safe_next(target: str | None) -> str:
    """Only a path inside the inbox, the editor or the reports ('' otherwise): a login link cannot send anyone to
    another site."""
    if (target and target.startswith((INBOX_PATH, EDITOR_PATH, REPORTS_PATH)) and "//" not in target
            and "\\" not in target):
        return target
    return ""


router = APIRouter(prefix=INBOX_PATH, include_in_schema=False, route_class=PageRoute)


def _login_page(request: Request, *, next_path: str, username: str = "", error: str | None = None,
                notice: str | None = None, status_code: int = 200,
                headers: dict[str, str] | None = None) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html",
                                      page_context(request, None, next_path=next_path, username=username,
                                                   error=error, notice=notice),
                                      status_code=status_code, headers=headers)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, logged_out: bool = False) -> HTMLResponse:
    return _login_page(request, next_path=safe_next(next),
                       notice="You are logged out." if logged_out else None)


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(csrf_protected)])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form(""),
          accounts: StaffAccounts = Depends(get_staff_accounts), audit_log: AuditLog = Depends(get_audit),
          throttle: LoginThrottle = Depends(get_login_throttle),
          settings: Settings = Depends(get_settings)) -> Response:
    """Throttled per account and per address (handoff/logins.py); every attempt goes into the audit log."""
    address = client_address(request)
    subject = username.strip().lower()[:100] or "(empty)"
    throttled = throttle.check(username, address)
    if throttled is not None:  # refused before the password is even checked
        audit_log.record("anonymous", audit.LOGIN_THROTTLED, subject,
                         f"from {address}: too many failures for the {throttled.reason}")
        return _login_page(request, next_path=safe_next(next), username=username,
                           error=throttled_message(throttled), status_code=429,
                           headers={"Retry-After": str(throttled.retry_after_s)})
    result = accounts.login(username, password)
    if result.user is None:
        throttle.failed(username, address)
        audit_log.record("anonymous", audit.LOGIN_FAILED, subject, f"from {address}: {result.reason}")
        return _login_page(request, next_path=safe_next(next), username=username,
                           error=LOGIN_REFUSED.get(result.reason, LOGIN_FAILED), status_code=401)
    user = result.user
    throttle.succeeded(user.username)
    audit_log.record(user.username, audit.LOGIN_SUCCEEDED, user.username, f"from {address}")
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
    request.session.update(user=user.username, auth=_fingerprint(user, settings.resolved_secret_key),
                           csrf=secrets.token_urlsafe(32))
    if user.must_change_password:
        flash(request, MUST_CHANGE_PASSWORD)
        return RedirectResponse(PASSWORD_PATH, status_code=303)
    return RedirectResponse(safe_next(next) or home_of(user), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protected)])
def logout(request: Request, audit_log: AuditLog = Depends(get_audit)) -> RedirectResponse:
    username = request.session.get("user")
    if isinstance(username, str):
        audit_log.record(username, audit.LOGOUT, username)
    request.session.clear()
    return RedirectResponse(f"{LOGIN_PATH}?logged_out=1", status_code=303)
