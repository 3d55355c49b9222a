"""The citizen's web chat page."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from desk.api.chat import MAX_MESSAGE_CHARS
from desk.api.deps import get_settings
from desk.web.templates import templates
from settings import Settings

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def chat_page(request: Request, settings: Settings = Depends(get_settings)) -> HTMLResponse:
    return templates.TemplateResponse(request, "chat.html", {"city_name": settings.city_name,
                                                             "max_chars": MAX_MESSAGE_CHARS})
