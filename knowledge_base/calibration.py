"""The two thresholds of the bands (knowledge_base/bands.py), calibrated on the knowledge base itself.

Answerable questions, from what the entries hold:
- each entry's alternative phrasings, held out in turn (five folds, at most one phrasing of an entry per fold
  while it has five or fewer) and asked of the rest;
- an entry's question, when it is its only phrasing (most city FAQs): reworded, with some of its words left out,
  and asked of the whole knowledge base (REWORDED_QUESTION). Holding the question out instead, the entry standing
  for itself by its topic or answer, was tried: far harder than citizens' own words (it nearly never let the
  Boulder FAQ answer anything), where the reworded question is easier; measured on boulder-dev, the thresholds it
  gives are still above what real questions would allow (README, *Answering without staff*);
- questions citizens asked in use and confirmed (a "Yes", a choice among offered entries, a helpful vote, a
  staff member answering with the entry) that are not yet phrasings of their entry (CONFIRMED): real traffic,
  asked of the whole knowledge base. Approved ones are phrasings, and held out as such.
Unanswerable questions: the phrasings of whole entries held out the same way (questions in the city's domain
that no entry answers; an FAQ's question that another entry states almost word for word is not one), and a bank
of off-topic and city-but-unanswerable questions shipped with the project (data/unanswerable_questions.jsonl).

With unanswerable questions making up `unanswerable_share` of the traffic, the answer threshold is the lowest
confidence at which the automatic answers would reach the target precision; the confirm threshold is the lowest
confidence, below it, at which the answers of the band between the two would still be right `confirm_precision`
of the time (a "No" stays rare). Both come with the precision and the share of questions to expect.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from knowledge_base import ranking
from knowledge_base.classifier import EntryClassifier
from knowledge_base.embedder import Embedder
from knowledge_base.search.embedded import EmbeddedBackend
from knowledge_base.search.protocol import IndexedEntry, SearchBackend

BANK_FILE = Path(__file__).resolve().parent / "data" / "unanswerable_questions.jsonl"
DEFAULT_THRESHOLD = 0.6  # until a knowledge base can be calibrated (no entries yet)
# Above every confidence (they are at most 1): the threshold of a band that answers nothing.
NEVER = 1.0001
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
VERSION = "4"
# The confirm band's own expected precision, at least: below it, "Did this answer your question?" would too often
# be answered "No" (and a wrong "Yes" would be likelier). A setting: CITYDESK_CONFIRM_PRECISION.
DEFAULT_CONFIRM_PRECISION = 0.8

ANSWERABLE = "held-out phrasing"
REWORDED_QUESTION = "reworded question"
# A reworded question keeps this share of its words (at least two), in their order.
REWORDED_KEEP = 0.6
CONFIRMED = "confirmed in use"
ANSWERABLE_KINDS = (ANSWERABLE, REWORDED_QUESTION, CONFIRMED)
IN_DOMAIN = "held-out entry"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Outcome:
    """What the ranking did with one calibration question."""

    kind: str  # one of ANSWERABLE_KINDS, IN_DOMAIN, or the bank question's kind (off-topic, city-unanswerable)
    confidence: float
    correct: bool  # the best entry is the one the question was held out from (or confirmed for)

    @property
    def answerable(self) -> bool:
        return self.kind in ANSWERABLE_KINDS


@dataclass(frozen=True)
class Confirmed:
    """A citizen's question confirmed in use as asking for an entry, and not (yet) one of its phrasings."""

    text: str
    vector: np.ndarray
    entry_id: str


@dataclass(frozen=True)
class Calibration:
    """The calibrated thresholds and what to expect of them.

    `threshold` is the answer threshold (direct answers), `confirm_threshold` the lower end of the confirm band
    (None in calibrations stored before the bands: no confirm band). The expected rates are shares of all
    questions, with unanswerable ones making up `unanswerable_share` of them.
    """

    threshold: float
    target_precision: float
    unanswerable_share: float
    method: str
    expected_precision: float | None = None
    expected_auto_answer_rate: float | None = None
    answered_by_kind: dict[str, float] = field(default_factory=dict)  # share auto-answered, per kind
    questions_by_kind: dict[str, int] = field(default_factory=dict)
    confirm_threshold: float | None = None
    confirm_precision: float = DEFAULT_CONFIRM_PRECISION  # the floor the confirm threshold was chosen for
    expected_confirm_precision: float | None = None
    expected_confirm_rate: float | None = None
    confirmed_by_kind: dict[str, float] = field(default_factory=dict)  # share in the confirm band, per kind

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
              confirm_precision: float = DEFAULT_CONFIRM_PRECISION, confirmed: Sequence[Confirmed] = (),
              embed: Callable[[list[str]], np.ndarray] | None = None,
              new_backend: Callable[[], SearchBackend] = EmbeddedBackend) -> Calibration:
    """Calibrate the thresholds of the knowledge base of `items`, indexed in `backend` with `classifier`.

    `confirmed`: questions confirmed in use for an entry (not among its phrasings); `embed`: how to embed the
    stand-ins of held-out questions (default: the embedder; the knowledge base passes its cached embedding).
    """
    if len(items) < 2:
        return Calibration(threshold=DEFAULT_THRESHOLD, target_precision=target_precision,
                           unanswerable_share=unanswerable_share, method="default: fewer than two entries",
                           confirm_threshold=DEFAULT_THRESHOLD, confirm_precision=confirm_precision)
    embed = embed or embedder.embed
    rng = np.random.default_rng(SEED)
    groups = rng.permutation(len(items)) % FOLDS
    folds = [_phrasing_folds(rng, len(item.entry.phrasings)) for item in items]
    # an entry's alternative phrasings are asked in every fold but the one where the whole entry is held out; a
    # question beside alternative phrasings is often a title ("Card delivery"), which defines the entry rather than
    # asks for it
    answerable = [(i, row) for i, item in enumerate(items) for row in range(len(item.entry.phrasings))
                  if folds[i][row] >= 0 and folds[i][row] != groups[i]]
    alone = [i for i, item in enumerate(items) if len(item.entry.phrasings) == 1]
    # an FAQ's question that another entry states almost word for word is no unanswerable question when its entry
    # is held out (city FAQs repeat entries under several topics)
    restated = _restated(items, alone)
    held_out = [(i, row) for i, item in enumerate(items) for row in range(len(item.entry.phrasings))
                if i not in restated]
    answerable = _sample(rng, answerable)
    held_out = _sample(rng, held_out)
    outcomes: list[Outcome] = []
    for fold in range(FOLDS):
        fold_items = [_without_fold(item, folds[i], fold) for i, item in enumerate(items) if groups[i] != fold]
        questions = [_Question(items[i].entry.phrasings[row], items[i].vectors[row], items[i].entry.id, ANSWERABLE)
                     for i, row in answerable if folds[i][row] == fold]
        questions += [_Question(items[i].entry.phrasings[row], items[i].vectors[row], None, IN_DOMAIN)
                      for i, row in held_out if groups[i] == fold]
        fold_backend = new_backend()
        fold_backend.upsert(fold_items)
        outcomes += _ask(fold_backend, EntryClassifier.train(fold_items), questions, embedder)
    # an FAQ's question, reworded, asked of the whole knowledge base
    reworded = [(i, reword(rng, items[i].entry.question)) for i in _sample(rng, alone)]
    reworded_vectors = _vectors(embed, [text for _, text in reworded])
    outcomes += _ask(backend, classifier, [_Question(text, vector, items[i].entry.id, REWORDED_QUESTION)
                                           for (i, text), vector in zip(reworded, reworded_vectors, strict=True)],
                     embedder)
    known = {item.entry.id for item in items}
    in_use = [_Question(c.text, c.vector, c.entry_id, CONFIRMED) for c in confirmed if c.entry_id in known]
    outcomes += _ask(backend, classifier, _sample(rng, in_use), embedder)
    bank = bank_questions()
    bank_vectors = _bank_vectors(embedder, [text for text, _ in bank])
    # a bank question that one of the entries states almost word for word is not unanswerable here
    # (a general-purpose assistant's knowledge base may well answer "tell me a joke")
    closest = np.max(np.vstack([item.vectors for item in items]) @ bank_vectors.T, axis=0)
    outcomes += _ask(backend, classifier, [_Question(text, vector, None, kind) for (text, kind), vector, near
                                           in zip(bank, bank_vectors, closest, strict=True)
                                           if near < NEAR_DUPLICATE], embedder)
    return choose_threshold(outcomes, target_precision=target_precision, unanswerable_share=unanswerable_share,
                            confirm_precision=confirm_precision)


def _restated(items: Sequence[IndexedEntry], alone: Sequence[int]) -> set[int]:
    """The entries among `alone` (one phrasing each) whose question another entry's question states almost word for
    word (cosine at least NEAR_DUPLICATE)."""
    if len(alone) < 2:
        return set()
    questions = np.vstack([items[i].vectors[0] for i in alone])
    similarity = questions @ questions.T
    np.fill_diagonal(similarity, -1.0)
    return {i for i, near in zip(alone, similarity.max(axis=1), strict=True) if near >= NEAR_DUPLICATE}


def reword(rng: np.random.Generator, question: str) -> str:
    """The question with some of its words left out (REWORDED_KEEP of them, at least two, in their order)."""
    words = question.split()
    if len(words) <= 2:
        return question
    keep = max(2, round(len(words) * REWORDED_KEEP))
    chosen = sorted(rng.choice(len(words), size=keep, replace=False))
    return " ".join(words[i] for i in chosen)


def choose_threshold(outcomes: Sequence[Outcome], *, target_precision: float, unanswerable_share: float,
                     confirm_precision: float = DEFAULT_CONFIRM_PRECISION) -> Calibration:
    """The lowest threshold whose automatic answers reach the target precision, the lowest confirm threshold
    below it whose band reaches `confirm_precision`, and what to expect of both."""
    kinds = sorted({o.kind for o in outcomes})
    counts = {kind: sum(1 for o in outcomes if o.kind == kind) for kind in kinds}
    confidence = np.array([o.confidence for o in outcomes])
    correct = np.array([o.correct and o.answerable for o in outcomes])
    weight = _weights(outcomes, counts, unanswerable_share)
    base = _Base(target_precision=target_precision, unanswerable_share=unanswerable_share,
                 questions_by_kind=counts, confirm_precision=confirm_precision)
    if sum(counts.get(kind, 0) for kind in ANSWERABLE_KINDS) < MIN_ANSWERABLE:
        negative = np.array([not o.answerable for o in outcomes])
        threshold = _above_share(confidence[negative], target_precision) if negative.any() else DEFAULT_THRESHOLD
        return Calibration(threshold=threshold, method="unanswerable questions only (too few questions to hold out)",
                           answered_by_kind=_answered_by_kind(outcomes, confidence, threshold),
                           confirm_threshold=threshold, **base.fields())
    order = np.argsort(-confidence, kind="stable")
    ordered = confidence[order]
    answered_weight = np.cumsum(weight[order])
    right_weight = np.cumsum((weight * correct)[order])
    precision = right_weight / answered_weight
    # a threshold equal to a confidence answers every question with that confidence: take the last of each tie
    last_of_tie = np.append(ordered[1:] != ordered[:-1], True)
    meets = np.nonzero(last_of_tie & (precision >= target_precision))[0]
    method = _method(counts)
    if len(meets):
        at = int(meets[-1])
        threshold = float(ordered[at])
        direct = _Band(round(float(precision[at]), 4), round(float(answered_weight[at]), 4))
        above_weight, above_right = answered_weight[at], right_weight[at]
    else:
        at, threshold = -1, NEVER  # nothing is answered directly
        method += ": the target cannot be reached"
        direct = _Band(None, 0.0)
        above_weight = above_right = 0.0
    # the confirm band [confirm, threshold): its own precision, extending downwards from the answer threshold
    band_weight = answered_weight - above_weight
    band_precision = np.divide(right_weight - above_right, band_weight, out=np.zeros_like(band_weight),
                               where=band_weight > 0)
    below = np.arange(len(ordered)) > at
    band_meets = np.nonzero(below & last_of_tie & (band_precision >= confirm_precision))[0]
    if len(band_meets):
        band_at = int(band_meets[-1])
        confirm_threshold = float(ordered[band_at])
        band = _Band(round(float(band_precision[band_at]), 4), round(float(band_weight[band_at]), 4))
    else:
        confirm_threshold, band = threshold, _Band(None, 0.0)
    return Calibration(threshold=threshold, method=method, confirm_threshold=confirm_threshold,
                       answered_by_kind=_answered_by_kind(outcomes, confidence, threshold),
                       confirmed_by_kind=_answered_by_kind(outcomes, confidence, confirm_threshold, below=threshold),
                       expected_precision=direct.precision, expected_auto_answer_rate=direct.rate,
                       expected_confirm_precision=band.precision, expected_confirm_rate=band.rate, **base.fields())


@dataclass(frozen=True)
class _Base:
    """What every calibration records of how it was asked for."""

    target_precision: float
    unanswerable_share: float
    questions_by_kind: dict[str, int]
    confirm_precision: float

    def fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Band:
    """A band's expected precision (None: the band is empty) and its expected share of all questions."""

    precision: float | None
    rate: float


def _method(counts: dict[str, int]) -> str:
    used = [name for kind, name in ((ANSWERABLE, "held-out phrasings"), (REWORDED_QUESTION, "reworded questions"),
                                    (CONFIRMED, "questions confirmed in use")) if counts.get(kind)]
    return " and ".join(used)


def _phrasing_folds(rng: np.random.Generator, phrasings: int) -> np.ndarray:
    """The fold in which each phrasing of an entry is held out (-1: never, the question beside alternatives).

    The alternatives' folds are all different while there are at most FOLDS of them (an entry then loses one
    phrasing at a time, as in use it has them all), as even as can be when there are more.
    """
    if phrasings == 1:
        return np.array([-1])  # an FAQ's only question is asked reworded instead
    return np.concatenate([[-1], (rng.integers(FOLDS) + rng.permutation(phrasings - 1)) % FOLDS])


def _weights(outcomes: Sequence[Outcome], counts: dict[str, int], unanswerable_share: float) -> np.ndarray:
    """Answerable questions (every kind alike) share 1 - unanswerable_share; held-out entries and the bank split
    the rest evenly."""
    answerable_total = sum(counts.get(k, 0) for k in ANSWERABLE_KINDS)
    bank_total = sum(n for k, n in counts.items() if k not in (*ANSWERABLE_KINDS, IN_DOMAIN))
    unanswerable_groups = (IN_DOMAIN in counts) + (bank_total > 0)
    share = {"answerable": 1.0 - unanswerable_share if answerable_total else 0.0}
    if unanswerable_groups:
        share[IN_DOMAIN] = unanswerable_share / unanswerable_groups
        share["bank"] = unanswerable_share / unanswerable_groups
    result = []
    for o in outcomes:
        if o.answerable:
            result.append(share["answerable"] / answerable_total)
        elif o.kind == IN_DOMAIN:
            result.append(share[IN_DOMAIN] / counts[IN_DOMAIN])
        else:
            result.append(share["bank"] / bank_total)
    return np.array(result)


def _answered_by_kind(outcomes: Sequence[Outcome], confidence: np.ndarray, threshold: float,
                      below: float | None = None) -> dict[str, float]:
    """Share of each kind at or above `threshold` (and below `below`, if given)."""
    answered = (confidence >= threshold) & (confidence < below if below is not None else True)
    kinds = sorted({o.kind for o in outcomes})
    return {kind: round(float(np.mean([a for a, o in zip(answered, outcomes, strict=True) if o.kind == kind])), 4)
            for kind in kinds}


def _above_share(negatives: np.ndarray, share: float) -> float:
    """A threshold that at most 1 - share of these confidences reach."""
    ordered = np.sort(negatives)
    index = min(len(ordered) - 1, int(np.ceil(share * len(ordered))) - 1)
    return float(ordered[max(index, 0)]) + 1e-6


def _sample(rng: np.random.Generator, pairs: list[_T]) -> list[_T]:
    if len(pairs) <= MAX_QUESTIONS:
        return pairs
    chosen = rng.choice(len(pairs), size=MAX_QUESTIONS, replace=False)
    return [pairs[i] for i in sorted(chosen)]


def _without_fold(item: IndexedEntry, folds: np.ndarray, fold: int) -> IndexedEntry:
    """The entry without its alternative phrasings of `fold` (held out as questions); its question always stays,
    and so does its row in the context of its topic."""
    keep = folds != fold
    if keep.all():
        return item
    entry = item.entry
    kept = [p for p, k in zip(entry.phrasings, keep, strict=True) if k]
    rows = item.vectors[:len(entry.phrasings)][keep]
    return IndexedEntry(entry=entry.model_copy(update={"alt_questions": tuple(kept[1:])}),
                        vectors=np.vstack([rows, item.vectors[len(entry.phrasings):]]),
                        answer_vector=item.answer_vector, state=item.state)


def _vectors(embed: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
    return embed(texts) if texts else np.zeros((0, 0), dtype=np.float32)


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
