"""Field types shared by the API's request models."""

from typing import Annotated

from pydantic import AfterValidator, Field

from knowledge_base.service import MAX_QUERY_CHARS


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty")
    return value


def citizen_text(max_chars: int = MAX_QUERY_CHARS, description: str = "The citizen's message."):
    """A message text: not blank, at most `max_chars` characters."""
    return Annotated[str, Field(max_length=max_chars, description=description), AfterValidator(_not_blank)]


CitizenText = citizen_text()
