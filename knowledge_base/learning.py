"""A knowledge base that learns: every resolved question is a candidate phrasing for its entry.

A question is resolved for an entry when a citizen chooses the entry among those offered ("Did you mean …?"),
answers "Yes" to "Did this answer your question?", votes an answer helpful, when a staff member answers the case
with the entry, or an editor links an unanswered question to it (`Source`). Each such question, redacted (no
personal data ever becomes a phrasing), is a candidate phrasing of the entry (table kb_phrasing_candidates), with
one confirmation per conversation (kb_phrasing_confirmations). Candidates are grouped by their words (case,
punctuation and spacing aside), so that the same question asked in several conversations is one candidate.

A candidate is approved
- by an editor (`approve`, in bulk; `reject` likewise), or
- by itself: at once when the resolution comes from a trusted source (staff, editors: `trusted`), or once citizens
  confirmed it in `auto_approve_after` separate conversations (default 3) more than they rejected it ("No").
Approving adds the phrasing to the entry as a new version (knowledge_base/lifecycle.py: versioned like any edit,
editor and note kept) and re-indexes the entry at once: the phrasing answers from the next question on, with no
retraining. The thresholds are recalibrated when `recalibrate_after` phrasings were approved since the last
calibration (a calibration of a large knowledge base takes a minute: not on every approval); a running desk's
periodic refresh also recalibrates, no more often than its knowledge base's `recalibration_interval_s`.

Candidates that citizens confirmed but nobody approved yet are real questions with a known answer: the calibration
asks them too (`confirmed_questions`, knowledge_base/calibration.py CONFIRMED).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from knowledge_base.calibration import Confirmed
from knowledge_base.candidates import (
    DEFAULT_TRUSTED,
    Candidate,
    CandidateState,
    CandidateStore,
    Source,
    text_key,
)
from knowledge_base.entry import MAX_ALT_QUESTIONS, MAX_QUESTION_CHARS
from knowledge_base.lifecycle import DRAFT, PUBLISHED, EntryError, EntryNotFound
from knowledge_base.service import KnowledgeBase

DEFAULT_AUTO_APPROVE_AFTER = 3
DEFAULT_RECALIBRATE_AFTER = 50
AUTO_APPROVER = "auto-approval"


@dataclass(frozen=True)
class Decision:
    """What an approval or rejection did."""

    approved: tuple[Candidate, ...] = ()
    rejected: tuple[Candidate, ...] = ()
    skipped: tuple[tuple[int, str], ...] = ()  # (candidate id, why)


class PhrasingLearner:
    """Records resolved questions as candidate phrasings and adds the approved ones to their entries."""

    def __init__(self, kb: KnowledgeBase, candidates: CandidateStore, *,
                 auto_approve_after: int = DEFAULT_AUTO_APPROVE_AFTER,
                 trusted: Collection[Source] = DEFAULT_TRUSTED,
                 recalibrate_after: int = DEFAULT_RECALIBRATE_AFTER,
                 redact: Callable[[str], str]) -> None:
        if auto_approve_after < 1:
            raise ValueError("auto_approve_after is at least 1")
        self.kb = kb
        self.candidates = candidates
        self.auto_approve_after = auto_approve_after
        self.trusted = frozenset(trusted)
        self.recalibrate_after = recalibrate_after
        self._redact = redact
        self._approved_since_calibration = 0
        self._lock = threading.Lock()
        kb.confirmed = self.confirmed_questions

    def record(self, text: str, entry_id: str, *, conversation_id: str, source: Source) -> Candidate | None:
        """A question resolved for an entry in a conversation: a candidate phrasing (None: nothing to learn, the
        text being empty once redacted, too long, or already a phrasing of the published entry)."""
        phrasing = self._phrasing(text, entry_id)
        if phrasing is None:
            return None
        candidate = self.candidates.add(entry_id=entry_id, text=phrasing, conversation_id=conversation_id,
                                        source=Source(source))
        if candidate.state is CandidateState.PENDING and self._due(candidate, Source(source)):
            decision = self.approve([candidate.id], editor=AUTO_APPROVER,
                                    note=f"phrasing approved by itself ({_why(candidate, Source(source))})")
            return decision.approved[0] if decision.approved else candidate
        return candidate

    def record_rejection(self, text: str, entry_id: str, *, conversation_id: str) -> Candidate | None:
        """A citizen said an answer with the entry did not answer `text` ("No"): it counts against the candidate."""
        phrasing = self._phrasing(text, entry_id)
        if phrasing is None:
            return None
        return self.candidates.add(entry_id=entry_id, text=phrasing, conversation_id=conversation_id,
                                   source=Source.CONFIRM, confirmed=False)

    def approve(self, candidate_ids: Sequence[int], *, editor: str, note: str | None = None) -> Decision:
        """Add the candidates' phrasings to their entries (one new published version per entry) and index them."""
        with self._lock:
            chosen = [self.candidates.get(i) for i in dict.fromkeys(candidate_ids)]
            pending = [c for c in chosen if c.state is CandidateState.PENDING]
            skipped = [(c.id, f"already {c.state}") for c in chosen if c.state is not CandidateState.PENDING]
            versions: dict[int, int] = {}
            by_entry: dict[str, list[Candidate]] = {}
            for candidate in pending:
                by_entry.setdefault(candidate.entry_id, []).append(candidate)
            for entry_id, group in by_entry.items():
                try:
                    version, added = self._add_phrasings(entry_id, group, editor=editor, note=note)
                except EntryError as error:
                    skipped += [(c.id, str(error)) for c in group]
                    continue
                versions.update((c.id, version) for c in added)
                skipped += [(c.id, f"entry {entry_id!r} holds {MAX_ALT_QUESTIONS} phrasings already")
                            for c in group if c not in added]
            self.candidates.decide(versions, CandidateState.APPROVED, editor=editor, versions=versions)
            approved = tuple(self.candidates.get(i) for i in versions)
            if approved:
                self.kb.refresh(calibrate=False, retrain=False)  # answers with the new phrasings from now on
                self._approved_since_calibration += len(approved)
                if self.recalibrate_after and self._approved_since_calibration >= self.recalibrate_after:
                    self.recalibrate()
            return Decision(approved=approved, skipped=tuple(skipped))

    def reject(self, candidate_ids: Sequence[int], *, editor: str) -> Decision:
        """Mark candidates rejected: they are never added, and no longer count in the calibration."""
        with self._lock:
            return reject_candidates(self.candidates, candidate_ids, editor=editor)

    def recalibrate(self) -> None:
        """Recalibrate the thresholds now (with the phrasings and confirmations collected so far)."""
        self._approved_since_calibration = 0
        if self.kb.published():
            self.kb.retrain_classifier()
            self.kb.calibrate()

    def confirmed_questions(self) -> list[Confirmed]:
        """The pending candidates citizens confirmed more often than rejected, with their vectors."""
        pending = self.candidates.confirmed_pending()
        if not pending:
            return []
        vectors = self.kb.embed_cached([text for text, _ in pending])
        return [Confirmed(text=text, vector=vector, entry_id=entry_id)
                for (text, entry_id), vector in zip(pending, vectors, strict=True)]

    def _phrasing(self, text: str, entry_id: str) -> str | None:
        phrasing = " ".join(self._redact(text or "").split())
        if not phrasing or len(phrasing) > MAX_QUESTION_CHARS:
            return None
        entry = self.kb.store.get(entry_id)
        if entry is None:
            raise EntryNotFound(entry_id)
        if self.kb.published_version(entry_id) is None:
            return None  # retired (or never published) meanwhile: nothing to teach
        if text_key(phrasing) in {text_key(p) for p in entry.phrasings}:
            return None
        return phrasing

    def _due(self, candidate: Candidate, source: Source) -> bool:
        return source in self.trusted or candidate.confirmations - candidate.rejections >= self.auto_approve_after

    def _add_phrasings(self, entry_id: str, group: list[Candidate], *, editor: str,
                       note: str | None) -> tuple[int, list[Candidate]]:
        """One new published version of the entry with the group's phrasings (as many as it can hold); while a
        draft edit waits, the draft gets them too, so that publishing it later keeps them.

        Returns the published version and the candidates now among the entry's phrasings.
        """
        store = self.kb.store
        record = store.record(entry_id)
        live = store.get(entry_id)
        if record.published_version is None or live is None:
            raise EntryError(f"entry {entry_id!r} is not published")
        known = {text_key(p) for p in live.phrasings}
        new: dict[str, str] = {}
        for candidate in group:
            key = text_key(candidate.text)
            if key not in known and key not in new and len(live.alt_questions) + len(new) < MAX_ALT_QUESTIONS:
                new[key] = candidate.text
        added = [c for c in group if text_key(c.text) in known or text_key(c.text) in new]
        if not new:
            return record.published_version, added
        text = note or "approved phrasing (from use)"
        saved = store.save(live.model_copy(update={"alt_questions": (*live.alt_questions, *new.values())}),
                           state=PUBLISHED, editor=editor, note=f"{text}: " + " | ".join(new.values()), require=True)
        if record.state == DRAFT:  # the waiting draft stays the newest version, with the phrasings too
            draft = record.entry
            extra = [p for key, p in new.items() if key not in {text_key(q) for q in draft.phrasings}]
            alts = (*draft.alt_questions, *extra)[:MAX_ALT_QUESTIONS]
            store.save(draft.model_copy(update={"alt_questions": alts}), state=DRAFT, editor=editor,
                       note=f"{text} (also in the waiting draft)", require=True)
        return saved.published_version or saved.version, added


def reject_candidates(candidates: CandidateStore, candidate_ids: Sequence[int], *, editor: str) -> Decision:
    """Mark the pending ones among the candidates rejected (no model needed: nothing is indexed)."""
    chosen = [candidates.get(i) for i in dict.fromkeys(candidate_ids)]
    pending = [c.id for c in chosen if c.state is CandidateState.PENDING]
    candidates.decide(pending, CandidateState.REJECTED, editor=editor)
    return Decision(rejected=tuple(candidates.get(i) for i in pending),
                    skipped=tuple((c.id, f"already {c.state}") for c in chosen
                                  if c.state is not CandidateState.PENDING))


def _why(candidate: Candidate, source: Source) -> str:
    if source in (Source.STAFF, Source.EDITOR):
        return f"resolved by {source}"
    return f"confirmed in {candidate.confirmations} conversations"
