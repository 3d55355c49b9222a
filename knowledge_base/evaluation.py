"""`citydesk kb eval`: how well a knowledge base answers a set of real questions (shared/EVAL.md)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge_base.bands import Band
from knowledge_base.calibration import DEFAULT_CONFIRM_PRECISION
from knowledge_base.department_vote import vote_department
from knowledge_base.factory import build_knowledge_base
from knowledge_base.importer import read_entries
from knowledge_base.service import (
    DEFAULT_TARGET_PRECISION,
    DEFAULT_UNANSWERABLE_SHARE,
    Answer,
    KnowledgeBase,
)

RANK_DEPTH = 10
WARM_UP_QUESTIONS = 5


@dataclass(frozen=True)
class Question:
    text: str
    expected_ids: tuple[str, ...]
    expected_department: str | None = None
    kind: str | None = None  # optional label (e.g. in-domain, out-of-domain): hand-off figures per kind

    @property
    def answerable(self) -> bool:
        return bool(self.expected_ids)


class QuestionFileError(ValueError):
    """A question file that cannot be read: the line (None: the whole file) and the reason."""

    def __init__(self, path: Path, line: int | None, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}, line {line}: {reason}" if line is not None else f"{path}: {reason}")


def read_questions(path: Path) -> list[Question]:
    """The questions of a JSON Lines file; QuestionFileError names the first bad line."""
    questions = []
    for number, raw in enumerate(Path(path).read_bytes().splitlines(), start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise QuestionFileError(path, number, "not valid UTF-8") from None
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            expected = data.get("expected_ids") or []
            if not isinstance(expected, list) or not all(isinstance(i, str) for i in expected):
                raise TypeError("expected_ids must be a list of entry ids")
            kind = data.get("kind")
            questions.append(Question(text=str(data["text"]), expected_ids=tuple(expected),
                                      expected_department=data.get("expected_department"),
                                      kind=None if kind is None else str(kind)))
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise QuestionFileError(path, number, f"not a question ({error})") from None
    return questions


def routed_department(answer: Answer) -> str | None:
    """The department a hand-off would reach: the hand-off's own vote of the best-matching entries."""
    return vote_department([(hit.entry.department, hit.confidence) for hit in answer.results])


def evaluate(kb: KnowledgeBase, questions: Sequence[Question], on_progress: Callable[[], None] | None = None,
             details: list[dict] | None = None) -> dict:
    """Answer every question with the assistant's own code path and threshold; the contract's figures.

    `details`, if given, receives one record per question (see `question_record`).
    """
    for question in questions[:WARM_UP_QUESTIONS]:
        kb.answer(question.text, top_k=RANK_DEPTH)
    latencies, answers = [], []
    for question in questions:
        start = time.perf_counter()
        answers.append(kb.answer(question.text, top_k=RANK_DEPTH))
        latencies.append((time.perf_counter() - start) * 1000)
        if on_progress:
            on_progress()
    if details is not None:
        details.extend(question_record(q, a) for q, a in zip(questions, answers, strict=True))
    return summarise(questions, answers, latencies, kb.threshold, confirm_threshold=kb.confirm_threshold)


def question_record(question: Question, answer: Answer) -> dict:
    """What happened to one question: enough to redraw precision against auto-answer rate at any threshold.

    `right`: what the assistant did was right for the citizen, as the contract's figures count it.
    """
    top = answer.results[0] if answer.results else None
    return {"text": question.text, "kind": question.kind, "answerable": question.answerable,
            "expected_ids": list(question.expected_ids),
            "top_id": top.entry.id if top else None, "confidence": round(top.confidence, 6) if top else 0.0,
            "top_correct": bool(top and top.entry.id in question.expected_ids),
            "rank": _rank(question, answer), "band": str(answer.band), "answered": answer.entry is not None,
            "options": [hit.entry.id for hit in answer.options], "right": is_right(question, answer)}


def is_right(question: Question, answer: Answer) -> bool:
    """An answer (direct or with "Did this answer your question?") with a right entry, options that hold a right
    entry, or no answer at all to a question that no entry answers."""
    band = answer.band
    if band in (Band.ANSWER, Band.CONFIRM):
        return answer.results[0].entry.id in question.expected_ids
    if band is Band.CLARIFY and question.answerable:
        return _offered(question, answer)
    return not question.answerable


def summarise(questions: Sequence[Question], answers: Sequence[Answer], latencies_ms: Sequence[float],
              threshold: float, *, confirm_threshold: float | None = None) -> dict:
    pairs = list(zip(questions, answers, strict=True))
    bands = [a.band for a in answers]
    answerable = [(q, a) for q, a in pairs if q.answerable]
    unanswerable = [a for q, a in pairs if not q.answerable]
    ranks = [_rank(q, a) for q, a in answerable]
    auto = [(q, a) for (q, a), band in zip(pairs, bands, strict=True) if band is Band.ANSWER]
    auto_correct = sum(1 for q, a in auto if a.results[0].entry.id in q.expected_ids)
    confirmed = [(q, a) for (q, a), band in zip(pairs, bands, strict=True) if band is Band.CONFIRM]
    confirm_correct = sum(1 for q, a in confirmed if a.results[0].entry.id in q.expected_ids)
    clarified = [(q, a) for (q, a), band in zip(pairs, bands, strict=True) if band is Band.CLARIFY]
    clarify_hits = sum(1 for q, a in clarified if _offered(q, a))
    with_department = [(q, a) for q, a in zip(questions, answers, strict=True) if q.expected_department]
    return {
        "n": len(questions),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "top1": _share(sum(1 for r in ranks if r == 1), len(ranks)),
        "recall_at_3": _share(sum(1 for r in ranks if r and r <= 3), len(ranks)),
        "mrr": _round(float(np.mean([1 / r if r else 0.0 for r in ranks]))) if ranks else None,
        "auto_answer_rate": _share(len(auto), len(questions)),
        "auto_answer_precision": _share(auto_correct, len(auto)),
        "handoff_recall": _share(sum(1 for a in unanswerable if a.entry is None), len(unanswerable)),
        # the middle band: answered with "Did this answer your question?"
        "confirm_answer_rate": _share(len(confirmed), len(questions)),
        "confirm_answer_precision": _share(confirm_correct, len(confirmed)),
        "handled_without_staff_rate": _share(auto_correct + confirm_correct + clarify_hits, len(questions)),
        # "Did you mean …?": how often entries are offered instead, and how often a right one is among them
        "clarify_rate": _share(len(clarified), len(questions)),
        "clarify_hit_rate": _share(clarify_hits, len(clarified)),
        "auroc": _auroc([a.confidence for _, a in answerable], [a.confidence for a in unanswerable]),
        "department_accuracy": _share(sum(1 for q, a in with_department
                                          if routed_department(a) == q.expected_department),
                                      len(with_department)),
        "latency_ms_p50": _round(float(np.percentile(latencies_ms, 50))) if latencies_ms else None,
        "latency_ms_p95": _round(float(np.percentile(latencies_ms, 95))) if latencies_ms else None,
        "threshold": threshold,
        "confirm_threshold": threshold if confirm_threshold is None else confirm_threshold,
        **_handoff_by_kind(questions, answers),
    }


def _handoff_by_kind(questions: Sequence[Question], answers: Sequence[Answer]) -> dict:
    """handoff_recall per kind of unanswerable question, when the question file labels them (else nothing)."""
    kinds = sorted({q.kind for q in questions if q.kind is not None and not q.answerable})
    if not kinds:
        return {}
    pairs = [(q, a) for q, a in zip(questions, answers, strict=True) if not q.answerable]
    return {"handoff_recall_by_kind": {
        kind: _share(sum(1 for q, a in pairs if q.kind == kind and a.entry is None),
                     sum(1 for q, _ in pairs if q.kind == kind)) for kind in kinds}}


def evaluate_files(*, kb_path: Path, questions_path: Path, model_name: str, threshold: float | None,
                   target_precision: float = DEFAULT_TARGET_PRECISION,
                   unanswerable_share: float = DEFAULT_UNANSWERABLE_SHARE,
                   confirm_threshold: float | None = None,
                   confirm_precision: float = DEFAULT_CONFIRM_PRECISION,
                   on_progress: Callable[[], None] | None = None, show_progress: bool = False,
                   details: list[dict] | None = None) -> dict:
    """Load the KB file into a fresh temporary store (never the live one) and evaluate the questions.

    As in the running desk, the thresholds are `threshold` and `confirm_threshold` if given, else the ones
    calibrated on the imported entries; the calibration's own expectations are reported under `calibration`, and
    its expected precision and rate of both bands beside the measured ones (`expected_*`).
    """
    entries = read_entries(kb_path)
    questions = read_questions(questions_path)
    with tempfile.TemporaryDirectory(prefix="citydesk-eval-") as folder:
        kb = build_knowledge_base(database_url=f"sqlite:///{folder}/eval.db", model_name=model_name,
                                  threshold=threshold, target_precision=target_precision,
                                  unanswerable_share=unanswerable_share, confirm_threshold=confirm_threshold,
                                  confirm_precision=confirm_precision, load_index=False)
        kb.import_entries(entries, show_progress=show_progress)
        report = evaluate(kb, questions, on_progress=on_progress, details=details)
        if kb.calibration is not None:
            report |= expected_figures(kb.calibration.figures())
            report["calibration"] = kb.calibration.figures()
        return report


def expected_figures(calibration: dict) -> dict:
    """The calibration's expectations, keyed beside the figures they predict."""
    return {"expected_auto_answer_precision": calibration.get("expected_precision"),
            "expected_auto_answer_rate": calibration.get("expected_auto_answer_rate"),
            "expected_confirm_answer_precision": calibration.get("expected_confirm_precision"),
            "expected_confirm_answer_rate": calibration.get("expected_confirm_rate")}


def _offered(question: Question, answer: Answer) -> bool:
    """A right entry is among those offered to choose from."""
    return any(hit.entry.id in question.expected_ids for hit in answer.options)


def _rank(question: Question, answer: Answer) -> int | None:
    for rank, hit in enumerate(answer.results, start=1):
        if hit.entry.id in question.expected_ids:
            return rank
    return None


def _auroc(positives: list[float], negatives: list[float]) -> float | None:
    """Probability that an answerable question scores above an unanswerable one (ties count half)."""
    if not positives or not negatives:
        return None
    pos, neg = np.asarray(positives)[:, None], np.asarray(negatives)[None, :]
    return _round(float(((pos > neg).sum() + 0.5 * (pos == neg).sum()) / (pos.size * neg.size)))


def _share(count: int, total: int) -> float | None:
    return _round(count / total) if total else None


def _round(value: float) -> float:
    return round(value, 4)
