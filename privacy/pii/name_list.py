"""Given names from names-dataset (privacy/data/first_names.txt), backing context rules the model misses.

Two rules use it: a capitalised "First Last" whose first word is a known given name is a name even where the
named-entity model does not say so ("I spoke with Priyanka Chaudhary from my building"), and a lower-case name is
taken after a cue ("hi its maria gonzalez again", "dana whitfield here") only when its first word is a known given
name. Everyday words that are also given names somewhere ("Will", "May", "Main", "Love") are left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

Span = tuple[int, int]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())

FIRST_NAMES_FILE = Path(__file__).resolve().parents[1] / "data" / "first_names.txt"
LAST_NAMES_FILE = Path(__file__).resolve().parents[1] / "data" / "last_names.txt"
# Given names somewhere that are everyday English words, or words that begin a citizen's sentence.
_EVERYDAY = _words("""
a an the and or but if so as at by to of in on up no yes not all any some one two three will may june april august
march bill mark rose hope joy sunny dawn love hi hello hey main still bus great sent thanks thank dear happy please
can does did do is are was were be been have has had he she it we you they i me my our your his her their this that
what when where who why how which there here then than now new old good best kind well very just also only even
city mayor park street road lane avenue court drive way place square hill lake river north south east west
trash water light lights sign signs tree trees noise snow rain ice fire police help fix fixed broken still again
monday tuesday wednesday thursday friday saturday sunday january february july september october november december
christian king chase summer winter autumn spring star sky ray rich young major long black white brown green gray
grey golden jade amber ivy iris lily daisy heather holly hazel ginger pepper candy honey cookie angel baby bear
sure faith grace mercy
""")
_WORD = r"[^\W\d_][^\W\d_'\u2019-]*(?:[-'\u2019][^\W\d_]+)*"
_TOKEN = re.compile(rf"(?<![\w'\u2019-]){_WORD}|\b[A-Z]\.")


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """The known given names, case-folded, less the everyday words above."""
    lines = FIRST_NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(n.casefold() for n in lines if n and not n.startswith("#")) - _EVERYDAY


@lru_cache(maxsize=1)
def last_names() -> frozenset[str]:
    """The known surnames, case-folded."""
    lines = LAST_NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(n.casefold() for n in lines if n and not n.startswith("#"))


def known_name(words: list[str]) -> bool:
    """Whether a name the model found reads like one: a known given name or surname in it, or an initial
    ("J. Smith"), or a hyphenated given name ("Min-jun")."""
    surnames = last_names()
    return any(is_first_name(w) or w.casefold().strip(".,") in surnames or re.fullmatch(r"[A-Z]\.", w)
               or re.fullmatch(r"[A-Z][a-z]+-[a-z]+", w) for w in words)


def is_first_name(word: str) -> bool:
    """A known given name ("Hyun-woo": its first part), not an everyday word."""
    word = word.casefold().strip(".,")
    names = first_names()
    return word in names or ("-" in word and word.split("-")[0] in names and word.split("-")[0] not in _EVERYDAY)


@lru_cache(maxsize=1)
def _all_first_names() -> frozenset[str]:
    lines = FIRST_NAMES_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(n.casefold() for n in lines if n and not n.startswith("#"))


def in_name_lists(word: str) -> bool:
    """In either list, everyday word or not ("An", "Park"): only for a word inside a name already begun."""
    word = word.casefold().strip(".,")
    return word in _all_first_names() or word in last_names()


def is_last_name(word: str) -> bool:
    """A known surname ("Park", "Nguyen"), everyday word or not: callers decide by context."""
    return word.casefold().strip(".,") in last_names()


def find_listed_names(text: str, *, not_in_name: frozenset[str]) -> Iterator[Span]:
    """Two or three capitalised words, the first a known given name, the others not words that end a name; a
    surname that is also an everyday word ("Helen Park") counts, and the context rules decide about places."""
    tokens = list(_TOKEN.finditer(text))
    for i, first in enumerate(tokens):
        if not first.group()[0].isupper() or not is_first_name(first.group()):
            continue
        end = i
        while end + 1 < len(tokens) and end - i < 2:
            nxt = tokens[end + 1]
            word = nxt.group().casefold().strip(".")
            if text[tokens[end].end():nxt.start()] not in (" ", "\t") or not nxt.group()[0].isupper() \
                    or word in not_in_name or (word in _EVERYDAY and word not in last_names()):
                break
            end += 1
        if end > i:
            yield first.start(), tokens[end].end()
