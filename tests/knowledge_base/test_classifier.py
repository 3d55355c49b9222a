"""The entry classifier, trained on the knowledge base's own phrasings when entries have many."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base import ranking
from knowledge_base.classifier import MIN_MEDIAN_PHRASINGS, EntryClassifier
from knowledge_base.search.protocol import IndexedEntry
from tests.knowledge_base.calibration_kb import ENTRIES, HELD_OUT
from tests.knowledge_base.conftest import SMALL_ENTRIES


def indexed(entries, embedder) -> list[IndexedEntry]:
    return [IndexedEntry(entry=e, vectors=embedder.embed(list(ranking.indexed_phrasings(e)))) for e in entries]


def test_entries_with_few_phrasings_get_no_classifier(embedder):
    assert max(len(e.phrasings) for e in SMALL_ENTRIES) < MIN_MEDIAN_PHRASINGS
    assert EntryClassifier.train(indexed(SMALL_ENTRIES, embedder)) is None


def test_one_entry_gets_no_classifier(embedder):
    assert EntryClassifier.train(indexed(ENTRIES[:1], embedder)) is None


def test_the_classifier_knows_the_entries_of_held_out_questions(embedder):
    classifier = EntryClassifier.train(indexed(ENTRIES, embedder))
    answerable = [(text, expected) for text, expected in HELD_OUT if expected]
    right = 0
    for text, expected in answerable:
        probabilities = classifier.probabilities(embedder.embed_one(text))
        assert set(probabilities) == {e.id for e in ENTRIES}
        assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        right += max(probabilities, key=probabilities.get) == expected
    assert right >= len(answerable) - 1


def test_two_entries_make_a_binary_classifier_with_both_probabilities(embedder):
    classifier = EntryClassifier.train(indexed(ENTRIES[:2], embedder))
    probabilities = classifier.probabilities(embedder.embed_one("can i recycle glass jars"))
    assert probabilities["c-glass"] > 0.5 > probabilities["c-dogpark"]
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert np.isfinite(list(probabilities.values())).all()
