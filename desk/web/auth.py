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
from desk.settings import Settings
from desk.web.templates import templates
from handoff.models import StaffUser
from handoff.staff import INBOX_ROLES, StaffAccounts

SESSION_COOKIE = "citydesk_session"
SESSION_MAX_AGE_S = 12 * 60 * 60  # a working day; then log in again
INBOX_PATH = "/inbox"
LOGIN_PATH = f"{INBOX_PATH}/login"
LOGIN_FAILED = "Wrong username or password."
FORM_REJECTED = ("This form was not sent from a page of the inbox, or your session has changed since the page was "
                 "loaded. Nothing was done. Go back, reload the page and send it again.")


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page."""


class PageError(Exception):
    """A request refused with a page that says why."""

    def __init__(self, status_code: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.title, self.message = status_code, title, message


class PageRoute(APIRoute):
    """Turns LoginRequired into a redirect to the login page and PageError into an HTML page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                back = request.url.path if request.method == "GET" else INBOX_PATH
                if request.method == "GET" and request.url.query:
                    back += f"?{request.url.query}"
                return RedirectResponse(f"{LOGIN_PATH}?next={quote(back)}", status_code=303)
            except PageError as error:
                return error_page(request, error)

        return guarded


def add_sessions(app: FastAPI, settings: Settings) -> None:
    """Signed session cookies for the inbox pages only: HttpOnly, SameSite=Lax, scoped to /inbox."""
    app.add_middleware(SessionMiddleware, secret_key=settings.resolved_secret_key, session_cookie=SESSION_COOKIE,
                       max_age=SESSION_MAX_AGE_S, path=INBOX_PATH, same_site="lax",
                       https_only=settings.secure_cookies)


def get_staff_accounts(request: Request) -> StaffAccounts:
    return request.app.state.staff


def error_page(request: Request, error: PageError) -> HTMLResponse:
    user = getattr(request.state, "user", None)
    return templates.TemplateResponse(request, "staff_error.html", page_context(request, user, title=error.title,
                                                                                message=error.message),
                                      status_code=error.status_code)


def page_context(request: Request, user: StaffUser | None, **values: Any) -> dict[str, Any]:
    """What every staff page shows: the city, the user, a CSRF token and a one-time notice."""
    return {"city_name": request.app.state.settings.city_name, "user": user, "csrf_token": csrf_token(request),
            "flash": request.session.pop("flash", None), **values}


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


def current_user(request: Request, accounts: StaffAccounts = Depends(get_staff_accounts),
                 settings: Settings = Depends(get_settings)) -> StaffUser:
    """The logged-in staff member or supervisor; anyone else goes to the login page."""
    username = request.session.get("user")
    user = accounts.get(username) if isinstance(username, str) else None
    if user is None or request.session.get("auth") != _fingerprint(user, settings.resolved_secret_key):
        request.session.pop("user", None)
        raise LoginRequired
    request.state.user = user
    if user.role not in INBOX_ROLES:
        raise PageError(403, "No inbox for this account",
                        f"The inbox is for department staff and supervisors; {user.username} is an {user.role}.")
    return user


def safe_next(target: str | None) -> str:
    """Only a path inside the inbox: a login link cannot send anyone to another site."""
    if target and target.startswith(INBOX_PATH) and "//" not in target and "\\" not in target:
        return target
    return INBOX_PATH


router = APIRouter(prefix=INBOX_PATH, include_in_schema=False, route_class=PageRoute)


def _login_page(request: Request, *, next_path: str, username: str = "", error: str | None = None,
                notice: str | None = None, status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html",
                                      page_context(request, None, next_path=next_path, username=username,
                                                   error=error, notice=notice),
                                      status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, logged_out: bool = False) -> HTMLResponse:
    return _login_page(request, next_path=safe_next(next),
                       notice="You are logged out." if logged_out else None)


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(csrf_protected)])
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form(""),
          accounts: StaffAccounts = Depends(get_staff_accounts),
          settings: Settings = Depends(get_settings)) -> Response:
    user = accounts.authenticate(username, password)
    if user is None:
        return _login_page(request, next_path=safe_next(next), username=username, error=LOGIN_FAILED,
                           status_code=401)
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
    request.session.update(user=user.username, auth=_fingerprint(user, settings.resolved_secret_key),
                           csrf=secrets.token_urlsafe(32))
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(csrf_protected)])
def logout(request: Request) -> RedirectResponse:
    request.session.clear()
    return RedirectResponse(f"{LOGIN_PATH}?logged_out=1", status_code=303)
