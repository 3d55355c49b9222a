"""A knowledge base entry: one question the city answers, in the import format of shared/EVAL.md."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_QUESTION_CHARS = 1_000
MAX_ANSWER_CHARS = 20_000
MAX_ALT_QUESTIONS = 200


class Entry(BaseModel):
    """One entry; unknown fields are an error so that a misspelt column never goes unnoticed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str = Field(min_length=1, max_length=200, pattern=r"^\S+$")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    alt_questions: tuple[str, ...] = Field(default=(), max_length=MAX_ALT_QUESTIONS)
    answer: str = Field(min_length=1, max_length=MAX_ANSWER_CHARS)
    department: str | None = None
    topic: str | None = None
    category: str | None = None
    url: str | None = None
    language: str = "en"

    @field_validator("alt_questions", mode="before")
    @classmethod
    def _drop_blank_phrasings(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, list | tuple):
            return tuple(str(v).strip() for v in value if str(v).strip())
        return value

    @field_validator("alt_questions")
    @classmethod
    def _limit_phrasing_length(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for phrasing in value:
            if len(phrasing) > MAX_QUESTION_CHARS:
                raise ValueError(f"an alternative question is longer than {MAX_QUESTION_CHARS} characters")
        return value

    @field_validator("department", "topic", "category", "url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _default_language(cls, value: object) -> object:
        return "en" if value is None or (isinstance(value, str) and not value.strip()) else value

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its alternative phrasings: every text a citizen's question is matched to."""
        return (self.question, *self.alt_questions)
