"""CategoryClassifier with the real embedding model and the city's categories (handoff/departments.yml)."""

from __future__ import annotations

import pytest

from handoff.categories import MIN_SIMILARITY
from handoff.directory import default_directory


@pytest.mark.parametrize(("text", "code"), [
    ("There is a huge pothole on Elm Street", "pothole"),
    ("the street light on my corner has been out for a week", "streetlight"),
    ("nobody picked up my trash this week", "missed-pickup"),
    ("my recycling was missed again", "missed-pickup"),
])
def test_a_reported_problem_gets_its_category(classifier, text, code):
    category, similarity = classifier.classify(text)
    assert category is not None
    assert category.code == code
    assert category == default_directory().category(code)
    assert similarity >= MIN_SIMILARITY


@pytest.mark.parametrize("text", ["how do I get a library card", "what are the library opening hours"])
def test_a_library_question_gets_no_category(classifier, text):
    category, similarity = classifier.classify(text)
    assert category is None
    assert 0.0 < similarity < MIN_SIMILARITY


def test_blank_text_gets_no_category(classifier):
    assert classifier.classify("   ") == (None, 0.0)
