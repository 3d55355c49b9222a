"""A knowledge base entry: one question the city answers, in the import format of shared/EVAL.md."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

MAX_QUESTION_CHARS = 1_000
MAX_ANSWER_CHARS = 20_000
MAX_ALT_QUESTIONS = 200
MAX_URL_CHARS = 2_048
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47 as written in practice: en, es, pt-BR
# model_validate(data, context=STORED): content already in the database is read as it was saved, even if saved
# before a rule existed (an old source URL that is not a web address must not make the entry unreadable)
STORED = {"stored": True}


def url_problem(url: str) -> str | None:
    """What is wrong with `url` as a page citizens can open (http or https, a host, no spaces), or None.

    Said of the URL ("is not a web address; ..."), so that a form or an import names the field before it.
    """
    if len(url) > MAX_URL_CHARS:
        return f"is {len(url):,} characters long; at most {MAX_URL_CHARS:,} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname or any(
            c.isspace() or not c.isprintable() for c in url):
        return f"{url!r} is not a web address; write it as https://www.example.org/page"
    return None


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
                raise ValueError(f"has a phrasing longer than {MAX_QUESTION_CHARS} characters")
        return value

    @field_validator("department", "topic", "category", "url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or (info.context or {}).get("stored"):
            return value
        if (problem := url_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("language", mode="before")
    @classmethod
    def _default_language(cls, value: object) -> object:
        return "en" if value is None or (isinstance(value, str) and not value.strip()) else value

    @field_validator("language")
    @classmethod
    def _check_language(cls, value: str, info: ValidationInfo) -> str:
        if not (info.context or {}).get("stored") and not LANGUAGE_CODE.match(value):
            raise ValueError(f"{value!r} is not a language code; write e.g. en, es or ko")
        return value

    @property
    def phrasings(self) -> tuple[str, ...]:
        """The question followed by its alternative phrasings: every text a citizen's question is matched to."""
        return (self.question, *self.alt_questions)
