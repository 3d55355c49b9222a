"""The web chat's one endpoint: the citizen's message to Rasa's REST channel, the replies back."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field, field_validator

from desk.api.deps import get_settings
from desk.settings import Settings

router = APIRouter(prefix="/api/chat", tags=["web chat"])

MAX_MESSAGE_CHARS = 4_000


class ChatMessage(BaseModel):
    sender: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$",
                        description="The conversation id the page keeps for the citizen.")
    message: str = Field(max_length=MAX_MESSAGE_CHARS)

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is empty")
        return value


class Button(BaseModel):
    title: str
    payload: str


class Reply(BaseModel):
    text: str | None = None
    buttons: list[Button] = []


@router.post("", response_model=list[Reply])
async def send(message: ChatMessage, settings: Settings = Depends(get_settings)) -> list[Reply]:
    """Send a message to the assistant and return its replies."""
    try:
        async with httpx.AsyncClient(timeout=settings.rasa_timeout_s) as client:
            response = await client.post(f"{settings.rasa_url}/webhooks/rest/webhook",
                                         json={"sender": message.sender, "message": message.message})
            response.raise_for_status()
    except httpx.HTTPError as error:
        raise HTTPException(status_code=503, detail="The assistant is not reachable right now. "
                            "Please try again in a minute.") from error
    return [Reply(text=r.get("text"), buttons=r.get("buttons") or []) for r in response.json()
            if r.get("text") or r.get("buttons")]
