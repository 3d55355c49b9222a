"""`citydesk kb replay`: the learning curve of a knowledge base that learns in use (shared/EVAL.md).

The questions of a stream are asked in order of a fresh temporary store, as citizens would ask them, and each
question's outcome is fed back through the same learning code the desk uses (knowledge_base/learning.py):

- answered directly or with "Did this answer your question?": the simulated citizen says "Yes" (helpful) when
  the entry is a right one and "No" otherwise; "No" hands the question off;
- offered entries to choose from: the citizen picks a right one when it is offered, else "None of these" (a
  hand-off);
- handed off: a simulated staff member answers an answerable question with its (first) right entry, which
  teaches that entry the question; an unanswerable one is answered without an entry.
A share `noise` of the citizen's feedback is wrong on purpose ("Yes" to a wrong answer, "No" to a right one, a
wrong option picked or none). The labels are used only as this feedback, after each decision. The figures of
`citydesk kb eval` are reported per block of `block` questions, and as `last_block` over the stream's last
`block` questions, with the learning's own: phrasings approved, and those approved for a wrong entry.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from database import create_db_engine, session_factory
from knowledge_base.bands import Band
from knowledge_base.calibration import DEFAULT_CONFIRM_PRECISION
from knowledge_base.candidates import CandidateState, CandidateStore, Source
from knowledge_base.evaluation import RANK_DEPTH, WARM_UP_QUESTIONS, Question, read_questions, summarise
from knowledge_base.factory import build_knowledge_base
from knowledge_base.importer import read_entries
from knowledge_base.learning import DEFAULT_AUTO_APPROVE_AFTER, DEFAULT_RECALIBRATE_AFTER, PhrasingLearner
from knowledge_base.service import DEFAULT_TARGET_PRECISION, DEFAULT_UNANSWERABLE_SHARE, Answer, KnowledgeBase

DEFAULT_BLOCK = 500


@dataclass
class _Taught:
    """What the replay taught, for its own figures: each recorded (text, entry) and whether it was right."""

    right: dict[tuple[str, str], bool]
    wrong_feedback: int = 0


class Citizens:
    """The simulated citizens and staff: feedback from the labels, a share `noise` of the citizens' wrong."""

    def __init__(self, learner: PhrasingLearner, *, noise: float, seed: int) -> None:
        self.learner = learner
        self.noise = noise
        self._rng = np.random.default_rng(seed)
        self.taught = _Taught(right={})

    def react(self, index: int, question: Question, answer: Answer) -> None:
        """Give the feedback a citizen (and, on a hand-off, a staff member) would give to this decision."""
        conversation = f"replay-{index}"
        wrong_on_purpose = bool(self._rng.random() < self.noise)
        self.taught.wrong_feedback += wrong_on_purpose
        band, right = answer.band, set(question.expected_ids)
        if band in (Band.ANSWER, Band.CONFIRM):
            proposed = answer.proposed
            assert proposed is not None  # the answer and confirm bands propose an entry
            entry_id = proposed.id
            if (entry_id in right) != wrong_on_purpose:
                self._teach(question, entry_id, conversation, Source.CONFIRM if band is Band.CONFIRM
                            else Source.HELPFUL)
            else:
                self.learner.record_rejection(question.text, entry_id, conversation_id=conversation)
                self._staff(question, conversation)
            return
        if band is Band.CLARIFY:
            offered = [hit.entry.id for hit in answer.options]
            good = [e for e in offered if e in right]
            if wrong_on_purpose:
                bad = [e for e in offered if e not in right]
                good = [bad[int(self._rng.integers(len(bad)))]] if bad else []
            if good:
                self._teach(question, good[0], conversation, Source.CLARIFICATION)
                return
        self._staff(question, conversation)

    def _staff(self, question: Question, conversation: str) -> None:
        if question.expected_ids:
            self._teach(question, question.expected_ids[0], conversation, Source.STAFF)

    def _teach(self, question: Question, entry_id: str, conversation: str, source: Source) -> None:
        candidate = self.learner.record(question.text, entry_id, conversation_id=conversation, source=source)
        if candidate is not None:
            key = (candidate.text, entry_id)
            self.taught.right[key] = self.taught.right.get(key, True) and entry_id in question.expected_ids


def replay(*, kb_path: Path, stream_path: Path, model_name: str, shuffle: int | None = None,
           block: int = DEFAULT_BLOCK, noise: float = 0.0, target_precision: float = DEFAULT_TARGET_PRECISION,
           unanswerable_share: float = DEFAULT_UNANSWERABLE_SHARE,
           confirm_precision: float = DEFAULT_CONFIRM_PRECISION,
           auto_approve_after: int = DEFAULT_AUTO_APPROVE_AFTER,
           recalibrate_after: int = DEFAULT_RECALIBRATE_AFTER,
           on_progress: Callable[[int], None] | None = None,
           on_block: Callable[[dict], None] | None = None,
           redact: Callable[[str], str]) -> dict:
    """Play the stream against a fresh temporary store that learns; the per-block figures and `last_block`.

    `on_block` receives each block's figures as soon as the block is played (a long stream takes a while).
    """
    if block < 1:
        raise ValueError("a block is at least one question")
    if not 0.0 <= noise <= 1.0:
        raise ValueError("noise is a share, from 0 to 1")
    entries = read_entries(kb_path)
    questions = read_questions(stream_path)
    if shuffle is not None:
        questions = [questions[i] for i in np.random.default_rng(shuffle).permutation(len(questions))]
    with tempfile.TemporaryDirectory(prefix="citydesk-replay-") as folder:
        url = f"sqlite:///{folder}/replay.db"
        kb = build_knowledge_base(database_url=url, model_name=model_name, target_precision=target_precision,
                                  unanswerable_share=unanswerable_share, confirm_precision=confirm_precision,
                                  load_index=False)
        kb.import_entries(entries)
        learner = PhrasingLearner(kb, CandidateStore(session_factory(create_db_engine(url))),
                                  auto_approve_after=auto_approve_after, recalibrate_after=recalibrate_after,
                                  redact=redact)
        citizens = Citizens(learner, noise=noise, seed=0 if shuffle is None else shuffle)
        return _play(kb, learner, citizens, questions, block=block, on_progress=on_progress,
                     on_block=on_block) | {
            "settings": {"shuffle": shuffle, "block": block, "noise": noise, "auto_approve_after": auto_approve_after,
                         "recalibrate_after": recalibrate_after, "target_precision": target_precision,
                         "confirm_precision": confirm_precision, "unanswerable_share": unanswerable_share}}


def _play(kb: KnowledgeBase, learner: PhrasingLearner, citizens: Citizens, questions: Sequence[Question], *,
          block: int, on_progress: Callable[[int], None] | None,
          on_block: Callable[[dict], None] | None = None) -> dict:
    for question in questions[:WARM_UP_QUESTIONS]:
        kb.answer(question.text, top_k=RANK_DEPTH)
    answers: list[Answer] = []
    latencies: list[float] = []
    blocks = []
    for index, question in enumerate(questions):
        start = time.perf_counter()
        answer = kb.answer(question.text, top_k=RANK_DEPTH)
        latencies.append((time.perf_counter() - start) * 1000)
        answers.append(answer)
        citizens.react(index, question, answer)
        if (index + 1) % block == 0 or index + 1 == len(questions):
            first = index + 1 - ((index % block) + 1)
            blocks.append(_figures(questions[first:index + 1], answers[first:], latencies[first:], kb, learner,
                                   citizens) | {"first": first + 1, "last": index + 1})
            if on_block:
                on_block(blocks[-1])
        if on_progress:
            on_progress(index + 1)
    tail = max(0, len(questions) - block)
    last = _figures(questions[tail:], answers[tail:], latencies[tail:], kb, learner, citizens)
    return {"n": len(questions), "blocks": blocks, "last_block": last | {"first": tail + 1, "last": len(questions)}}


def _figures(questions: Sequence[Question], answers: Sequence[Answer], latencies: Sequence[float],
             kb: KnowledgeBase, learner: PhrasingLearner, citizens: Citizens) -> dict:
    """The evaluation's figures over these questions (each decided at the thresholds of its moment), with the
    thresholds now and what has been learned so far."""
    figures = summarise(questions, answers, latencies, kb.threshold, confirm_threshold=kb.confirm_threshold)
    taught = citizens.taught.right
    learned = [(c.text, c.entry_id) for c in _all_approved(learner)]
    figures["learning"] = {
        "approved_phrasings": _count(learner, CandidateState.APPROVED),
        "pending_candidates": _count(learner, CandidateState.PENDING),
        "wrongly_approved": sum(1 for key in learned if not taught.get(key, True)),
        "wrong_feedback_given": citizens.taught.wrong_feedback,
        "expected_auto_answer_precision": kb.calibration.expected_precision if kb.calibration else None,
        "expected_confirm_answer_precision": (kb.calibration.expected_confirm_precision
                                              if kb.calibration else None),
    }
    return figures


def _count(learner: PhrasingLearner, state: CandidateState) -> int:
    return learner.candidates.page(state=state, limit=1)[1]


def _all_approved(learner: PhrasingLearner) -> list:
    found, offset = [], 0
    while True:
        page, total = learner.candidates.page(state=CandidateState.APPROVED, limit=500, offset=offset)
        found += page
        offset += len(page)
        if not page or offset >= total:
            return found
