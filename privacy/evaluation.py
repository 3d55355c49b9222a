"""Precision and recall of the redactor on a labelled corpus, per kind, and the personal data it leaks.

A predicted span is right when it overlaps a gold span of the same kind; a gold span is found when a
predicted span of its kind overlaps it. Leaked characters are gold characters no redaction covers, whatever
its kind: those are what the public would read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from privacy.redactor import KINDS, Finding, Redactor

DEFAULT_CORPUS = Path(__file__).resolve().parent / "data" / "pii_corpus.jsonl"


class CorpusError(ValueError):
    """A corpus line that is not a valid labelled message."""


@dataclass(frozen=True)
class LabelledMessage:
    id: str
    text: str
    spans: tuple[Finding, ...]


@dataclass
class KindScore:
    kind: str
    gold: int = 0  # gold spans
    found: int = 0  # gold spans overlapped by a prediction of their kind
    predicted: int = 0
    correct: int = 0  # predictions overlapping a gold span of their kind
    gold_chars: int = 0
    leaked_chars: int = 0

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    def as_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall}


@dataclass(frozen=True)
class Error:
    """A gold span missed (`missed`) or a prediction with no gold span of its kind (`false_alarm`)."""

    message_id: str
    what: str
    kind: str
    text: str


@dataclass
class EvalReport:
    messages: int
    kinds: dict[str, KindScore]
    overall: KindScore
    errors: list[Error] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"messages": self.messages, "overall": self.overall.as_dict(),
                "kinds": {k: s.as_dict() for k, s in self.kinds.items()},
                "errors": [asdict(e) for e in self.errors]}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False)


def load_corpus(path: Path = DEFAULT_CORPUS) -> list[LabelledMessage]:
    """The labelled messages of a JSON Lines file; a bad line raises CorpusError naming it."""
    messages, seen = [], set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            messages.append(_message(json.loads(line)))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise CorpusError(f"{path}, line {n}: {exc}") from exc
        if messages[-1].id in seen:
            raise CorpusError(f"{path}, line {n}: the id {messages[-1].id!r} is used twice")
        seen.add(messages[-1].id)
    return messages


def _message(row: dict) -> LabelledMessage:
    text = row["text"]
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    spans = tuple(sorted((Finding(s["kind"], int(s["start"]), int(s["end"])) for s in row["spans"]),
                         key=lambda f: f.start))
    for i, span in enumerate(spans):
        if span.kind not in KINDS:
            raise ValueError(f"unknown kind {span.kind!r} (kinds: {', '.join(KINDS)})")
        if not 0 <= span.start < span.end <= len(text):
            raise ValueError(f"span {span.start}-{span.end} is outside the text ({len(text)} characters)")
        if i and span.start < spans[i - 1].end:
            raise ValueError(f"spans {spans[i - 1].start}-{spans[i - 1].end} and {span.start}-{span.end} overlap")
    return LabelledMessage(id=str(row["id"]), text=text, spans=spans)


def _overlaps(a: Finding, b: Finding) -> bool:
    return a.start < b.end and b.start < a.end


def evaluate(messages: list[LabelledMessage], redactor: Redactor) -> EvalReport:
    """Score the redactor on the labelled messages."""
    kinds = {kind: KindScore(kind) for kind in KINDS}
    errors: list[Error] = []
    for message in messages:
        predicted = redactor.find(message.text)
        covered: set[int] = set()
        for p in predicted:
            covered.update(range(p.start, p.end))
            score = kinds[p.kind]
            score.predicted += 1
            if any(g.kind == p.kind and _overlaps(g, p) for g in message.spans):
                score.correct += 1
            else:
                errors.append(Error(message.id, "false_alarm", p.kind, message.text[p.start:p.end]))
        for g in message.spans:
            score = kinds[g.kind]
            score.gold += 1
            score.gold_chars += g.end - g.start
            score.leaked_chars += sum(1 for i in range(g.start, g.end) if i not in covered)
            if any(p.kind == g.kind and _overlaps(g, p) for p in predicted):
                score.found += 1
            else:
                errors.append(Error(message.id, "missed", g.kind, message.text[g.start:g.end]))
    overall = KindScore("all")
    for score in kinds.values():
        for name in ("gold", "found", "predicted", "correct", "gold_chars", "leaked_chars"):
            setattr(overall, name, getattr(overall, name) + getattr(score, name))
    return EvalReport(messages=len(messages), kinds=kinds, overall=overall, errors=errors)
