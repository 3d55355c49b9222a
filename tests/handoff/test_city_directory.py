"""The directory a desk runs with: the city's file plus the departments its entries name, categories mapped."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from handoff.city_directory import CityDirectory, city_directory, with_entry_departments
from handoff.directory import Category, Department, default_directory, slug
from handoff.routing import route_case
from knowledge_base.entry import Entry
from settings import DEMO_KB_FILE
from tests.handoff.conftest import person, small_directory

# roads (Public Works), waste (Waste & Recycling), library (Public Library), inbox (Citizen Services, the fallback)
BASE = small_directory(categories=(Category(code="pothole", name="Pothole", department="roads"),
                                   Category(code="missed-pickup", name="Missed pickup", department="waste",
                                            examples=("trash not collected", "recycling skipped"))))
CITY = ["Housing", "Municipal Court", "Public Works", "Solid Waste", "Solid Waste", None, "  "]


def no_search(text: str):
    raise AssertionError(f"searched the entries for {text!r}: the file's mapping should have stood")


def votes(table: dict[str, list[tuple[str | None, float]]]):
    return lambda text: table.get(text, [])


def test_slugs():
    assert [slug(n) for n in ("Parks & Recreation", "Municipal Court", "  Équipe d'Urgence ", "--")] == [
        "parks-and-recreation", "municipal-court", "equipe-d-urgence", ""]


def test_departments_the_entries_name_are_added_with_the_fallback_head():
    directory = with_entry_departments(BASE, CITY)
    assert [(d.code, d.name, d.head, d.from_knowledge_base) for d in directory.departments[len(BASE.departments):]] == [
        ("housing", "Housing", person("ivy"), True), ("municipal-court", "Municipal Court", person("ivy"), True),
        ("solid-waste", "Solid Waste", person("ivy"), True)]
    assert directory.departments[:len(BASE.departments)] == BASE.departments  # the file's stay as they are
    assert not any(d.from_knowledge_base for d in BASE.departments)
    assert directory.department_by_name("municipal court").code == "municipal-court"


def test_a_name_the_file_knows_by_code_or_spelling_adds_nothing():
    for names in (["Public Works", "public works"], ["roads"], ["Waste and Recycling"], ["PUBLIC LIBRARY"], []):
        assert with_entry_departments(BASE, names) == BASE, names


def test_departments_cases_point_at_are_kept_when_no_entry_names_them_any_more():
    housing = Department(code="housing", name="Housing", head=person("ivy"), from_knowledge_base=True)
    assert with_entry_departments(BASE, [], keep=[housing]).department("housing") == housing
    assert with_entry_departments(BASE, ["Public Works"], keep=[housing]).departments[-1] == housing
    assert with_entry_departments(BASE, [], keep=[BASE.department("roads")]) == BASE


def test_on_the_file_s_own_knowledge_base_the_directory_is_the_file():
    demo = [json.loads(line).get("department") for line in DEMO_KB_FILE.read_text().splitlines()]
    assert city_directory(default_directory(), demo, matches=no_search) == default_directory()
    assert city_directory(BASE, [], matches=no_search) == BASE  # no entry names a department


def test_a_category_keeps_the_file_s_department_when_the_entries_name_it_too():
    directory = city_directory(BASE, CITY, matches=votes({"Pothole": [("Housing", 0.9)]}))
    assert directory.category("pothole").department == "roads"


def test_otherwise_a_category_goes_where_its_texts_best_match_entries():
    table = {"Missed pickup": [("Solid Waste", 0.6), ("Housing", 0.5)],
             "trash not collected": [("Solid Waste", 0.7), ("Solid Waste", 0.5), ("Housing", 0.4)],
             "recycling skipped": [("Housing", 0.5), ("Solid Waste", 0.4)]}
    directory = city_directory(BASE, CITY, matches=votes(table))
    assert directory.category("missed-pickup").department == "solid-waste"
    # the most texts win, not the single strongest match
    table["trash not collected"] = [("Housing", 0.45)]
    assert city_directory(BASE, CITY, matches=votes(table)).category("missed-pickup").department == "housing"


def test_weak_matches_leave_a_category_with_the_file_s_department():
    weak = votes({"trash not collected": [("Solid Waste", 0.2)], "Missed pickup": [("Nobody", 0.9)]})
    assert city_directory(BASE, CITY, matches=weak).category("missed-pickup").department == "waste"


def test_the_city_s_mapping_wins_by_name_or_code_and_an_unknown_name_is_left_out(caplog):
    table = {"trash not collected": [("Solid Waste", 0.9)], "recycling skipped": [("Solid Waste", 0.9)]}
    for mapped, expected in (("Municipal Court", "municipal-court"), ("library", "library"),
                             ("Public Works", "roads"), ("No Such Office", "solid-waste")):
        base = small_directory(categories=BASE.categories,
                               category_departments={"missed-pickup": mapped, "pothole": "Housing"})
        directory = city_directory(base, CITY, matches=votes(table))
        assert directory.category("missed-pickup").department == expected, mapped
        assert directory.category("pothole").department == "housing"
    assert "maps missed-pickup to 'No Such Office'" in caplog.text


def test_a_mapping_of_an_unknown_category_is_refused_when_the_file_is_loaded():
    with pytest.raises(ValidationError, match="category_departments names unknown category 'potholes'"):
        small_directory(category_departments={"potholes": "Public Works"})


def test_routing_follows_the_directory_s_mapping_of_a_category_the_classifier_holds():
    directory = city_directory(BASE, CITY, matches=votes({"trash not collected": [("Solid Waste", 0.9)]}))
    stale = BASE.category("missed-pickup")  # the classifier's copy names the file's department
    assignment = route_case(directory=directory, category=stale, entry_matches=[("Housing", 0.9)])
    assert (assignment.department.name, assignment.reason) == ("Solid Waste", "category missed-pickup")
    # and entries naming the city's own departments route there
    assert route_case(directory=directory, entry_matches=[("Municipal Court", 0.5)]).department.code == (
        "municipal-court")
    assert route_case(directory=BASE, entry_matches=[("Municipal Court", 0.5)]).department.code == "inbox"


def test_the_desk_s_directory_is_rebuilt_when_the_entries_change(make_kb):
    kb = make_kb([Entry(id="court", question="How do I pay a traffic fine at the municipal court?",
                        answer="Online or at the court clerk's window.", department="Municipal Court"),
                  Entry(id="trash", question="What day is my trash collected?",
                        answer="Your collection day is on the city's map.", department="Solid Waste")])
    in_use = {"housing"}
    city = CityDirectory(default_directory(), kb, in_use=lambda: in_use, marker=kb.store.change_marker())
    added = {d.code: d.name for d in city.directory.departments if d.from_knowledge_base}
    assert added == {"municipal-court": "Municipal Court", "solid-waste": "Solid Waste", "housing": "housing"}
    assert city.directory.category("missed-pickup").department == "solid-waste"  # its examples match the trash entry
    assert city.directory.category("pothole").department == "public-works"  # nothing of the city's comes close
    assert city.refresh(kb.store.change_marker()) is None  # nothing changed

    kb.import_entries([Entry(id="housing", question="How do I apply for affordable housing?",
                             answer="Apply with the housing office.", department="Housing")])
    marker = kb.store.change_marker()
    rebuilt = city.refresh(marker)
    assert rebuilt is not None and rebuilt is city.directory
    assert rebuilt.department("housing").name == "Housing"  # the entry's name now, not the kept code
    assert city.refresh(marker) is None
