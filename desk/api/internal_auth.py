"""The internal API is for CityDesk's own processes, which send a token as 'Authorization: Bearer <token>'.

Two kinds of token:

- the internal token (CITYDESK_INTERNAL_TOKEN, or the file internal_token in the data folder): the CLI, the
  connectors and `citydesk bot eval`; any conversation.
- a conversation token (settings.secrets.conversation_token: an HMAC of the conversation id keyed by the
  internal token): what the action server sends. The desk's pipeline gives it to Rasa in each message's metadata
  (``desk_token``); the action reads it from the tracker's latest message. It works only on the endpoints the
  actions use (`require_caller`) and only for its own conversation: the action server never holds the internal
  token, so whoever reaches it cannot read another conversation's case or open cases for it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from desk.api.deps import get_settings
from settings import Settings
from settings.secrets import conversation_of_token

_bearer = HTTPBearer(auto_error=False, description="The internal token (CITYDESK_INTERNAL_TOKEN, or the file "
                                                   "internal_token in the desk's data folder), or on the "
                                                   "assistant's endpoints a conversation's token.")

MISSING = ("This endpoint is for CityDesk's own processes: send the internal token as "
           "'Authorization: Bearer <token>'.")
WRONG = ("The internal token is wrong: use CITYDESK_INTERNAL_TOKEN, or the file internal_token in the "
         "data folder of the desk you are calling.")
CONVERSATION_ONLY = "A conversation's token is not accepted here: this endpoint needs the internal token."
OTHER_CONVERSATION = "This token speaks for another conversation."


@dataclass(frozen=True)
class Caller:
    """Who called: our own process with the internal token (conversation None), or an action for one conversation."""

    conversation_id: str | None

    def check(self, conversation_id: str) -> None:
        """403 unless the caller may act for `conversation_id`."""
        if self.conversation_id is not None and self.conversation_id != conversation_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=OTHER_CONVERSATION)


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=MISSING, headers={"WWW-Authenticate": "Bearer"})
    return credentials.credentials


def _is_internal(token: str, settings: Settings) -> bool:
    return hmac.compare_digest(token.encode(), settings.resolved_internal_token.encode())


def _refused(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def require_internal_token(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                           settings: Settings = Depends(get_settings)) -> None:
    """401 unless the request carries the desk's internal token (a conversation's token is not enough)."""
    token = _token(credentials)
    if _is_internal(token, settings):
        return
    if conversation_of_token(settings.resolved_internal_token, token) is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=CONVERSATION_ONLY)
    raise _refused(WRONG)


def require_caller(credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
                   settings: Settings = Depends(get_settings)) -> Caller:
    """The internal token, or a conversation's token (then the route calls `Caller.check` with its conversation)."""
    token = _token(credentials)
    if _is_internal(token, settings):
        return Caller(conversation_id=None)
    conversation_id = conversation_of_token(settings.resolved_internal_token, token)
    if conversation_id is None:
        raise _refused(WRONG)
    return Caller(conversation_id=conversation_id)
