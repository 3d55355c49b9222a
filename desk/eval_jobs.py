"""Evaluations of the desk's own knowledge base against uploaded questions (shared/EVAL.md), each in a thread.

A few hundred questions take tens of seconds on two cores: the request that starts one returns at once, and the
page polls the job. One runs at a time (they compete for the same cores as the citizens' questions); the last few
are kept in memory, until the desk restarts.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from knowledge_base.evaluation import Question, evaluate, expected_figures
from knowledge_base.service import KnowledgeBase

log = logging.getLogger("citydesk.eval_jobs")

KEPT_JOBS = 10


@dataclass
class EvaluationJob:
    """One evaluation: its progress, then the contract's figures and one record per question (or the error)."""

    id: str
    file_name: str
    started_by: str
    started_at: datetime
    total: int
    entries: int  # published entries when it started
    done: int = 0
    report: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    finished_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.report is None and self.error is None


class EvaluationBusy(Exception):
    """Another evaluation is running: start this one when it is done."""

    def __init__(self, job: EvaluationJob) -> None:
        super().__init__(f"an evaluation of {job.file_name} started by {job.started_by} is running")
        self.job = job


class Evaluations:
    """The desk's evaluations: start one in a thread, read its progress and results."""

    def __init__(self, kb: KnowledgeBase, *, keep: int = KEPT_JOBS,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.kb = kb
        self._keep, self._clock = keep, clock
        self._jobs: OrderedDict[str, EvaluationJob] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, questions: Sequence[Question], *, file_name: str, started_by: str) -> EvaluationJob:
        """Start evaluating `questions` against the published entries, with the desk's thresholds."""
        with self._lock:
            running = next((job for job in self._jobs.values() if job.running), None)
            if running is not None:
                raise EvaluationBusy(running)
            job = EvaluationJob(id=secrets.token_urlsafe(12), file_name=file_name, started_by=started_by,
                                started_at=self._clock(), total=len(questions), entries=len(self.kb.published()))
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                self._jobs.popitem(last=False)
        threading.Thread(target=self._run, args=(job, list(questions)), name=f"evaluation-{job.id}",
                         daemon=True).start()
        return job

    def get(self, job_id: str) -> EvaluationJob | None:
        return self._jobs.get(job_id)

    def recent(self) -> list[EvaluationJob]:
        """The kept evaluations, newest first."""
        return list(reversed(self._jobs.values()))

    def _run(self, job: EvaluationJob, questions: list[Question]) -> None:
        def advance() -> None:
            job.done += 1

        records: list[dict[str, Any]] = []
        try:
            report = evaluate(self.kb, questions, on_progress=advance, details=records)
            if self.kb.calibration is not None:
                report |= expected_figures(self.kb.calibration.figures())
        except Exception as error:  # the page says it failed; the log has the traceback
            log.exception("The evaluation of %s failed", job.file_name)
            job.error = f"The evaluation failed: {error}"
        else:
            job.records, job.report = records, report
        job.finished_at = self._clock()
