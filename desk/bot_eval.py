"""Conversation-level evaluation (shared/EVAL.md, second part): what the running assistant did with each message."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handoff.decide import ASKED_REASON, Route
from handoff.directory import slug
from settings.secrets import conversation_token

ROUTES = ("answer", "case", "emergency", "smalltalk", "out_of_scope")
# Routes a message may expect besides those: "status" for a follow-up on the case its `before` messages opened
# ("is it fixed yet?"); the confusion table has their rows only when a file has such messages.
FOLLOW_UP_ROUTES = ("status",)
REPORT_KEYS = ("n", "route_accuracy", "answer_top1", "department_accuracy", "sla_accuracy", "emergency_recall",
               "wrong_auto_answers", "asked_answers", "clarify_rate", "answer_top1_with_choice", "confusion")
# The payload of a "Did you mean …?" button (bot/actions/replies.py): the entry it offers.
_CHOOSE_PAYLOAD = re.compile(r"^/choose_entry(\{.*\})$")


class MessageFileError(ValueError):
    """A message file that cannot be evaluated; the message names the line."""


class EvalError(RuntimeError):
    """The running assistant or desk could not be asked; says what to check."""


class EvalMessage(BaseModel):
    """One line of a message file: the text and what should happen to it."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    text: str
    route: Literal["answer", "case", "emergency", "smalltalk", "out_of_scope", "status"]
    expected_ids: tuple[str, ...] = ()
    before: tuple[str, ...] = Field(default=(), description="Messages sent first in the same conversation (a "
                                    "report, for a follow-up such as \"is it fixed yet?\"); only `text` is measured.")
    department: str | None = Field(default=None, description="For `case`: the department's name.")
    sla: Literal["simple", "review", "policy"] | None = None

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text is empty")
        return value


@dataclass(frozen=True)
class Observed:
    """What the assistant did: the route, and the entry or the case's department name and class."""

    route: str
    entry_id: str | None = None
    department: str | None = None
    department_code: str | None = None
    sla: str | None = None
    options: tuple[str, ...] = ()  # route clarify: the entries offered to choose from
    asked: bool = False  # route answer: the answer asked "Did this answer your question?" (the confirm band)


def offered_entries(replies: list[dict[str, Any]]) -> tuple[str, ...]:
    """The entries a reply of Rasa's REST channel offers as "Did you mean …?" buttons, in order."""
    offered = []
    for reply in replies:
        for button in reply.get("buttons") or []:
            match = _CHOOSE_PAYLOAD.match(str(button.get("payload", "")))
            if match:
                offered.append(str(json.loads(match.group(1)).get("kb_entry_id")))
    return tuple(offered)


def read_messages(path: Path) -> list[EvalMessage]:
    """The messages of a JSON Lines file; blank lines are skipped, a bad line is named."""
    messages = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            messages.append(EvalMessage.model_validate(json.loads(line)))
        except json.JSONDecodeError as error:
            raise MessageFileError(f"{path}, line {number}: not JSON ({error.msg})") from None
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in error.errors())
            raise MessageFileError(f"{path}, line {number}: {problems}") from None
    if not messages:
        raise MessageFileError(f"{path} has no messages")
    return messages


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _same_name(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def same_department(observed: Observed, expected: str) -> bool:
    """The case went to the department the message set names, by the rule the desk itself uses to find a
    department an entry names (handoff/directory.py: "Parks and Recreation" is "Parks & Recreation", "Library" is
    the department whose code is "library")."""
    wanted = slug(expected)
    return (_same_name(observed.department, expected) or (observed.department is not None
                                                          and slug(observed.department) == wanted)
            or (bool(wanted) and observed.department_code == wanted))


def is_wrong_answer(message: EvalMessage, observed: Observed) -> bool:
    """An automatic answer that should not have been given, or gave the wrong entry."""
    return observed.route == Route.ANSWER and (message.route != Route.ANSWER
                                               or observed.entry_id not in message.expected_ids)


def is_correct(message: EvalMessage, observed: Observed) -> bool:
    """The right route, and for answers the right entry, for cases the right department and class."""
    if observed.route != message.route:
        return False
    if message.route == Route.ANSWER:
        return observed.entry_id in message.expected_ids
    if message.route == Route.CASE:
        return ((message.department is None or same_department(observed, message.department))
                and (message.sla is None or observed.sla == message.sla))
    return True


@dataclass(frozen=True)
class Miss:
    """A message handled wrongly, for people to read."""

    expected: str
    got: str
    text: str
    detail: str


def misses(messages: Sequence[EvalMessage], observed: Sequence[Observed]) -> list[Miss]:
    """The messages handled wrongly, with what was expected and what happened instead."""
    found = []
    for message, seen in zip(messages, observed, strict=True):
        if is_correct(message, seen):
            continue
        wanted = {"answer": "/".join(message.expected_ids) or "-",
                  "case": f"{message.department}, {message.sla}"}.get(message.route, "")
        got = {"answer": seen.entry_id or "-", "case": f"{seen.department}, {seen.sla}",
               "emergency": seen.department or "", "clarify": "offered " + "/".join(seen.options)}.get(seen.route, "")
        detail = f"{got or seen.route} (expected {wanted or message.route})" if wanted or got else ""
        found.append(Miss(expected=message.route, got=seen.route, text=message.text, detail=detail))
    return found


def score(messages: Sequence[EvalMessage], observed: Sequence[Observed]) -> dict[str, Any]:
    """The report's figures: shares over the messages each figure is about (null when there are none)."""
    if len(messages) != len(observed):
        raise ValueError("one observation per message")
    pairs = list(zip(messages, observed, strict=True))
    answers = [(m, o) for m, o in pairs if m.route == Route.ANSWER]
    with_department = [(m, o) for m, o in pairs if m.route == Route.CASE and m.department is not None]
    with_sla = [(m, o) for m, o in pairs if m.route == Route.CASE and m.sla is not None]
    emergencies = [o for m, o in pairs if m.route == Route.EMERGENCY]
    expected_routes = list(ROUTES) + [r for r in FOLLOW_UP_ROUTES if any(m.route == r for m in messages)]
    actual_routes = expected_routes + sorted({o.route for o in observed} - set(expected_routes))
    confusion = {expected: dict.fromkeys(actual_routes, 0) for expected in expected_routes}
    for message, seen in pairs:
        confusion[message.route][seen.route] += 1
    return {
        "n": len(pairs),
        "route_accuracy": _share(sum(m.route == o.route for m, o in pairs), len(pairs)),
        "answer_top1": _share(sum(o.route == Route.ANSWER and o.entry_id in m.expected_ids for m, o in answers),
                              len(answers)),
        "department_accuracy": _share(sum(same_department(o, m.department or "") for m, o in with_department),
                                      len(with_department)),
        "sla_accuracy": _share(sum(o.sla == m.sla for m, o in with_sla), len(with_sla)),
        "emergency_recall": _share(sum(o.route == Route.EMERGENCY for o in emergencies), len(emergencies)),
        "wrong_auto_answers": sum(is_wrong_answer(m, o) for m, o in pairs),
        # answers of the confirm band, right or wrong like any answer: how many of the answers asked
        "asked_answers": sum(o.route == Route.ANSWER and o.asked for o in observed),
        "clarify_rate": _share(sum(o.route == Route.CLARIFY for o in observed), len(pairs)),
        # answered with a right entry, or a right entry offered to choose from ("Did you mean …?")
        "answer_top1_with_choice": _share(sum(o.entry_id in m.expected_ids if o.route == Route.ANSWER else
                                              o.route == Route.CLARIFY and bool(set(o.options) & set(m.expected_ids))
                                              for m, o in answers), len(answers)),
        "confusion": confusion,
    }


class Assistant:
    """The running assistant: messages in through Rasa's REST channel, outcomes read back from the desk."""

    def __init__(self, *, rasa_url: str, desk_url: str, internal_token: str, timeout_s: float = 60.0) -> None:
        self._rasa_url = rasa_url.rstrip("/")
        self._desk_url = desk_url.rstrip("/")
        self._internal_token = internal_token
        self._desk_headers = {"Authorization": f"Bearer {internal_token}"}
        self._client = httpx.Client(timeout=timeout_s)

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._client.close()

    def observe(self, text: str, conversation_id: str, before: Sequence[str] = ()) -> Observed:
        """Send one message as its own conversation (after `before`, in the same one); what the desk recorded for it."""
        for earlier in before:
            self._request("POST", f"{self._rasa_url}/webhooks/rest/webhook", "the assistant (Rasa)",
                          json={"sender": conversation_id, "message": earlier})
        replies: list[dict[str, Any]] = self._request(
            "POST", f"{self._rasa_url}/webhooks/rest/webhook", "the assistant (Rasa)",
            json={"sender": conversation_id, "message": text,
                  # what the desk's pipeline gives Rasa: the actions call the desk with it (desk/api/internal_auth.py)
                  "metadata": {"desk_token": conversation_token(self._internal_token, conversation_id)}})
        body: dict[str, Any] = self._request(
            "GET", f"{self._desk_url}/api/conversations/{conversation_id}/outcome", "the desk",
            headers=self._desk_headers)
        case = body.get("case") or {}
        return Observed(route=body["route"], entry_id=body.get("entry_id"), department=case.get("department_name"),
                        department_code=case.get("department"), sla=case.get("sla"),
                        asked=body.get("reason") == ASKED_REASON,
                        options=offered_entries(replies) if body["route"] == Route.CLARIFY else ())

    def _request(self, method: str, url: str, who: str, *, json: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> Any:
        """The answer's JSON body, whose shape the caller knows."""
        try:
            response = self._client.request(method, url, json=json, headers=headers)
        except httpx.HTTPError as error:
            raise EvalError(f"cannot reach {who} at {url}: {error}") from error
        if response.status_code == 401:
            raise EvalError(f"{who} refused the internal token ({response.json().get('detail')}). Pass the running "
                            "desk's --data-dir, or set CITYDESK_INTERNAL_TOKEN.")
        if response.status_code != 200:
            raise EvalError(f"{who} answered {response.status_code} at {url}: {response.text[:300]}")
        return response.json()


def run(messages: Sequence[EvalMessage], assistant: Assistant,
        on_progress: Callable[[], None] | None = None) -> list[Observed]:
    """Each message through the assistant as a new conversation (ids eval-<run>-<n>), in order."""
    run_id = uuid.uuid4().hex[:8]
    observed = []
    for number, message in enumerate(messages):
        observed.append(assistant.observe(message.text, f"eval-{run_id}-{number:04d}", message.before))
        if on_progress:
            on_progress()
    return observed
