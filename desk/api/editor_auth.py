"""Who may change the knowledge base through the API: a logged-in editor (session cookie) or our own processes."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from desk.api.deps import get_settings
from desk.api.internal_auth import require_internal_token
from desk.web.auth import LoginRequired, PasswordChangeRequired, get_staff_accounts, logged_in_user
from handoff.models import Role
from handoff.staff import StaffAccounts
from settings import Settings

EDITOR_ROLE = Role.EDITOR
INTERNAL_EDITOR = "internal"
NOT_LOGGED_IN = ("The knowledge base API is for content editors: log in at /inbox/login with an editor account "
                 "(the session cookie), or send the internal token as 'Authorization: Bearer <token>'.")

_bearer = HTTPBearer(auto_error=False)


def require_editor(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                   accounts: StaffAccounts = Depends(get_staff_accounts),
                   settings: Settings = Depends(get_settings)) -> str:
    """The name recorded as the editor of a change: 401 without a login or token, 403 for a non-editor."""
    if credentials is not None:
        require_internal_token(credentials, settings)
        return request.headers.get("X-CityDesk-Editor", "").strip()[:200] or INTERNAL_EDITOR
    try:
        user = logged_in_user(request, accounts, settings)
    except LoginRequired:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=NOT_LOGGED_IN,
                            headers={"WWW-Authenticate": "Bearer"}) from None
    except PasswordChangeRequired:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="This account logged in with a temporary password: "
                                                              "choose a new one at /inbox/password first.") from None
    if user.role != EDITOR_ROLE:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            detail=f"Only content editors may use the knowledge base API; {user.username}'s role "
                                   f"is {user.role}.")
    return user.username
