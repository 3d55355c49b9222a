"""The answer threshold, calibrated on the knowledge base itself for a target precision (`citydesk kb calibrate`).

Answerable questions: each entry's alternative phrasings, held out in turn (five folds) and asked of the rest.
Unanswerable questions: the phrasings of whole entries held out the same way (questions in the city's domain
that no entry answers), and a bank of off-topic and city-but-unanswerable questions shipped with the project
(data/unanswerable_questions.jsonl). The threshold is the lowest confidence at which the automatic answers
would reach the target precision, with unanswerable questions making up `unanswerable_share` of the traffic.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from knowledge_base import ranking
from knowledge_base.classifier import EntryClassifier
from knowledge_base.embedder import Embedder
from knowledge_base.search.embedded import EmbeddedBackend
from knowledge_base.search.protocol import IndexedEntry, SearchBackend

BANK_FILE = Path(__file__).resolve().parent / "data" / "unanswerable_questions.jsonl"
DEFAULT_THRESHOLD = 0.6  # until a knowledge base can be calibrated (no entries yet)
FOLDS = 5
# Questions asked, at most, of each kind: a sample keeps a large knowledge base's calibration to seconds.
MAX_QUESTIONS = 2000
# Fewer held-out phrasings than this and precision cannot be estimated: the threshold is then chosen so that
# no more than (1 - target) of the unanswerable questions would be answered.
MIN_ANSWERABLE = 30
SEED = 0
# Cosine at or above which a bank question counts as one of the knowledge base's own phrasings.
NEAR_DUPLICATE = 0.8
# Part of the fingerprint: a change of the ranking or of this procedure makes stored calibrations stale.
VERSION = "2"

ANSWERABLE = "held-out phrasing"
IN_DOMAIN = "held-out entry"


@dataclass(frozen=True)
class Outcome:
    """What the ranking did with one calibration question."""

    kind: str  # ANSWERABLE, IN_DOMAIN, or the bank question's kind (off-topic, city-unanswerable)
    confidence: float
    correct: bool  # the best entry is the one the question was held out from


@dataclass(frozen=True)
class Calibration:
    """The calibrated threshold and what to expect of it."""

    threshold: float
    target_precision: float
    unanswerable_share: float
    method: str
    expected_precision: float | None = None
    expected_auto_answer_rate: float | None = None
    answered_by_kind: dict[str, float] = field(default_factory=dict)  # share auto-answered, per kind
    questions_by_kind: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_figures(cls, figures: dict[str, Any]) -> Calibration:
        return cls(**figures)


@dataclass(frozen=True)
class _Question:
    text: str
    vector: np.ndarray
    expected: str | None
    kind: str


def bank_questions() -> list[tuple[str, str]]:
    """The shipped off-topic and city-but-unanswerable questions: (text, kind)."""
    rows = [json.loads(line) for line in BANK_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["text"], row["kind"]) for row in rows]


def calibrate(items: Sequence[IndexedEntry], *, backend: SearchBackend, classifier: EntryClassifier | None,
              embedder: Embedder, target_precision: float, unanswerable_share: float,
              new_backend: Callable[[], SearchBackend] = EmbeddedBackend) -> Calibration:
    """Calibrate the threshold of the knowledge base of `items`, indexed in `backend` with `classifier`."""
    if len(items) < 2:
        return Calibration(threshold=DEFAULT_THRESHOLD, target_precision=target_precision,
                           unanswerable_share=unanswerable_share, method="default: fewer than two entries")
    rng = np.random.default_rng(SEED)
    groups = rng.permutation(len(items)) % FOLDS
    alt_folds = [rng.integers(FOLDS, size=len(item.entry.alt_questions)) for item in items]
    answerable = [(i, a) for i, item in enumerate(items) for a in range(len(item.entry.alt_questions))
                  if alt_folds[i][a] != groups[i]]
    held_out = [(i, row) for i, item in enumerate(items) for row in range(len(item.entry.phrasings))]
    answerable = _sample(rng, answerable)
    held_out = _sample(rng, held_out)
    outcomes: list[Outcome] = []
    for fold in range(FOLDS):
        fold_items = [_without_fold(item, alt_folds[i], fold) for i, item in enumerate(items) if groups[i] != fold]
        questions = [_Question(items[i].entry.alt_questions[a], items[i].vectors[a + 1], items[i].entry.id,
                               ANSWERABLE) for i, a in answerable if alt_folds[i][a] == fold]
        questions += [_Question(items[i].entry.phrasings[row], items[i].vectors[row], None, IN_DOMAIN)
                      for i, row in held_out if groups[i] == fold]
        fold_backend = new_backend()
        fold_backend.upsert(fold_items)
        outcomes += _ask(fold_backend, EntryClassifier.train(fold_items), questions, embedder)
    bank = bank_questions()
    bank_vectors = _bank_vectors(embedder, [text for text, _ in bank])
    # a bank question that one of the entries states almost word for word is not unanswerable here
    # (a general-purpose assistant's knowledge base may well answer "tell me a joke")
    closest = np.max(np.vstack([item.vectors for item in items]) @ bank_vectors.T, axis=0)
    outcomes += _ask(backend, classifier, [_Question(text, vector, None, kind) for (text, kind), vector, near
                                           in zip(bank, bank_vectors, closest, strict=True)
                                           if near < NEAR_DUPLICATE], embedder)
    return choose_threshold(outcomes, target_precision=target_precision, unanswerable_share=unanswerable_share)


def choose_threshold(outcomes: Sequence[Outcome], *, target_precision: float,
                     unanswerable_share: float) -> Calibration:
    """The lowest threshold whose automatic answers reach the target precision, with what to expect of it."""
    kinds = sorted({o.kind for o in outcomes})
    counts = {kind: sum(1 for o in outcomes if o.kind == kind) for kind in kinds}
    confidence = np.array([o.confidence for o in outcomes])
    correct = np.array([o.correct and o.kind == ANSWERABLE for o in outcomes])
    weight = _weights(outcomes, counts, unanswerable_share)
    if counts.get(ANSWERABLE, 0) < MIN_ANSWERABLE:
        negative = np.array([o.kind != ANSWERABLE for o in outcomes])
        threshold = _above_share(confidence[negative], target_precision) if negative.any() else DEFAULT_THRESHOLD
        return Calibration(threshold=threshold, method="unanswerable questions only (too few alternative phrasings)",
                           answered_by_kind=_answered_by_kind(outcomes, confidence, threshold),
                           target_precision=target_precision, unanswerable_share=unanswerable_share,
                           questions_by_kind=counts)
    order = np.argsort(-confidence, kind="stable")
    answered_weight = np.cumsum(weight[order])
    precision = np.cumsum((weight * correct)[order]) / answered_weight
    # a threshold equal to a confidence answers every question with that confidence: take the last of each tie
    last_of_tie = np.append(confidence[order][1:] != confidence[order][:-1], True)
    meets = np.nonzero(last_of_tie & (precision >= target_precision))[0]
    if not len(meets):
        return Calibration(threshold=1.0, method="held-out phrasings: the target cannot be reached",
                           expected_precision=None, expected_auto_answer_rate=0.0,
                           answered_by_kind=_answered_by_kind(outcomes, confidence, 1.0),
                           target_precision=target_precision, unanswerable_share=unanswerable_share,
                           questions_by_kind=counts)
    at = meets[-1]
    threshold = float(confidence[order][at])
    return Calibration(threshold=threshold, method="held-out phrasings",
                       expected_precision=round(float(precision[at]), 4),
                       expected_auto_answer_rate=round(float(answered_weight[at]), 4),
                       answered_by_kind=_answered_by_kind(outcomes, confidence, threshold),
                       target_precision=target_precision, unanswerable_share=unanswerable_share,
                       questions_by_kind=counts)


def _weights(outcomes: Sequence[Outcome], counts: dict[str, int], unanswerable_share: float) -> np.ndarray:
    """Answerable questions share 1 - unanswerable_share; held-out entries and the bank split the rest evenly."""
    bank_kinds = [k for k in counts if k not in (ANSWERABLE, IN_DOMAIN)]
    bank_total = sum(counts[k] for k in bank_kinds)
    unanswerable_groups = (IN_DOMAIN in counts) + (bank_total > 0)
    share = {ANSWERABLE: 1.0 - unanswerable_share if ANSWERABLE in counts else 0.0}
    if unanswerable_groups:
        share[IN_DOMAIN] = unanswerable_share / unanswerable_groups
        share["bank"] = unanswerable_share / unanswerable_groups
    result = []
    for o in outcomes:
        if o.kind in (ANSWERABLE, IN_DOMAIN):
            result.append(share[o.kind] / counts[o.kind])
        else:
            result.append(share["bank"] / bank_total)
    return np.array(result)


def _answered_by_kind(outcomes: Sequence[Outcome], confidence: np.ndarray, threshold: float) -> dict[str, float]:
    answered = confidence >= threshold
    kinds = sorted({o.kind for o in outcomes})
    return {kind: round(float(np.mean([a for a, o in zip(answered, outcomes, strict=True) if o.kind == kind])), 4)
            for kind in kinds}


def _above_share(negatives: np.ndarray, share: float) -> float:
    """A threshold that at most 1 - share of these confidences reach."""
    ordered = np.sort(negatives)
    index = min(len(ordered) - 1, int(np.ceil(share * len(ordered))) - 1)
    return float(ordered[max(index, 0)]) + 1e-6


def _sample(rng: np.random.Generator, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if len(pairs) <= MAX_QUESTIONS:
        return pairs
    chosen = rng.choice(len(pairs), size=MAX_QUESTIONS, replace=False)
    return [pairs[i] for i in sorted(chosen)]


def _without_fold(item: IndexedEntry, alt_folds: np.ndarray, fold: int) -> IndexedEntry:
    """The entry without its alternative phrasings of `fold` (held out as questions)."""
    keep_alt = alt_folds != fold
    if keep_alt.all():
        return item
    alts = tuple(a for a, keep in zip(item.entry.alt_questions, keep_alt, strict=True) if keep)
    rows = np.concatenate([[True], keep_alt, np.ones(len(item.vectors) - 1 - len(keep_alt), dtype=bool)])
    return IndexedEntry(entry=item.entry.model_copy(update={"alt_questions": alts}), vectors=item.vectors[rows],
                        answer_vector=item.answer_vector)


def _ask(backend: SearchBackend, classifier: EntryClassifier | None, questions: list[_Question],
         embedder: Embedder) -> list[Outcome]:
    """Rank each question as the assistant would (long ones sentence by sentence too)."""
    outcomes = []
    for question in questions:
        texts, vectors = [question.text], question.vector[None, :]
        if ranking.sentences(question.text):
            texts, vectors = ranking.message_parts(embedder, question.text)
        hits = ranking.search(backend, classifier, texts, vectors, top_k=1)
        top = hits[0] if hits else None
        outcomes.append(Outcome(kind=question.kind, confidence=top.confidence if top else 0.0,
                                correct=bool(top and question.expected and top.entry.id == question.expected)))
    return outcomes


_BANK_VECTORS: dict[str, np.ndarray] = {}


def _bank_vectors(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """The bank's vectors, embedded once per process and model (tests and evaluations build many stores)."""
    if embedder.model_name not in _BANK_VECTORS:
        _BANK_VECTORS[embedder.model_name] = embedder.embed(list(texts))
    return _BANK_VECTORS[embedder.model_name]
