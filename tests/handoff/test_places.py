"""find_address: the street address or intersection a citizen names, as written."""

from __future__ import annotations

import pytest

from handoff.places import find_address


@pytest.mark.parametrize(("text", "address"), [
    ("There's a pothole outside 14 Elm St. Please fix it", "14 Elm St."),
    ("water leak at 221B Baker Street since Monday", "221B Baker Street"),
    ("1200 north maple avenue has no water", "1200 north maple avenue"),
    ("my address is 77 Sunset Blvd, apt 4", "77 Sunset Blvd"),
    ("the light on Main Street near 5th is out", "Main Street near 5th"),
    ("corner of Oak Ave & Pine St", "Oak Ave & Pine St"),
    ("broken signal at 5th Avenue and Main", "5th Avenue and Main"),
    ("streetlight on Kings Hwy at 3rd St", "Kings Hwy at 3rd St"),
    ("graffiti on Martin Luther King Boulevard", "Martin Luther King Boulevard"),
    ("dead raccoon on Riverside Dr", "Riverside Dr"),
])
def test_addresses_and_intersections_are_found_as_written(text, address):
    assert find_address(text) == address


def test_the_first_address_wins():
    assert find_address("trash at 12 Oak Lane and more at 40 Pine Road") == "12 Oak Lane"


@pytest.mark.parametrize("text", ["pothole somewhere downtown", "I have 3 dogs and 2 cats",
                                  "the street light near my house is out", "call me at 555 0134", ""])
def test_no_address_gives_none(text):
    assert find_address(text) is None
