"""The redactor: every kind in many formats, with its label and exact spans; what is not personal data stays."""

from __future__ import annotations

import pytest

from privacy.pii.ids import luhn_valid, rrn_valid, ssn_valid
from privacy.redactor import PLACEHOLDERS, Redactor

redact = Redactor().redact  # the default phone regions (US, KR), as the settings have them


def only_finding(text: str, piece: str, kind: str) -> None:
    """`piece` of `text` is found as exactly one finding of `kind`, at its offsets, and replaced by its label."""
    result = redact(text)
    start = text.index(piece)
    assert [(f.kind, f.start, f.end) for f in result.findings] == [(kind, start, start + len(piece))], result
    assert result.text == text[:start] + PLACEHOLDERS[kind] + text[start + len(piece):]


@pytest.mark.parametrize("number", [
    "+1 (303) 555-0142", "303.555.0142", "303-555-0198", "(720) 555-0123", "+44 20 7946 0958", "+82 10-1234-5678",
    "010-1234-5678", "+49 30 1234567", "7205550187", "+1-720-555-0111", "303 555 0176", "555-0142",
    "1 (303) 555-0199", "+52 55 1234 5678", "+33 1 42 68 53 00", "02-312-3456", "+82-2-312-3456", "+44 7700 900123",
    "(303)555-0164", "+1.303.555.0145", "+81 3-1234-5678", "+7 495 123-45-67", "303-555-0177 x204"])
def test_phone_numbers_in_many_formats(number):
    only_finding(f"Please call me at {number} about the pothole.", number, "phone")


@pytest.mark.parametrize("email", [
    "jane.doe@example.com", "marcus_lee+city@mail.example.org", "JOHN.SMITH@EXAMPLE.COM", "minsu.park@naver.com",
    "nightowl_77@example.co.uk", "jane dot doe at gmail dot com", "tkim(at)example(dot)org",
    "maria.lopez[at]example.com"])
def test_email_addresses(email):
    only_finding(f"Reply to {email} please", email, "email")


@pytest.mark.parametrize("card", [
    "4111 1111 1111 1111", "5500-0000-0000-0004", "3782 822463 10005", "6011111111111117", "4012 8888 8888 1881",
    "3530 1113 3330 0000", "3056 930902 5904", "4222222222222", "5555.5555.5555.4444"])
def test_card_numbers_that_pass_luhn(card):
    only_finding(f"I was charged twice on {card} for the permit.", card, "card")


@pytest.mark.parametrize("text", [
    "My order number is 4929 1234 5678 9012 and it has not shipped.",
    "Tracking 9400111202555842 for the compost bin.",
    "Reference 7700-1234-5678-9012 was on my receipt."])
def test_a_number_that_fails_luhn_is_not_a_card(text):
    assert redact(text).text == text


def test_luhn():
    assert luhn_valid("4111111111111111") and luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112") and not luhn_valid("4929123456789012")


def test_a_card_number_beside_a_year_is_cut_from_it():
    text = "card 4111 1111 1111 1111 2027 was declined"
    only_finding(text, "4111 1111 1111 1111", "card")


@pytest.mark.parametrize(("text", "ssn"), [
    ("My SSN is 123-45-6789, is that safe?", "123-45-6789"),
    ("SSN 412 55 0198 for the tax appeal", "412 55 0198"),
    ("my social security number is 536221984.", "536221984")])
def test_us_social_security_numbers(text, ssn):
    only_finding(text, ssn, "national_id")


@pytest.mark.parametrize("ssn", ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"])
def test_ssn_validity_rules(ssn):
    area, group, serial = ssn.split("-")
    assert not ssn_valid(area, group, serial)
    text = f"The letter quotes {ssn} as my number."
    assert all(f.kind != "national_id" for f in redact(text).findings)


def test_nine_bare_digits_are_an_ssn_only_when_the_message_says_so():
    assert redact("Confirmation 536221984 for the booking").findings == ()


@pytest.mark.parametrize("rrn", ["900101-1234567", "850315-2012341", "021120-4123450", "990228-1234568",
                                 "760514-1456789"])
def test_korean_resident_registration_numbers(rrn):
    only_finding(f"주민등록번호 {rrn} 입니다", rrn, "national_id")


def test_bare_rrn_needs_its_checksum():
    assert rrn_valid("8503152012341", formatted=False)
    assert not rrn_valid("8503152012342", formatted=False)
    only_finding("My resident registration number is 8503152012341 thanks", "8503152012341", "national_id")


@pytest.mark.parametrize("rrn", [
    "991332-1234567",  # month 13
    "900230-1234567",  # 30 February
    "900101-9234567",  # 7th digit 9: born in the 1800s
    "300101-3234567",  # 7th digit 3: born in 2030, in the future
])
def test_rrn_date_and_gender_digit_rules(rrn):
    assert not rrn_valid(rrn, formatted=True)


@pytest.mark.parametrize(("text", "address"), [
    ("I live at 123 Main St and the light is out.", "123 Main St"),
    ("Pickup at 4 Elm Street Apt 5, it's a couch.", "4 Elm Street Apt 5"),
    ("My address is 2210 N. Ridgeview Blvd, Alderbrook 80210.", "2210 N. Ridgeview Blvd"),
    ("Send the inspector to 88 Willow Lane, Unit 3B.", "88 Willow Lane, Unit 3B"),
    ("Flooding at Flat 3, 14 Baker Street after the storm.", "Flat 3, 14 Baker Street"),
    ("I'm at 1200 Pennsylvania Avenue SE and the glass is smashed.", "1200 Pennsylvania Avenue SE"),
    ("Mail it to PO Box 4471, Alderbrook.", "PO Box 4471"),
    ("we live at 42 Maple and the hydrant leaks", "42 Maple"),
    ("Party noise at 14-16 Orchard St every weekend.", "14-16 Orchard St"),
    ("we're at 1600 E. Colfax Ave., Unit 210, please", "1600 E. Colfax Ave., Unit 210"),
    ("서울시 중구 세종대로 110 앞 보도블록이 깨졌어요.", "세종대로 110"),
])
def test_street_addresses(text, address):
    only_finding(text, address, "address")


@pytest.mark.parametrize("text", [
    "The streetlight at Main St and 5th Ave is out.",  # an intersection: where, not who
    "There is a pothole on Elm Street between 3rd and 4th.",
    "The 100 block of Oak Street floods every time it rains.",
    "Two cars on the road were blocking the hydrant.",
    "3 potholes on Maple Ave near the school.",
    "Road closure on Route 66 near exit 12.",
    "Mayor Johnson promised to fix Dr. Martin Luther King Jr. Blvd.",
])
def test_streets_without_a_house_number_are_kept(text):
    assert redact(text).text == text


@pytest.mark.parametrize(("text", "name"), [
    ("My name is Jane Doe and the bin is full.", "Jane Doe"),
    ("my name is jane doe, where do I pay a ticket", "jane doe"),
    ("Hi, this is Tom Becker speaking, about the fence.", "Tom Becker"),
    ("I'm Maria Lopez, owner of the bakery.", "Maria Lopez"),
    ("Call me Ed, everyone does.", "Ed"),
    ("Thanks for fixing it!\nMaria Lopez", "Maria Lopez"),
    ("The leaves are still here.\n- John", "John"),
    ("Regards, J. Smith", "J. Smith"),
    ("Sincerely,\nDr. Ana Park", "Ana Park"),
    ("Best regards\nNguyễn Văn An", "Nguyễn Văn An"),
    ("I'm Jean-Luc Moreau and I want to report a bench.", "Jean-Luc Moreau"),
    ("Dear Sir, my name is Maria de la Cruz and I appeal.", "Maria de la Cruz"),
    ("My neighbour Bob Jones parks across my driveway.", "Bob Jones"),
    ("Hey it's Danny again, no answer yet.", "Danny"),
    ("Kind regards, Marta (Ward 4)", "Marta"),
    ("thanks, maria", "maria"),
    ("Hey, Ahmed here. The benches are broken.", "Ahmed"),
    ("Please forward this.\n\nGwen Morales\nAlderbrook Garden Club", "Gwen Morales"),
])
def test_names_the_citizen_gives(text, name):
    only_finding(text, name, "name")


@pytest.mark.parametrize(("text", "name"), [
    ("For the exemption: SSN 536-22-1984, address 901 Quarry Road, Helen Ward.", "Helen Ward"),
    ("Sent via the app. Pat O'Neill, 303 555 0161", "Pat O'Neill"),
    ("Reply to:\nGrace Liu\ngrace.liu@example.com", "Grace Liu"),
])
def test_a_full_name_listed_with_contact_details(text, name):
    result = redact(text)
    start = text.index(name)
    assert ("name", start, start + len(name)) in [(f.kind, f.start, f.end) for f in result.findings], result
    assert name not in result.text


@pytest.mark.parametrize("text", [
    "Call 303-555-0142, Monday to Friday.",  # not a name: a one-word or everyday phrase beside a number
    "Call 303-555-0142, Main Office",
    "Email parks@example.com, Thanks",
])
def test_words_beside_contact_details_that_are_not_names(text):
    assert all(f.kind != "name" for f in redact(text).findings)


@pytest.mark.parametrize(("text", "number"), [
    ("my cell is three zero three 555 0140 if it blocks digits", "three zero three 555 0140"),
    ("call five five five, zero one four two tonight", "five five five, zero one four two"),
])
def test_numbers_spelled_out_in_words(text, number):
    only_finding(text, number, "phone")


@pytest.mark.parametrize("text", ["I have one or two questions about 3 bins", "Route one nine and 2026"])
def test_a_few_number_words_are_not_a_phone(text):
    assert redact(text).text == text


@pytest.mark.parametrize("text", [
    "I'm Angry. This is the third time the bins were missed!", "I'm having trouble paying my bill online.",
    "I'm worried about the dead tree on Cedar Ave.", "I'm not sure who to ask.", "This is ridiculous.",
    "Hi, this is urgent: water is coming out of the road.", "Thanks for the quick answer!",
    "Thanks, the bin was collected.", "Please call me back about my permit.", "I'm Korean and need the guide.",
    "I'm Polish and the form is only in English.", "Call me Maybe is playing at the festival lol",
    "Thanks!\nSent from my iPhone", "Thanks, City of Alderbrook!", "I'm 67 years old.",
    "Officer Davis was very helpful.",
])
def test_what_is_not_a_name_is_kept(text):
    assert redact(text).text == text


@pytest.mark.parametrize("text", [
    "My case number is 2026-000123, any update?", "I paid $45.00 on 2026-03-14 at 10:30.",
    "Ticket #7301234567 was issued while I was parked legally.", "Permit PR-2025-00412 is still pending.",
    "Between 2019 and 2023 the park had concerts.", "The library is open 9:00 to 17:30, the sign says 8am-5pm.",
    "Call 911 if someone is hurt; dial 311 otherwise.", "Order 1234567 for a new cart hasn't arrived.",
    "The parking meter 4471-229 ate my coins.", "Serial number on the bin is 70-4412-9 if that helps.",
    "Population is 120,000 and we have one pool.", "Can I pay the $1,250.00 fee in installments?",
    "see the form at alderbrook.gov", "@AlderbrookCity is the market on this Saturday?",
])
def test_numbers_and_references_that_are_not_personal_are_kept(text):
    assert redact(text).text == text


def test_several_kinds_in_one_message_keep_their_offsets():
    text = ("I'm Carla Diaz, I live at 58 Spruce Street, my number is 720-555-0104 and email "
            "carla.diaz@example.com. Card 4111-1111-1111-1111, SSN 536-22-1984.")
    result = redact(text)
    expected = [("name", "Carla Diaz"), ("address", "58 Spruce Street"), ("phone", "720-555-0104"),
                ("email", "carla.diaz@example.com"), ("card", "4111-1111-1111-1111"), ("national_id", "536-22-1984")]
    assert [(f.kind, text[f.start:f.end]) for f in result.findings] == expected
    assert result.text == ("I'm [name], I live at [address], my number is [phone] and email [email]. "
                           "Card [card number], SSN [ID number].")


def test_overlapping_findings_are_merged_under_the_stronger_kind():
    # "this is 303 555 0142" is no name, but a phone inside a signature-like line must be redacted whole
    text = "Reach me: 303 555 0142\n-- 303 555 0142"
    result = redact(text)
    assert {f.kind for f in result.findings} == {"phone"}
    assert "555" not in result.text
    ends = [f.end for f in result.findings]
    starts = [f.start for f in result.findings]
    assert all(e <= s for e, s in zip(ends, starts[1:], strict=False))


def test_phone_regions_are_a_setting_of_the_redactor():
    text = "Ring 07700 900123 about the rental car."  # a British mobile written the British way
    assert redact(text).text == text
    assert Redactor(["GB", "US"]).redact(text).text == "Ring [phone] about the rental car."
    with pytest.raises(ValueError, match="Unknown phone region"):
        Redactor(["XX"])


def test_empty_and_plain_text():
    assert redact("").text == "" and redact("").findings == ()
    assert redact("When is bulk trash pickup?").findings == ()
