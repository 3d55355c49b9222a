"""Grouping the questions the knowledge base could not answer, with the real embedding model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.gaps import GapFinder, Question, gaps_of, group
from knowledge_base.store import EmbeddingCache
from tests.privacy.conftest import REDACTOR

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
# (text, minutes after T0)
MESSAGES = [
    ("When does the swimming pool open?", 0),
    ("what are the opening hours of the public pool", 30),
    ("is the pool open on sundays", 300),
    ("Can I bring my dog to the farmers market?", 10),
    ("are dogs allowed at the farmers market", 20),
    ("How do I get a permit for a food truck?", 40),
    ("food truck permit application", 50),
    ("what licence do I need to sell food from a truck? call me on 303-555-0142", 60),
    ("food truck permit application", 70),
    ("When is the library open?", 5),
    ("Is there free wifi at City Hall?", 400),
]


@pytest.fixture
def cache(sessions) -> EmbeddingCache:
    return EmbeddingCache(sessions, DEFAULT_MODEL)


@pytest.fixture
def finder(embedder, cache) -> GapFinder:
    return GapFinder(embedder, cache, redact=REDACTOR.public_text)


def questions() -> list[Question]:
    return [Question(text=text, at=T0 + timedelta(minutes=minutes)) for text, minutes in MESSAGES]


def test_questions_that_mean_the_same_are_one_group_with_its_count_newest_first(finder):
    gaps = finder.gaps(questions())
    assert [(g.count, g.newest - T0, g.examples) for g in gaps] == [
        (1, timedelta(minutes=400), ("Is there free wifi at City Hall?",)),
        (3, timedelta(minutes=300), ("is the pool open on sundays", "what are the opening hours of the public pool",
                                     "When does the swimming pool open?")),
        # four messages, three different texts; the newest first; the phone number redacted
        (4, timedelta(minutes=70), ("food truck permit application",
                                    "what licence do I need to sell food from a truck? call me on [phone]",
                                    "How do I get a permit for a food truck?")),
        (2, timedelta(minutes=20), ("are dogs allowed at the farmers market",
                                    "Can I bring my dog to the farmers market?")),
        (1, timedelta(minutes=5), ("When is the library open?",)),
    ]


def test_the_groups_do_not_depend_on_the_order_of_the_messages(finder):
    forward = finder.gaps(questions())
    assert finder.gaps(list(reversed(questions()))) == forward


def test_each_text_is_embedded_once_and_kept_in_the_cache(finder, cache, embedder):
    texts = {text for text, _ in MESSAGES}
    assert cache.get_many(texts) == {}
    first = finder.gaps(questions())
    stored = cache.get_many(texts)
    assert set(stored) == texts
    assert np.allclose(stored["food truck permit application"], embedder.embed_one("food truck permit application"),
                       atol=1e-5)
    # a restarted desk (a new finder on the same database) finds the same groups from the stored vectors
    assert GapFinder(embedder, cache, redact=REDACTOR.public_text).gaps(questions()) == first


def test_at_most_three_examples_are_shown_for_a_large_group(finder):
    many = [Question(text=f"when does the swimming pool open on day {n}", at=T0 + timedelta(minutes=n))
            for n in range(6)]
    (gap,) = finder.gaps(many)
    assert gap.count == 6
    assert gap.examples == tuple(f"when does the swimming pool open on day {n}" for n in (5, 4, 3))


def test_a_stricter_similarity_splits_groups():
    vectors = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)  # cosines 0.8, 0.6, 0.0
    assert len(set(group(vectors, 0.7))) == 2
    assert len(set(group(vectors, 0.9))) == 3
    assert group(vectors, 0.7)[0] == group(vectors, 0.7)[1]


def test_no_questions_no_groups(finder):
    assert finder.gaps([]) == []
    assert gaps_of([], np.zeros((0, 384), dtype=np.float32), redact=REDACTOR.public_text) == []
