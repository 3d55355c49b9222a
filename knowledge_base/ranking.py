"""From the candidates a backend found to ranked hits: the same for every backend (see search/fusion.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from knowledge_base.classifier import EntryClassifier
from knowledge_base.embedder import Embedder
from knowledge_base.entry import Entry
from knowledge_base.search.fusion import confidences, entry_score, long_message_score, vote
from knowledge_base.search.protocol import Candidate, Filters, SearchBackend, SearchHit

# A message is read sentence by sentence as well as whole when it has at least this many words and two
# sentences: the model reads only the first 256 tokens, and a long complaint dilutes its one question.
# Shorter messages are read whole only: embedding their sentences too would cost latency for no gain measured.
LONG_MESSAGE_WORDS = 40
MAX_SENTENCES = 16
# Entries each backend search returns for fusion, whatever top_k: the confidence must not depend on top_k.
CANDIDATES = 30
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")
_MIN_SENTENCE_WORDS = 3


def indexed_phrasings(entry: Entry) -> tuple[str, ...]:
    """The texts embedded for an entry: its phrasings, and its question in the context of its topic.

    A city FAQ's "How much is the fee?" means something only under its topic "Disposable Bag Fee".
    """
    texts = entry.phrasings
    if entry.topic and entry.topic.strip().casefold() not in entry.question.casefold():
        texts = (*texts, f"{entry.topic}: {entry.question}")
    return texts


def shown_phrasing(entry: Entry, row: int) -> str:
    """The phrasing to show for a row of `indexed_phrasings(entry)` (the topic's row shows the question)."""
    return entry.phrasings[row] if row < len(entry.phrasings) else entry.question


def sentences(text: str) -> list[str]:
    """The sentences of a long message (an empty list for a short one); fragments join the sentence before."""
    if len(text.split()) < LONG_MESSAGE_WORDS:
        return []
    parts: list[str] = []
    for piece in _SENTENCE_END.split(text.strip()):
        if not piece:
            continue
        if parts and len(piece.split()) < _MIN_SENTENCE_WORDS:
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts[:MAX_SENTENCES] if len(parts) > 1 else []


def message_parts(embedder: Embedder, text: str) -> tuple[list[str], np.ndarray]:
    """The texts a message is ranked by (itself, then its sentences if it is long) and their vectors."""
    pieces = sentences(text)
    if not pieces:
        return [text], embedder.embed([text])
    return [text, *pieces], embedder.embed_message(text, pieces)


def search(backend: SearchBackend, classifier: EntryClassifier | None, texts: Sequence[str],
           vectors: np.ndarray, *, top_k: int, filters: Filters | None = None) -> list[SearchHit]:
    """Rank entries for a message: `texts[0]` is the whole message, the others its sentences; `vectors` theirs.

    BM25 reads the whole message only: its words are all there, and a search per sentence costs latency.
    """
    limit = max(top_k, CANDIDATES)
    parts = [(backend.search(text if index == 0 else "", vector, limit=limit, filters=filters),
              classifier.probabilities(vector) if classifier is not None else None)
             for index, (text, vector) in enumerate(zip(texts, vectors, strict=True))]
    return rank(parts, top_k=top_k)


def rank(parts: Sequence[tuple[Sequence[Candidate], Mapping[str, float] | None]], *, top_k: int) -> list[SearchHit]:
    """The `top_k` best entries, best first, with their confidences.

    Each part is the candidates for a text and the entry classifier's probabilities for it (None: the knowledge
    base has no classifier); the first part is the whole message, the others its sentences (long messages).
    """
    (whole, whole_classifier), sentence_parts = parts[0], parts[1:]
    scored: dict[str, tuple[float, Candidate]] = {
        c.entry.id: (_score(c, whole_classifier), c) for c in whole}
    if sentence_parts:
        best_sentence: dict[str, tuple[float, Candidate]] = {}
        for candidates, classifier in sentence_parts:
            for candidate in candidates:
                score = _score(candidate, classifier)
                if candidate.entry.id not in best_sentence or score > best_sentence[candidate.entry.id][0]:
                    best_sentence[candidate.entry.id] = (score, candidate)
        merged: dict[str, tuple[float, Candidate]] = {}
        for entry_id in scored.keys() | best_sentence.keys():
            # the whole message's candidate when there is one, else the best sentence's
            whole_score, candidate = scored[entry_id] if entry_id in scored else (0.0, best_sentence[entry_id][1])
            sentence_score = best_sentence[entry_id][0] if entry_id in best_sentence else 0.0
            merged[entry_id] = (long_message_score(whole_score, sentence_score), candidate)
        scored = merged
    ordered = sorted(scored.values(), key=lambda item: (-item[0], item[1].entry.id))
    probabilities = None
    best_probabilities = (0.0, 0.0)
    if whole_classifier:
        probabilities = [whole_classifier.get(c.entry.id, 0.0) for _, c in ordered]
        top_two = sorted(whole_classifier.values(), reverse=True)[:2]
        best_probabilities = (top_two[0], top_two[1] if len(top_two) > 1 else 0.0)
    confidence = confidences([score for score, _ in ordered], probabilities, best_probabilities=best_probabilities)
    return [SearchHit(entry=c.entry, confidence=conf, dense=vote(c.phrasing_scores), lexical=c.lexical,
                      matched_phrasing=c.matched_phrasing, score=score)
            for (score, c), conf in zip(ordered[:top_k], confidence, strict=False)]


def _score(candidate: Candidate, classifier: Mapping[str, float] | None) -> float:
    return entry_score(phrasing_scores=candidate.phrasing_scores, answer=candidate.answer_score,
                       lexical=candidate.lexical,
                       classifier=None if classifier is None else classifier.get(candidate.entry.id, 0.0))
