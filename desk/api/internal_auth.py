"""The internal API is for CityDesk's own processes (action server, CLI): they send the internal token."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from desk.api.deps import get_settings
from settings import Settings

_bearer = HTTPBearer(auto_error=False, description="The internal token (CITYDESK_INTERNAL_TOKEN, or the file "
                                                   "internal_token in the desk's data folder).")

MISSING = ("This endpoint is for CityDesk's own processes: send the internal token as "
           "'Authorization: Bearer <token>'.")
WRONG = ("The internal token is wrong: use CITYDESK_INTERNAL_TOKEN, or the file internal_token in the "
         "data folder of the desk you are calling.")


def require_internal_token(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                           settings: Settings = Depends(get_settings)) -> None:
    """401 unless the request carries the desk's internal token."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=MISSING, headers={"WWW-Authenticate": "Bearer"})
    expected = settings.resolved_internal_token.encode()
    if not hmac.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=WRONG,
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
