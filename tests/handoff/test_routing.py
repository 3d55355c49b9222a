"""route_case: category override, then the departments of the best entries, then the fallback inbox."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from accounts import Account
from handoff.directory import Category
from handoff.routing import RoutingError, check_account_departments, route_case
from knowledge_base.department_vote import ENTRIES_CONSIDERED, MIN_ENTRY_CONFIDENCE
from tests.handoff.conftest import small_directory

DIRECTORY = small_directory()


def routed(*, category: Category | None = None, entries=()) -> tuple[str, str]:
    assignment = route_case(directory=DIRECTORY, category=category, entry_matches=entries)
    return assignment.department.code, assignment.reason


def test_the_category_overrides_the_entries():
    pothole = DIRECTORY.category("pothole")
    assert routed(category=pothole, entries=[("Waste & Recycling", 0.95)]) == ("roads", "category pothole")


def test_a_category_naming_an_unknown_department_is_an_error():
    stray = Category(code="stray", name="Stray animal", department="animals")
    with pytest.raises(RoutingError, match="category 'stray' names unknown department 'animals'"):
        route_case(directory=DIRECTORY, category=stray, entry_matches=[("Public Works", 0.9)])


def test_the_best_entry_department_wins_without_a_category():
    assert routed(entries=[("Public Library", 0.8), ("Public Works", 0.4)]) == (
        "library", "best-matching knowledge base entries")


def test_entry_confidences_are_summed_per_department():
    entries = [("Public Works", 0.7), ("Waste & Recycling", 0.4), ("Waste & Recycling", 0.4)]
    assert routed(entries=entries) == ("waste", "best-matching knowledge base entries")


def test_entries_below_the_minimum_confidence_do_not_vote():
    assert MIN_ENTRY_CONFIDENCE == 0.35
    assert routed(entries=[("Public Works", 0.3499), ("Public Library", 0.2)]) == ("inbox", "fallback inbox")
    assert routed(entries=[("Public Works", 0.35)]) == ("roads", "best-matching knowledge base entries")
    # a weak match cannot tip the balance either
    assert routed(entries=[("Public Works", 0.5), ("Waste & Recycling", 0.36), ("Waste & Recycling", 0.34)]) == (
        "roads", "best-matching knowledge base entries")


def test_only_the_top_three_entries_vote():
    assert ENTRIES_CONSIDERED == 3
    entries = [("Public Works", 0.7), ("Waste & Recycling", 0.36), ("Public Library", 0.36),
               ("Waste & Recycling", 0.36), ("Waste & Recycling", 0.36)]
    assert routed(entries=entries) == ("roads", "best-matching knowledge base entries")


def test_unknown_and_missing_department_names_are_ignored():
    assert routed(entries=[("Department of Nothing", 0.9), (None, 0.9), ("public library", 0.4)]) == (
        "library", "best-matching knowledge base entries")
    assert routed(entries=[("", 0.9), ("Public Works", 0.4)]) == ("roads", "best-matching knowledge base entries")


def test_nothing_to_go_on_goes_to_the_fallback_inbox():
    assert routed() == ("inbox", "fallback inbox")
    assert routed(entries=[("Department of Nothing", 0.9)]) == ("inbox", "fallback inbox")


def test_a_missing_fallback_department_is_an_error_not_a_silent_drop():
    # The directory refuses such a file when it is loaded...
    with pytest.raises(ValidationError, match="fallback_department names unknown department 'gone'"):
        small_directory(fallback_department="gone")
    # ...and routing refuses it too, should an unvalidated directory ever reach it.
    broken = DIRECTORY.model_construct(**{**dict(DIRECTORY), "fallback_department": "gone"})
    with pytest.raises(RoutingError, match="fallback department 'gone' does not exist"):
        route_case(directory=broken, entry_matches=[("Department of Nothing", 0.9)])


def test_the_account_written_to_sends_a_case_to_its_department_unless_the_message_names_a_category():
    transport = Account(name="transport", channel="telegram", display_name="Transport", department="waste")
    assignment = route_case(directory=DIRECTORY, entry_matches=[("Public Library", 0.9)], account=transport)
    assert (assignment.department.code, assignment.reason) == ("waste", "default department of account transport")
    pothole = route_case(directory=DIRECTORY, category=DIRECTORY.category("pothole"), account=transport)
    assert (pothole.department.code, pothole.reason) == ("roads", "category pothole")
    city = Account(name="telegram", channel="telegram", display_name="City")  # no default department
    assert route_case(directory=DIRECTORY, entry_matches=[("Public Library", 0.9)], account=city).department.code \
        == "library"


def test_an_account_naming_an_unknown_department_is_refused_at_start_and_when_routing():
    stray = Account(name="animals", channel="x", display_name="Animals", department="animals")
    with pytest.raises(RoutingError, match="account 'animals' names unknown department 'animals'"):
        check_account_departments([stray], DIRECTORY)
    with pytest.raises(RoutingError, match="account 'animals' names unknown department 'animals'"):
        route_case(directory=DIRECTORY, account=stray)
    check_account_departments([Account(name="web", channel="web", display_name="Web")], DIRECTORY)
