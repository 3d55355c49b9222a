"""Field types shared by the API's request models."""

from typing import Annotated

from pydantic import AfterValidator, Field

from knowledge_base.service import MAX_QUERY_CHARS


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty")
    return value


# A message text: not blank, at most MAX_QUERY_CHARS characters.
CitizenText = Annotated[str, Field(max_length=MAX_QUERY_CHARS, description="The citizen's message."),
                        AfterValidator(_not_blank)]
