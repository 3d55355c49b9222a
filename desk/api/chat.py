"""The web chat's one endpoint: the citizen's message to Rasa's REST channel, the replies back."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field

from desk.api.deps import get_cases, get_settings
from desk.api.fields import citizen_text
from desk.settings import Settings
from handoff.service import CaseDesk

router = APIRouter(prefix="/api/chat", tags=["web chat"])

MAX_MESSAGE_CHARS = 4_000
ChatText = citizen_text(MAX_MESSAGE_CHARS)


class ChatMessage(BaseModel):
    sender: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$",
                        description="The conversation id the page keeps for the citizen.")
    message: ChatText


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


class StaffMessage(BaseModel):
    id: int
    text: str


@router.get("/updates", response_model=list[StaffMessage])
def updates(sender: str = Query(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$"),
            cases: CaseDesk = Depends(get_cases)) -> list[StaffMessage]:
    """Messages from city staff that arrived since the page last asked; each is shown once."""
    pending = cases.pending_messages(channel="web", conversation_id=sender)
    cases.mark_delivered([m.id for m in pending])
    return [StaffMessage(id=m.id, text=m.text) for m in pending]
