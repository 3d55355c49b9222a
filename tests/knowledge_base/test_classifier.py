"""The entry classifier, trained on the knowledge base's own phrasings when entries have many."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base import ranking
from knowledge_base.classifier import MIN_MEDIAN_PHRASINGS, EntryClassifier
from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.factory import build_knowledge_base
from knowledge_base.lifecycle import PUBLISHED
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


def test_entries_reindexed_without_retraining_retrain_at_the_next_recalibration(tmp_path, embedder):
    kb = build_knowledge_base(database_url=f"sqlite:///{tmp_path}/kb.db", model_name=DEFAULT_MODEL, threshold=0.9)
    kb.import_entries(ENTRIES)
    trained = kb.classifier
    assert trained is not None
    first = ENTRIES[0]
    kb.store.save(first.model_copy(update={"alt_questions": (*first.alt_questions, "a phrasing approved in use")}),
                  state=PUBLISHED, editor="test", note="approved phrasing", require=True)
    kb.refresh(calibrate=False, retrain=False)  # as an approved phrasing is indexed: answers at once, no training
    assert kb.classifier is trained
    kb.refresh(force_calibration=True)  # the recalibration that follows retrains first
    assert kb.classifier is not trained
    assert first.id in kb.classifier.entry_ids
