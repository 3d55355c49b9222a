"""`kb replay`: a stream of questions against a store that learns as in use (knowledge_base/replay.py)."""

from __future__ import annotations

import pytest

from knowledge_base.bands import Band
from knowledge_base.candidates import Source
from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.entry import Entry
from knowledge_base.evaluation import Question
from knowledge_base.replay import Citizens, replay
from knowledge_base.search.protocol import SearchHit
from knowledge_base.service import Answer
from tests.conftest import write_jsonl
from tests.knowledge_base.conftest import SMALL_ENTRIES
from tests.privacy.conftest import REDACTOR

# a question no phrasing of t-bulk resembles: handed off the first time, answered from what staff taught after
NEW_WAY = "my landlord left a broken wardrobe on the kerb, who takes it"


@pytest.fixture
def files(tmp_path):
    kb = write_jsonl(tmp_path / "kb.jsonl", [e.model_dump() | {"alt_questions": list(e.alt_questions)}
                                             for e in SMALL_ENTRIES])
    stream = write_jsonl(tmp_path / "stream.jsonl", [
        {"text": NEW_WAY, "expected_ids": ["t-bulk"]},
        {"text": "what's the score of the game tonight", "expected_ids": []},
        {"text": "where can i pay a parking fine", "expected_ids": ["t-ticket"]},
        {"text": NEW_WAY, "expected_ids": ["t-bulk"]},
        {"text": "how do I get a library card", "expected_ids": ["t-library"]},
    ])
    return kb, stream


def test_replay_reports_blocks_and_the_last_block_and_learns_from_staff(files, embedder):
    kb, stream = files
    report = replay(kb_path=kb, stream_path=stream, model_name=DEFAULT_MODEL, redact=REDACTOR.public_text,
                    block=2, recalibrate_after=0)
    assert [(b["first"], b["last"], b["n"]) for b in report["blocks"]] == [(1, 2, 2), (3, 4, 2), (5, 5, 1)]
    assert (report["last_block"]["first"], report["last_block"]["last"]) == (4, 5)
    for figures in (*report["blocks"], report["last_block"]):
        assert {"auto_answer_rate", "auto_answer_precision", "confirm_answer_rate", "confirm_answer_precision",
                "handled_without_staff_rate", "learning"} <= set(figures)
    # the first time the question went to staff, who answered it with t-bulk: a trusted phrasing from then on
    assert report["blocks"][0]["handled_without_staff_rate"] == 0.0
    assert report["last_block"]["learning"]["approved_phrasings"] >= 1
    assert report["last_block"]["learning"]["wrongly_approved"] == 0
    second = report["blocks"][1]  # the parking fine, and the same question again: both handled now
    assert second["handled_without_staff_rate"] == 1.0


def test_replay_refuses_a_block_of_nothing_and_a_noise_that_is_not_a_share(files):
    kb, stream = files
    with pytest.raises(ValueError, match="block"):
        replay(kb_path=kb, stream_path=stream, model_name=DEFAULT_MODEL, redact=REDACTOR.public_text, block=0)
    with pytest.raises(ValueError, match="noise"):
        replay(kb_path=kb, stream_path=stream, model_name=DEFAULT_MODEL, redact=REDACTOR.public_text, noise=1.5)


class Recorder:
    """Stands for the learner: what the simulated citizens and staff said."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def record(self, text, entry_id, *, conversation_id, source):
        self.calls.append(("yes", entry_id, source))

    def record_rejection(self, text, entry_id, *, conversation_id):
        self.calls.append(("no", entry_id))


def decided(band: Band, *ids: str) -> Answer:
    confidence = {Band.ANSWER: 0.9, Band.CONFIRM: 0.7, Band.CLARIFY: 0.5, Band.HANDOFF: 0.1}[band]
    results = [SearchHit(entry=Entry(id=e, question=f"{e}?", answer="a"), confidence=confidence if i == 0 else 0.1,
                         dense=0.5, lexical=0.0, matched_phrasing=f"{e}?", score=0.5 - 0.01 * i)
               for i, e in enumerate(ids)]
    return Answer(results=results, threshold=0.8, confirm_threshold=0.6)


@pytest.mark.parametrize(("band", "ids", "expected", "calls"), [
    (Band.ANSWER, ("a", "b"), ("a",), [("yes", "a", Source.HELPFUL)]),
    (Band.CONFIRM, ("a", "b"), ("a",), [("yes", "a", Source.CONFIRM)]),
    (Band.CONFIRM, ("b", "a"), ("a",), [("no", "b"), ("yes", "a", Source.STAFF)]),
    (Band.CLARIFY, ("b", "a"), ("a",), [("yes", "a", Source.CLARIFICATION)]),
    (Band.CLARIFY, ("b", "c"), ("a",), [("yes", "a", Source.STAFF)]),
    (Band.HANDOFF, ("b",), ("a",), [("yes", "a", Source.STAFF)]),
    (Band.HANDOFF, ("b",), (), []),
    (Band.ANSWER, ("b",), (), [("no", "b")]),
])
def test_the_simulated_citizen_confirms_right_answers_picks_right_options_and_staff_answers_the_rest(
        band, ids, expected, calls):
    recorder = Recorder()
    answer = decided(band, *ids)
    assert answer.band is band
    Citizens(recorder, noise=0.0, seed=0).react(0, Question(text="q", expected_ids=expected), answer)
    assert recorder.calls == calls


def test_wrong_feedback_on_purpose_says_yes_to_a_wrong_answer_and_picks_a_wrong_option():
    recorder = Recorder()
    citizens = Citizens(recorder, noise=1.0, seed=0)
    citizens.react(0, Question(text="q", expected_ids=("a",)), decided(Band.CONFIRM, "b", "a"))
    citizens.react(1, Question(text="q", expected_ids=("a",)), decided(Band.CLARIFY, "a", "b"))
    citizens.react(2, Question(text="q", expected_ids=("a",)), decided(Band.CONFIRM, "a", "b"))
    assert recorder.calls == [("yes", "b", Source.CONFIRM), ("yes", "b", Source.CLARIFICATION), ("no", "a"),
                              ("yes", "a", Source.STAFF)]
    assert citizens.taught.wrong_feedback == 3
