"""What a citizen reads on X: tweet length as X counts it, threads of numbered parts, numbered choices."""

from __future__ import annotations

import re
from collections.abc import Sequence

from outbox.message import Button

TWEET_LIMIT = 280
URL_WEIGHT = 23  # X shortens every link to t.co and counts it as 23 characters, whatever its length
NUMBER_RESERVE = 8  # room for " (12/12)" after each part of a thread
_URL = re.compile(r"https?://\S+")
_TOKEN = re.compile(r"\s+|\S+")
# twitter-text: these code points weigh 1, every other (CJK, emoji, ...) weighs 2
_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _char_weight(ch: str) -> int:
    code = ord(ch)
    return 1 if any(low <= code <= high for low, high in _LIGHT) else 2


def weighted_length(text: str) -> int:
    """The length X checks against 280: links count 23, wide characters 2."""
    total, last = 0, 0
    for match in _URL.finditer(text):
        total += sum(map(_char_weight, text[last:match.start()])) + URL_WEIGHT
        last = match.end()
    return total + sum(map(_char_weight, text[last:]))


def split_thread(text: str, limit: int = TWEET_LIMIT) -> list[str]:
    """`text` as one tweet, or as a numbered thread of parts within `limit`, cut between words (never in a link).

    A part ends at the last sentence end that keeps it at least half full, else at the last word that fits.
    """
    text = text.strip()
    if weighted_length(text) <= limit:
        return [text]
    budget = limit - NUMBER_RESERVE
    parts: list[str] = []
    current = ""
    for token in _tokens(text, budget):
        if weighted_length(current + token) <= budget:
            current += token
            continue
        head, tail = _cut_at_sentence(current, budget)
        parts.append(head)
        current = (tail + token).lstrip()
    if current.strip():
        parts.append(current.strip())
    return [f"{part} ({i}/{len(parts)})" for i, part in enumerate(parts, 1)]


def _tokens(text: str, budget: int) -> list[str]:
    """Words and the spaces between them; a word longer than a whole part (never a link) is cut into pieces."""
    tokens = []
    for token in _TOKEN.findall(text):
        while not token.isspace() and not _URL.fullmatch(token) and weighted_length(token) > budget:
            cut = _fitting_prefix(token, budget)
            tokens.append(token[:cut])
            token = token[cut:]
        tokens.append(token)
    return tokens


def _fitting_prefix(token: str, budget: int) -> int:
    """How many leading characters of `token` weigh at most `budget`."""
    weight = 0
    for index, ch in enumerate(token):
        weight += _char_weight(ch)
        if weight > budget:
            return index
    return len(token)


def _cut_at_sentence(part: str, budget: int) -> tuple[str, str]:
    """`part` split after its last sentence end past half the budget: (this tweet, carried to the next)."""
    ends = [m.end() for m in re.finditer(r"[.!?…:;]\s+|\n+", part) if weighted_length(part[:m.end()]) >= budget // 2]
    if not ends:
        return part.strip(), ""
    return part[:ends[-1]].strip(), part[ends[-1]:]


def with_choices(text: str, buttons: Sequence[Button]) -> str:
    """The reply with its buttons as numbered choices, since X has no buttons: "Reply 1, 2 or 3"."""
    if not buttons:
        return text
    numbers = [str(i) for i in range(1, len(buttons) + 1)]
    lines = [f"{n}. {b.title}" for n, b in zip(numbers, buttons, strict=True)]
    ask = numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} or {numbers[-1]}"
    return "\n".join([text.rstrip(), "", *lines, f"Reply {ask}."])
