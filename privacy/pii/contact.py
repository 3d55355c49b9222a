"""E-mail addresses and telephone numbers (Google's libphonenumber, through `phonenumbers`)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers
from phonenumbers import Leniency

Span = tuple[int, int]

_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
# "jane.doe at gmail dot com", "jane (at) example (dot) org": written so that a robot misses it
_AT = r"\s*(?:\(at\)|\[at\]|\{at\}|\sat\s)\s*"
_DOT = r"(?:\s*(?:\(dot\)|\[dot\]|\{dot\}|\sdot\s)\s*|\.)"
_SPELLED = re.compile(r"\bdot\b|[(\[{]at[)\]}]", re.IGNORECASE)
_OBFUSCATED_EMAIL = re.compile(
    rf"[\w%+-]+(?:{_DOT}[\w%+-]+)*{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}"
    r"(?:com|org|net|edu|gov|io|co|us|uk|kr|de|fr|ca|info|me)\b", re.IGNORECASE)
# Numbers that look like phones to libphonenumber but that citizens give as references.
_REFERENCE_WORD = re.compile(
    r"#|\bno\.|\b(?:case|ticket|citation|order|invoice|permit|reference|ref|confirmation|tracking|account|acct|"
    r"receipt|request|report|application|claim|file|plate|licen[cs]e|serial|parcel|policy|id|meter|vin)\b",
    re.IGNORECASE)
_PHONE_WORD = re.compile(r"\b(?:call|calling|phone|tel|telephone|mobile|cell|cellphone|text|reach|fax|ring|contact|"
                         r"whatsapp|my number|number is|landline|hotline|dial)\b|☎|📞", re.IGNORECASE)
_JUST_LABEL = re.compile(r"[\s:#.]*(?:(?:number|num|no\.?|nr|#|code)[\s:#.]*)?(?:(?:is|was|reads)\s*:?\s*)?",
                         re.IGNORECASE)
# How people write a number in the North American plan: (303) 555-0142, 303.555.0142, 555-0142, 3035550142
_PHONE_SHAPE = re.compile(r"(?:\+?1[\s.-]?)?(?:\(?\d{3}\)?[\s./-]*)?\d{3}[\s./-]*\d{4}(?:\s*(?:ext\.?|x)\s*\d{1,5})?",
                          re.IGNORECASE)
_CASE_NUMBER = re.compile(r"(?:19|20)\d\d-\d{4,7}")


_DIGIT_WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_SPELLED_RUN = re.compile(rf"\b(?:(?:{'|'.join(_DIGIT_WORDS)}|\d+)[\s.,-]+)+(?:{'|'.join(_DIGIT_WORDS)}|\d+)\b",
                          re.IGNORECASE)


def find_spelled_phones(text: str) -> Iterator[Span]:
    """Numbers written partly or wholly in words, as people do to get past filters: "three zero three 555 0140"."""
    for m in _SPELLED_RUN.finditer(text):
        tokens = re.split(r"[\s.,-]+", m.group())
        words = sum(1 for t in tokens if t.lower() in _DIGIT_WORDS)
        digits = words + sum(len(t) for t in tokens if t.isdigit())
        if words >= 3 and 7 <= digits <= 15:
            yield m.span()


def find_emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        yield m.span()
    for m in _OBFUSCATED_EMAIL.finditer(text):
        # "the form at alderbrook.gov" is a web address: a written-out address spells out a "dot" or an "(at)"
        if _SPELLED.search(m.group()):
            yield m.span()


class PhoneFinder:
    """Numbers with a country code anywhere; national formats of the given regions (the city's first)."""

    def __init__(self, regions: Sequence[str] = ("US", "KR")) -> None:
        if not regions:
            raise ValueError("PhoneFinder needs at least one region, such as 'US'")
        unknown = [r for r in regions if r.upper() not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"Unknown phone region(s) {unknown}: use ISO 3166 codes such as 'US', 'KR', 'GB'")
        self.regions = tuple(r.upper() for r in regions)

    def find(self, text: str) -> Iterator[Span]:
        # POSSIBLE (length only) in the city's own region catches local 7-digit and made-up 555 numbers;
        # VALID elsewhere, or every long digit run would pass as some country's number.
        yield from find_spelled_phones(text)
        for i, region in enumerate(self.regions):
            leniency = Leniency.POSSIBLE if i == 0 else Leniency.VALID
            nanp = phonenumbers.country_code_for_region(region) == 1
            for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
                if self._is_reference(text, m.start, m.end):
                    continue
                if nanp and leniency is Leniency.POSSIBLE and not m.raw_string.startswith("+") \
                        and not phonenumbers.is_valid_number(m.number) and not _PHONE_SHAPE.fullmatch(m.raw_string):
                    continue  # "70-4412-9" has a phone's length but not its grouping
                yield m.start, m.end

    @staticmethod
    def _is_reference(text: str, start: int, end: int) -> bool:
        """A case, order or ticket number: named so right before it, or shaped like a case number (2026-000123)."""
        if text[start] == "+":
            return False
        before = text[max(0, start - 40):start]
        words = list(_REFERENCE_WORD.finditer(before))
        if words and _JUST_LABEL.fullmatch(before[words[-1].end():]):
            # "Phone no. 1-800-555-0134", "tel #": the label of a phone number, not of a reference
            label = before[:words[-1].start()]
            return not (words[-1].group().lower() in ("#", "no.") and _PHONE_WORD.search(label[-12:]))
        return bool(_CASE_NUMBER.fullmatch(text[start:end])) and not _PHONE_WORD.search(before)
