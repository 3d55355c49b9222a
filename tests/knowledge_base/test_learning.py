"""Learning from resolved questions (knowledge_base/learning.py): candidates, approval, and what a wrong "Yes" can
teach. Real model, real SQLite."""

from __future__ import annotations

import pytest

from database import create_db_engine, session_factory
from knowledge_base.candidates import CandidateState, CandidateStore, Source, text_key
from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.factory import build_knowledge_base
from knowledge_base.learning import AUTO_APPROVER, PhrasingLearner
from knowledge_base.lifecycle import DRAFT, PUBLISHED, EntryNotFound
from tests.knowledge_base.conftest import SMALL_ENTRIES
from tests.privacy.conftest import REDACTOR

QUESTION = "my sofa is broken and I need it hauled away"


@pytest.fixture
def learning(tmp_path, embedder):
    url = f"sqlite:///{tmp_path}/kb.db"
    kb = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, threshold=0.6)
    kb.import_entries(SMALL_ENTRIES)
    learner = PhrasingLearner(kb, CandidateStore(session_factory(create_db_engine(url))), recalibrate_after=0,
                              redact=REDACTOR.public_text)
    return kb, learner


def test_a_citizens_resolution_is_a_pending_candidate_counted_once_per_conversation(learning):
    kb, learner = learning
    first = learner.record(QUESTION, "t-bulk", conversation_id="c1", source=Source.CONFIRM)
    again = learner.record(QUESTION + "!", "t-bulk", conversation_id="c1", source=Source.HELPFUL)
    assert (first.state, first.confirmations) == (CandidateState.PENDING, 1)
    assert (again.id, again.confirmations) == (first.id, 1)  # same words, same conversation
    assert QUESTION not in kb.store.get("t-bulk").alt_questions


def test_confirmed_in_three_separate_conversations_the_phrasing_is_approved_and_answers_at_once(learning):
    kb, learner = learning
    before = kb.store.record("t-bulk").version
    for conversation, source in (("c1", Source.CONFIRM), ("c2", Source.CLARIFICATION)):
        assert learner.record(QUESTION, "t-bulk", conversation_id=conversation, source=source).state == "pending"
    approved = learner.record(QUESTION, "t-bulk", conversation_id="c3", source=Source.HELPFUL)
    assert approved.state is CandidateState.APPROVED
    assert (approved.decided_by, approved.confirmations) == (AUTO_APPROVER, 3)
    assert set(approved.sources) == {"confirm", "clarification", "helpful"}
    record = kb.store.record("t-bulk")
    assert (record.version, record.state, approved.entry_version) == (before + 1, PUBLISHED, before + 1)
    assert record.entry.alt_questions[-1] == QUESTION
    newest = kb.store.history("t-bulk")[0]
    assert (newest.editor, newest.note) == (AUTO_APPROVER, f"phrasing approved by itself (confirmed in 3 "
                                                           f"conversations): {QUESTION}")
    # indexed at once, without waiting for a refresh from elsewhere
    hit = kb.search(QUESTION, top_k=1)[0]
    assert (hit.entry.id, hit.matched_phrasing) == ("t-bulk", QUESTION)


def test_a_staff_members_answer_with_an_entry_is_approved_at_once(learning):
    kb, learner = learning
    candidate = learner.record("can the library give me a card today", "t-library", conversation_id="case-1",
                               source=Source.STAFF)
    assert candidate.state is CandidateState.APPROVED
    assert "can the library give me a card today" in kb.store.get("t-library").alt_questions


def test_no_personal_data_becomes_a_phrasing(learning):
    kb, learner = learning
    candidate = learner.record("I'm John Smith, call me at 555-201-7788 about paying my parking ticket",
                               "t-ticket", conversation_id="case-2", source=Source.STAFF)
    assert "555" not in candidate.text and "John Smith" not in candidate.text
    assert "[phone]" in candidate.text
    assert all("555" not in p for p in kb.store.get("t-ticket").phrasings)


def test_a_question_already_a_phrasing_of_the_entry_is_nothing_to_learn(learning):
    _, learner = learning
    assert learner.record("How do I pay a PARKING ticket", "t-ticket", conversation_id="c", source=Source.STAFF) \
        is None
    with pytest.raises(EntryNotFound):
        learner.record("anything", "no-such-entry", conversation_id="c", source=Source.STAFF)


def test_editors_approve_and_reject_in_bulk(learning):
    kb, learner = learning
    texts = ["old mattress pickup", "couch collection day", "bulky waste schedule"]
    ids = [learner.record(t, "t-bulk", conversation_id=f"c{i}", source=Source.CLARIFICATION).id
           for i, t in enumerate(texts)]
    pending, total = learner.candidates.page()
    assert total == 3 and {c.id for c in pending} == set(ids)
    decision = learner.approve(ids[:2], editor="eddie")
    assert [c.text for c in decision.approved] == texts[:2]
    assert all(c.decided_by == "eddie" for c in decision.approved)
    rejected = learner.reject(ids[1:], editor="eddie")
    assert [c.id for c in rejected.rejected] == [ids[2]]
    assert rejected.skipped == ((ids[1], "already approved"),)
    alts = kb.store.get("t-bulk").alt_questions
    assert alts[-2:] == tuple(texts[:2]) and texts[2] not in alts
    assert len(kb.store.history("t-bulk")) == 2  # one new version for both approved phrasings


def test_approving_while_a_draft_waits_keeps_the_draft_newest_with_the_phrasing_too(learning):
    kb, learner = learning
    edited = kb.store.get("t-dog").model_copy(update={"answer": "Every dog over four months: $20 a year."})
    kb.store.save(edited, state=DRAFT, editor="eddie", note="new fee")
    learner.record("licence for my new puppy", "t-dog", conversation_id="case", source=Source.STAFF)
    record = kb.store.record("t-dog")
    assert record.state == DRAFT and record.entry.answer == edited.answer
    assert "licence for my new puppy" in record.entry.alt_questions
    live = kb.store.get("t-dog")
    assert "licence for my new puppy" in live.alt_questions
    assert live.answer == SMALL_ENTRIES[3].answer  # the published answer keeps answering


def test_a_wrong_yes_does_not_teach_a_wrong_answer_until_repeated_in_separate_conversations(learning):
    kb, learner = learning
    wrong = "how much is a dog licence"  # a question about dogs confirmed, wrongly, for the parking ticket
    for conversation in ("c1", "c2"):
        learner.record(wrong, "t-ticket", conversation_id=conversation, source=Source.CONFIRM)
    assert wrong not in kb.store.get("t-ticket").alt_questions
    # the right answer rejected meanwhile, a "No" on the wrong entry: it counts against the wrong candidate
    learner.record_rejection(wrong, "t-ticket", conversation_id="c3")
    assert learner.record(wrong, "t-ticket", conversation_id="c4", source=Source.CONFIRM).state == "pending"
    assert learner.record(wrong, "t-ticket", conversation_id="c5", source=Source.CONFIRM).state == "approved"


def test_approvals_recalibrate_only_every_recalibrate_after(learning, monkeypatch):
    kb, learner = learning
    calls = []
    monkeypatch.setattr(kb, "calibrate", lambda: calls.append(1))
    learner.recalibrate_after = 2
    learner.record("get rid of a fridge", "t-bulk", conversation_id="a", source=Source.STAFF)
    assert calls == []
    learner.record("lost library card replacement", "t-library", conversation_id="b", source=Source.STAFF)
    assert calls == [1]


def test_pending_confirmed_candidates_are_the_calibrations_questions_confirmed_in_use(learning):
    kb, learner = learning
    learner.record("bulky stuff collection", "t-bulk", conversation_id="a", source=Source.CONFIRM)
    learner.record("dog tag fees", "t-dog", conversation_id="b", source=Source.CONFIRM)
    learner.record_rejection("dog tag fees", "t-dog", conversation_id="c")
    assert kb.confirmed == learner.confirmed_questions
    confirmed = learner.confirmed_questions()
    assert [(c.text, c.entry_id) for c in confirmed] == [("bulky stuff collection", "t-bulk")]
    assert confirmed[0].vector.shape == (kb.embedder.dimension,)


def test_text_key_ignores_case_punctuation_and_spacing_but_keeps_placeholders():
    assert text_key("  When is BULK pickup?? ") == text_key("when is bulk pickup")
    assert text_key("call [phone] now") == "call [phone] now"
