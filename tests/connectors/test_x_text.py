"""What a citizen reads on X: threads within 280 characters as X counts them, numbered choices."""

from __future__ import annotations

from connectors.x.text import TWEET_LIMIT, split_thread, weighted_length, with_choices
from outbox.message import Button

LONG_URL = "https://www.alderbrook.example/waste/bulk-pickup/booking?source=x&campaign=spring-cleaning-2026"


def test_a_short_answer_is_one_tweet_without_a_number():
    assert split_thread("  Bulk items go out on the first Monday.  ") == ["Bulk items go out on the first Monday."]


def test_a_link_counts_23_characters_whatever_its_length():
    assert weighted_length(f"See {LONG_URL}") == 4 + 23
    text = "a" * (TWEET_LIMIT - 24) + " " + LONG_URL  # 280 as X counts it, far more in characters
    assert split_thread(text) == [text]


def test_a_long_answer_becomes_numbered_parts_cut_between_words_and_never_in_a_link():
    sentences = [f"Sentence number {i} tells the citizen something useful about bulk pickup." for i in range(12)]
    text = " ".join(sentences[:6]) + f" Book at {LONG_URL} today. " + " ".join(sentences[6:])
    parts = split_thread(text)
    assert len(parts) > 2
    assert all(weighted_length(p) <= TWEET_LIMIT for p in parts)
    assert [p.rsplit(" ", 1)[1] for p in parts] == [f"({i}/{len(parts)})" for i in range(1, len(parts) + 1)]
    bodies = [p.rsplit(" ", 1)[0] for p in parts]
    assert " ".join(bodies).split() == text.split()  # nothing lost, no word cut in two
    assert sum(LONG_URL in b for b in bodies) == 1


def test_parts_end_at_a_sentence_when_one_is_near():
    text = "First sentence is here and it is fairly long, long enough to matter. " * 6
    parts = split_thread(text)
    assert all(p.rsplit(" ", 1)[0].endswith(".") for p in parts)


def test_wide_characters_count_double():
    parts = split_thread("市" * 300)
    assert len(parts) == 3 and all(weighted_length(p) <= TWEET_LIMIT for p in parts)


def test_buttons_become_numbered_choices():
    buttons = [Button("Bulk pickup", '/choose_entry{"kb_entry_id":"demo-0002"}'),
               Button("Garbage day", '/choose_entry{"kb_entry_id":"demo-0001"}'), Button("Neither", "/deny")]
    assert with_choices("Did you mean…", buttons) == (
        "Did you mean…\n\n1. Bulk pickup\n2. Garbage day\n3. Neither\nReply 1, 2 or 3.")
    assert with_choices("Was this helpful?", buttons[:2]).endswith("Reply 1 or 2.")
    assert with_choices("No buttons here.", []) == "No buttons here."
