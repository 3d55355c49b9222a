"""Names the citizen gives: "my name is …", "I'm …", "this is … speaking", "call me …", signatures, "my neighbour …".

Only names introduced by such words are found here; names mentioned in passing with no cue are the named-entity
model's (privacy/pii/ner.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from privacy.pii.name_list import in_name_lists, is_first_name, is_last_name

Span = tuple[int, int]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "mister", "col", "capt", "sgt", "lt", "rev",
           "fr", "hon", "cpt", "maj", "gen"}
# titles that belong to how the person is called, kept in the span: "Father Michael", "Pastor Jones"
_NAMED_TITLES = {"father", "pastor", "rabbi", "imam", "reverend", "sister", "brother", "deacon", "elder"}
_PARTICLES = {"de", "la", "del", "della", "van", "von", "der", "den", "da", "di", "du", "le", "bin", "al", "el", "y",
              "st", "mc", "ben", "ibn"}
# Capitalised words that follow "I'm", "call me" or a sign-off and are not names.
_NOT_NAMES = _words("""
a an the i im i'm it its this that these those here there not no yes so very really just still also only even
sorry angry upset fine ok okay done sure glad happy sad tired sick worried concerned afraid scared frustrated
disappointed furious confused curious interested pregnant disabled retired unemployed new old unable able
about at in on from with for to of by as and or but if when because please thanks thank regards best cheers
sincerely respectfully kind warm many much dear hi hello hey good morning afternoon evening night
your our my his her their we you they he she me us them
city council mayor department dept office officer team staff services service public works alderbrook
street st avenue ave road rd lane drive boulevard court place way school library center centre
monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday tonight weekend week
january february march april may june july august september october november december
resident citizen homeowner tenant owner landlord parent mother father mom dad teacher nurse driver neighbor
neighbour sir madam all everyone anyone someone somebody nobody everybody ps sent via iphone android mobile
american korean canadian british english mexican chinese japanese indian german french spanish italian
catholic christian muslim jewish hindu buddhist vegan vegetarian deaf blind polish irish dutch russian
ukrainian vietnamese filipino brazilian portuguese greek turkish swedish danish norwegian finnish african asian
european latino latina hispanic black white native nigerian ghanaian ethiopian somali arab persian iranian
what why how who where which whatever again too back home out over off up down away right left late early
available around almost already always never sometimes currently literally totally absolutely definitely
waiting calling writing trying going having looking wondering reporting getting being asking hoping planning
seriously honestly frankly genuinely truly maybe crazy anytime whenever asap later hungry thirsty cold hot busy
free ill well alone ready lost stuck
""")
# Words that end a name once it has begun: "Gwen Morales" but not "Oak Street", "Alderbrook Garden Club".
_NOT_IN_NAME = _words("""
street st avenue ave road rd lane ln drive dr boulevard blvd court ct way place pl city council department dept
office team resident residents association club school library garden center centre church
monday tuesday wednesday thursday friday saturday sunday january february march april june july august
september october november december the and of for from with at in on to or
""")
_NOT_NAME_ENDINGS = ("ing", "ally", "ully", "ntly", "stly", "ely", "ish", "ese", "ous", "ful", "ive", "able", "ible",
                     "ted", "sed", "ded", "ied", "ned", "zed", "ized", "ised", "less", "ness")
_TOKEN = re.compile(r"[^\W\d_](?:[\w'\u2019-]*[^\W_])?\.?|[A-Z]\.")

_SELF_INTRO = re.compile(
    r"\b(?:my\s+name\s+is|my\s+name's|my\s+name\s*:?|the\s+name\s+is|the\s+name's|name\s*:|i\s+am\s+called|"
    r"i'm\s+called|my\s+full\s+name\s+is|signed\s*:?|"
    r"name\s+on\s+(?:the\s+|my\s+)?(?:card|account|id|licen[cs]e|ticket|permit|bill)(?:\s+is)?:?|"
    r"(?:id|card|licen[cs]e)\s+says|card\s*holder\b:?|account\s+holder\b:?|"
    r"(?:contact(?:\s+me)?|sender|reporter|reported\s+by|submitted\s+by|from)\s*:)\s*", re.IGNORECASE)
_I_AM = re.compile(r"\b(?:i'm|i\u2019m|i\s+am|im)\s+", re.IGNORECASE)
_CALL_ME = re.compile(r"\bcall\s+me\s+", re.IGNORECASE)
_THIS_IS = re.compile(r"\b(?:this\s+is|it's|it\u2019s|it\s+is)\s+", re.IGNORECASE)
_THIS_IS_TAIL = re.compile(r"\s*(?:speaking|here|calling|writing|from|again|at|and|with|,|\.|!|;|:|-|\u2013|\u2014|$)",
                           re.IGNORECASE)
_GREETING_BEFORE = re.compile(r"(?:^|[.!?\n]\s*|\b(?:hi|hello|hey|good\s+(?:morning|afternoon|evening)|dear\s+\w+)"
                              r"[,!.]?\s*)$", re.IGNORECASE)
# "Hey, Ahmed here.": a name and "here" right at the start or after a greeting
_NAME_HERE = re.compile(r"(?:^|[.!?\n]\s*|\b(?:hi|hello|hey|good\s+(?:morning|afternoon|evening))[,!.]?\s+)(?=\w)",
                        re.IGNORECASE)
_RELATION = re.compile(r"\b(?:my|our)\s+(?:next[- ]door\s+)?(?:neighbou?r|landlord|landlady|husband|wife|son|daughter|"
                       r"mother|mom|mum|father|dad|partner|tenant|friend|brother|sister|roommate|flatmate|"
                       r"caretaker|grandmother|grandfather|grandma|grandpa|aunt|uncle|child|kid|boss|colleague)"
                       r"(?:\s*,\s*|\s+)", re.IGNORECASE)
_HONORIFIC = re.compile(r"\b(?:mr|mrs|ms|miss|mx)\.?\s+(?=[A-Z])", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"(?:^|\b)(?:thanks|thank\s+you|thanks\s+again|many\s+thanks|thx|regards|best\s+regards|kind\s+regards|"
    r"warm\s+regards|best\s+wishes|best|cheers|sincerely|yours\s+sincerely|yours\s+truly|respectfully|"
    r"thank\s+you\s+so\s+much|thanks\s+so\s+much|much\s+appreciated|appreciate\s+it|take\s+care|"
    r"with\s+thanks|gratefully|signed|saludos|atentamente|gracias|pozdrawiam|z\s+powa\u017caniem|"
    r"c\u1ea3m\s+\u01a1n|merci|cordialement|danke|gr\u00fc\u00dfe)(?:\s+(?:mate|all|everyone|folks|guys|again|in\s+advance|so\s+much|"
    r"a\s+lot))?\s*[,.!:;-]*[ \t]*(?:(?:\n[ \t]*)+|[ \t]+|[-\u2013\u2014][ \t]*)", re.IGNORECASE)
_DASH_SIGNATURE = re.compile(r"(?:^|\s)(?:-{1,2}|[\u2013\u2014~])[ \t]*(?=\S)")
# what may follow a signature's name on its line: "Marta (Ward 4)", "R. Hastings (ret.)"
_LINE_END = re.compile(r"[ \t]*(?:\([^)\n]{0,30}\))?[ \t]*[.!,]?[ \t]*(?:\n|$)")
# "thanks, maria": a lowercase name only as the very last word after a sign-off, and not one of these
_NOT_LOWER_NAMES = _NOT_NAMES | {"bye", "guys", "folks", "everyone", "team", "lol", "though", "anyway", "mate",
                                 "all", "again", "tho", "xx", "xoxo", "ciao"}


# Self-introductions in the languages of the city's residents: Spanish, Polish, Vietnamese, French, German
_FOREIGN_INTRO = re.compile(r"\b(?:soy|me\s+llamo|mi\s+nombre\s+es|nazywam\s+si\u0119|mam\s+na\s+imi\u0119|"
                            r"t\u00f4i\s+l\u00e0|t\u00ean\s+t\u00f4i\s+l\u00e0|je\s+m'appelle|je\s+suis|"
                            r"ich\s+bin|ich\s+hei\u00dfe|mein\s+name\s+ist)\s+", re.IGNORECASE)
# Korean names in Hangul: a common surname and one or two syllables, before "입니다", "씨", "님"...,
# or after "제 이름은"
_KOREAN_SURNAMES = ("김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민나진지엄채원"
                    "천방공현함변염여추도소석선설마길연위표명기반라왕금옥육인맹제모탁국어은편용")
_KOREAN_NAME = re.compile(rf"(?<![가-힣])[{_KOREAN_SURNAMES}][가-힣]{{1,2}}"
                          r"(?=\s?(?:씨|님)|입니다|이에요|예요|이고|이라고)|"
                          r"(?<=제 이름은 )[가-힣]{2,4}?(?=이고|입니다|이에요|예요|[\s,.]|$)")
# Arabic: "أنا …" (I am …) or "اسمي …" (my name is …), up to three words before a comma or full stop
_ARABIC_NAME = re.compile(r"(?:أنا|اسمي)\s+([\u0621-\u064A]+(?:\s+[\u0621-\u064A]+){0,2}?)"
                          r"(?=\s*[\u060C,.]|$)")
# Korean given names romanised with a hyphen ("Min-jun", "Seo-yeon") beside a surname
_KOREAN_SYLLABLE = (r"(?:ji|min|seo|hyun|jun|joon|woo|yeon|eun|soo|su|ah|hoon|young|yeong|jin|sung|seung|hee|kyung|"
                    r"jae|hye|dong|sang|yoon|won|hwa|mi|na|bin|ho|jung|jeong|hyuk|chan|hyo|da|in|ye|ha|yu|gyu|tae|kyu|"
                    r"sook|sun|il|ki|gi|hae|so|yong|jong|chul|cheol|nam|hun|geun|seok|suk|han|kwang|myung|ok)")
_ROMANISED_KOREAN = re.compile(r"\b[A-Z][a-z]+\s+[A-Z][a-z]{0,5}-[a-z]{1,5}\b|"
                               r"\b[A-Z][a-z]{0,5}-[a-z]{1,5}\s+[A-Z][a-z]+\b")


def _romanised_korean(text: str) -> Iterator[Span]:
    """"Kim Min-jun", "Hyun-woo Choi": a hyphenated given name of Korean syllables beside a capitalised word."""
    for m in _ROMANISED_KOREAN.finditer(text):
        given = re.search(r"([A-Za-z]+)-([a-z]+)", m.group())
        if given and all(re.fullmatch(_KOREAN_SYLLABLE, part.lower()) for part in given.groups()):
            yield m.span()


def _lowercase_listed(text: str, pos: int, max_tokens: int = 3) -> Span | None:
    """A lower-case name at `pos` whose first word is a known given name ("maria gonzalez")."""
    first = re.match(r"[ \t]*([^\W\d_][\w'-]*)", text[pos:])
    if first is None or not first.group(1).islower() or not is_first_name(first.group(1)):
        return None
    return take_name(text, pos, lowercase=True, max_tokens=max_tokens)


_INITIAL = re.compile(r"[A-Za-z]\.")


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    """spaCy's English stop words, imported on first use: importing spaCy takes seconds."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _listed_word(token: str, *, first: bool) -> bool:
    """A word of the name lists in any case, an initial ("j."), a particle ("van") or a romanised Korean given name
    ("ji-woo"); an everyday word of a sign-off ("thanks so much", "cheers all") only inside a name ("nguyen van an")."""
    word = token.casefold()
    if _INITIAL.fullmatch(token) or (word in _PARTICLES and not first):
        return True
    if word.rstrip(".") in _NOT_LOWER_NAMES or word in _stop_words():  # "thanks, see you soon"
        return not first and in_name_lists(word)
    parts = word.split("-")
    return (is_first_name(word) or is_last_name(word)
            or (len(parts) == 2 and all(re.fullmatch(_KOREAN_SYLLABLE, p) for p in parts)))


def listed_run(text: str, pos: int, max_tokens: int = 4) -> Span | None:
    """The words at `pos` that are all from the name lists, in any case ("nguyen van an", "J. Rodriguez"), with at
    least one given name or surname that is not an initial or a particle."""
    tokens: list[re.Match[str]] = []
    i = pos
    while len(tokens) < max_tokens:
        m = re.compile(r"[ \t]*").match(text, i)
        gap = m.end() - i if m else 0
        if tokens and not gap and not tokens[-1].group().endswith("."):
            break
        t = _TOKEN.match(text, i + gap)
        if t is None or not _listed_word(t.group().rstrip(".") if len(t.group()) > 2 else t.group(),
                                         first=not tokens):
            break
        tokens.append(t)
        i = t.end()
    while tokens and tokens[-1].group().casefold() in _PARTICLES:
        tokens.pop()
    if not any(len(t.group().rstrip(".")) > 1 and t.group().casefold() not in _PARTICLES for t in tokens):
        return None
    last = tokens[-1]
    end = last.end() - 1 if last.group().endswith(".") and len(last.group()) > 2 else last.end()
    return tokens[0].start(), end


# "j. rodriguez here", "D. Okafor speaking": an initial and a surname introducing the writer, in any case
_INITIAL_SURNAME = re.compile(r"(?:^|[.!?\n]\s*|\b(?:hi|hello|hey|good\s+(?:morning|afternoon|evening))[,!.]?\s+)"
                              r"([A-Za-z]\.[ \t]?[^\W\d_][\w'-]*)(?=\s+(?:here|speaking|writing|calling)\b)",
                              re.IGNORECASE)


def _initial_surnames(text: str) -> Iterator[Span]:
    for m in _INITIAL_SURNAME.finditer(text):
        surname = m.group(1)[2:].strip()
        if surname[0].isupper() or is_last_name(surname):
            yield m.span(1)


_LOWER_HERE = re.compile(r"(?:^|[.!?\n]\s*)(?:(?:hi|hello|hey)[,!]?\s+)?(?=[a-z])", re.IGNORECASE)
_LOWER_GREETING = re.compile(r"(?:^|[.!?\n]\s*)(?:hi|hello|hey|good\s+(?:morning|afternoon|evening))[,!]?\s+(?=[a-z])",
                             re.IGNORECASE)
_LOWER_THIS_IS = re.compile(r"\b(?:this\s+is|it'?s|it\u2019s)\s+(?=[a-z])", re.IGNORECASE)
_LOWER_FROM = re.compile(r"(?:^|\n)\s*from\s+(?=[a-z])", re.IGNORECASE)


def _lowercase_names(text: str) -> Iterator[Span]:
    """Lower-case names after a cue: "dana whitfield here", "hi its maria gonzalez again", "from jose hernandez:"."""
    for pattern, follows in ((_LOWER_HERE, r"\s+here\b"), (_LOWER_GREETING, r"\s+(?:from|speaking|writing)\b"),
                             (_LOWER_THIS_IS, r"\s*(?:again|here|speaking|,|\.|!|$)"),
                             (_LOWER_FROM, r"\s*:")):
        for m in pattern.finditer(text):
            span = _lowercase_listed(text, m.end())
            if span and re.match(follows, text[span[1]:], re.IGNORECASE):
                yield span


def _name_like(token: str, *, first: bool = True) -> bool:
    """A capitalised word that may be (part of) a name; an initial ("J.") always may."""
    if re.fullmatch(r"[A-Z]\.", token):
        return True
    word = token.rstrip(".").lower().replace("\u2019", "'")
    if not token[0].isupper() or word.endswith("'s"):
        return False
    if not first:  # surnames such as "An", "Do", "Park" are everyday words too
        return word not in _NOT_IN_NAME
    return word not in _NOT_NAMES and (len(word) <= 4 or not word.endswith(_NOT_NAME_ENDINGS))


def take_name(text: str, pos: int, *, lowercase: bool = False, max_tokens: int = 4) -> Span | None:
    """The name starting at `pos` (after spaces and a title such as "Mrs."): capitalised words, initials, particles."""
    tokens: list[re.Match[str]] = []
    i = pos
    while len(tokens) < max_tokens:
        rest = text[i:]
        gap = len(rest) - len(rest.lstrip(" \t"))  # the spaces and tabs before the next token
        if tokens and not gap:
            break
        m = _TOKEN.match(text, i + gap)
        if m is None:
            break
        word = m.group().rstrip(".").lower()
        if not tokens and word in _NAMED_TITLES and (nxt := _TOKEN.match(text, m.end() + 1)) \
                and _name_like(nxt.group()):
            tokens.append(m)
            i = m.end()
            continue
        if not tokens and word in _TITLES:
            i = m.end()
            continue
        if tokens and word in _PARTICLES and (nxt := _TOKEN.match(text, m.end() + 1)) and nxt.group()[0].isupper():
            tokens.append(m)
            i = m.end()
            continue
        if _name_like(m.group(), first=not tokens) or (lowercase and word.replace("-", "").isalpha()
                                                              and word not in _NOT_NAMES):
            tokens.append(m)
            i = m.end()
            continue
        break
    while tokens and tokens[-1].group().rstrip(".").lower() in _PARTICLES:
        tokens.pop()
    if not tokens:
        return None
    last = tokens[-1]
    # a trailing full stop belongs to the sentence, except after an initial ("J.")
    end = last.end() - 1 if last.group().endswith(".") and len(last.group()) > 2 else last.end()
    return tokens[0].start(), end


def _after(pattern: re.Pattern[str], text: str, *, lowercase: bool = False, max_tokens: int = 4) -> Iterator[Span]:
    for m in pattern.finditer(text):
        span = take_name(text, m.end(), lowercase=lowercase, max_tokens=max_tokens)
        if span:
            yield span


def find_names(text: str) -> Iterator[Span]:
    yield from _after(_SELF_INTRO, text, lowercase=True, max_tokens=4)
    yield from _after(_I_AM, text, max_tokens=3)
    yield from _after(_CALL_ME, text, max_tokens=2)
    yield from _after(_RELATION, text, max_tokens=3)
    yield from _after(_HONORIFIC, text, max_tokens=2)
    for m in _THIS_IS.finditer(text):
        span = take_name(text, m.end(), max_tokens=3)
        if span is None:
            continue
        introduced = _GREETING_BEFORE.search(text, 0, m.start()) or \
            re.match(r"\s*(?:speaking|here|calling|writing|from)\b", text[span[1]:], re.IGNORECASE)
        if introduced and _THIS_IS_TAIL.match(text, span[1]):
            yield span
    for m in _NAME_HERE.finditer(text):
        span = take_name(text, m.end(), max_tokens=3)
        if span and re.match(r"\s+here\b", text[span[1]:], re.IGNORECASE):
            yield span
    yield from _signatures(text)
    yield from _after(_FOREIGN_INTRO, text, max_tokens=4)
    for m in _KOREAN_NAME.finditer(text):
        yield m.span()
    for m in _ARABIC_NAME.finditer(text):
        yield m.span(1)
    yield from _romanised_korean(text)
    yield from _lowercase_names(text)
    yield from _initial_surnames(text)
    for m in _AND_I.finditer(text):
        span = take_name(text, m.start(), max_tokens=3)
        if span and span[1] == m.end(1) and is_first_name(m.group(1).split()[0]) \
                and not _PLACE_IN_NAME.search(text[span[0]:span[1]]):
            yield span


def _signatures(text: str) -> Iterator[Span]:
    """Names that sign a message: after a sign-off or a dash, or alone on the message's last lines."""
    for pattern in (_SIGN_OFF, _DASH_SIGNATURE):
        for m in pattern.finditer(text):
            span = take_name(text, m.end(), max_tokens=3) or _lowercase_listed(text, m.end())
            if not (span and _LINE_END.match(text, span[1])):
                # "regards nguyen van an", "- j. patel": words of the name lists in any case, ending the line
                span = listed_run(text, m.end())
            if span and _LINE_END.match(text, span[1]):
                yield span
            elif pattern is _SIGN_OFF and text[m.start():m.end()].rstrip()[-1:] in (",", "\n", ""):
                last = re.fullmatch(r"([^\W\d_]{2,})[ \t]*[.!]?\s*", text[m.end():])
                if last and last.group(1).lower() not in _NOT_LOWER_NAMES:
                    yield m.end(), m.end() + len(last.group(1))
    body = text.rstrip()
    if "\n" not in body:
        return
    # the last line, and the first line after the last blank line (a signature block: name, then title or club)
    starts = {body.rfind("\n") + 1}
    block = body.rfind("\n\n")
    if block > 0 and body[:block].strip():
        starts.add(block + 2)
    for start in starts:
        line_end = body.find("\n", start)
        line = body[start:] if line_end < 0 else body[start:line_end]
        span = take_name(text, start + len(line) - len(line.lstrip()), max_tokens=3)
        if span and not text[span[1]:start + len(line)].strip(" .!") and body[:start].strip():
            yield span


# "Ahmed and I want to volunteer": a given name joined to the writer
_AND_I = re.compile(r"\b([A-Z][\w'-]+(?:[ \t]+[A-Z][\w'-]+){0,2})(?=[ \t]+(?:and|&)[ \t]+(?:I|me|myself)(?![\w-]))")
# "Lincoln Park and I went ..." is still a park
_PLACE_IN_NAME = re.compile(r"\s(?:park|playground|square|gardens?|hill|lake|river|bridge|center|centre|library|school|"
                            r"hall|field|pool|plaza|station|market|church|street|avenue|road)\b", re.IGNORECASE)
_AND = re.compile(r"[ \t]+(?:and|&)[ \t]+")
_CAPITALISED = re.compile(r"(?<![\w'-])[A-Z][a-z'-]+(?![\w'-])")


def find_names_coordinated(text: str, names: list[Span]) -> Iterator[Span]:
    """"Bill and Sandra Hughes", "Sandra Hughes and Bill": a capitalised word of the name lists joined by "and" to
    a name found, even where the word is an everyday one ("Bill", "Mark")."""
    starts, ends = {s for s, _ in names}, {e for _, e in names}
    for m in _CAPITALISED.finditer(text):
        word = m.group()
        if word.casefold() in _NOT_NAMES or word.casefold() in _NOT_IN_NAME or not in_name_lists(word):
            continue
        after, before = _AND.match(text, m.end()), re.search(r"[ \t]+(?:and|&)[ \t]+$", text[:m.start()])
        if (after and after.end() in starts) or (before and before.start() in ends):
            yield m.span()


_BESIDE = re.compile(r"[ \t]*(?:[,;/|]|\n)[ \t]*")


def find_names_beside(text: str, contacts: list[Span]) -> Iterator[Span]:
    """A full name listed with contact details: "Helen Ward, 303 555 0161", "901 Quarry Road, Helen Ward"."""
    for start, end in contacts:
        after = _BESIDE.match(text, end)
        if after and (span := take_name(text, after.end(), max_tokens=3)) and _full_name(text, span):
            yield span
        for m in re.finditer(r"(?:^|(?<=[\s.:,;]))(?=[^\W\d_])", text[max(0, start - 40):start]):
            begin = max(0, start - 40) + m.start()
            span = take_name(text, begin, max_tokens=3)
            if span and _full_name(text, span) and _BESIDE.fullmatch(text, span[1], start):
                yield span
                break


def _full_name(text: str, span: Span) -> bool:
    """Two or more words, each capitalised: one word beside a phone number is too often something else."""
    return len(text[span[0]:span[1]].split()) >= 2


NOT_IN_NAME = _NOT_IN_NAME


def name_like(word: str) -> bool:
    """A capitalised word that may be a name on its own ("Marco", not "Nervous" or "Sorry")."""
    return _name_like(word)
