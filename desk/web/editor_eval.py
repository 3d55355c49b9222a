"""The editor's evaluation pages: how the published knowledge base answers an uploaded file of questions, with the
figures of `citydesk kb eval` (shared/EVAL.md) and what happened to each question."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from desk.eval_jobs import EvaluationBusy, EvaluationJob, Evaluations
from desk.uploads import MAX_QUESTIONS, MAX_QUESTIONS_BYTES, UploadRefused, questions_upload, upload_name
from desk.web.auth import EDITOR_PATH, PageError, PageRoute, csrf_protected, current_editor
from desk.web.editor import editor_context
from desk.web.templates import templates
from handoff.models import StaffUser

POLL_S = 2
# The figures shown, in this order, with what they mean (shared/EVAL.md); shares are shown as percentages.
FIGURES: tuple[tuple[str, str], ...] = (
    ("n", "questions"),
    ("n_answerable", "questions an entry answers (expected_ids given)"),
    ("n_unanswerable", "questions no entry answers (expected_ids empty)"),
    ("auto_answer_rate", "answered directly"),
    ("auto_answer_precision", "direct answers that were right"),
    ("confirm_answer_rate", "answered with \"Did this answer your question?\""),
    ("confirm_answer_precision", "those answers that were right"),
    ("clarify_rate", "offered two or three entries to choose from"),
    ("clarify_hit_rate", "offers that held a right entry"),
    ("handled_without_staff_rate", "right answers, direct or confirmed, and offers holding a right entry"),
    ("handoff_recall", "questions no entry answers that were not answered directly"),
    ("top1", "answerable questions whose best entry is right"),
    ("recall_at_3", "answerable questions with a right entry among the best three"),
    ("mrr", "mean reciprocal rank of the first right entry"),
    ("auroc", "how well the confidence separates answerable from unanswerable questions"),
    ("department_accuracy", "hand-offs routed to expected_department, where given"),
    ("latency_ms_p50", "milliseconds per question, median (embedding and search)"),
    ("latency_ms_p95", "milliseconds per question, 95th percentile"),
    ("threshold", "answer threshold"),
    ("confirm_threshold", "confirm threshold"),
    ("expected_auto_answer_rate", "direct answer rate the calibration expects"),
    ("expected_auto_answer_precision", "direct answer precision the calibration expects"),
    ("expected_confirm_answer_rate", "confirmed answer rate the calibration expects"),
    ("expected_confirm_answer_precision", "confirmed answer precision the calibration expects"),
)
# shown as numbers; every other figure is a share, shown as a percentage
AS_NUMBERS = {"n", "n_answerable", "n_unanswerable", "latency_ms_p50", "latency_ms_p95", "threshold",
              "confirm_threshold", "mrr", "auroc"}
DECISIONS = {"answer": "answered", "confirm": "answered, asking \"Did this answer your question?\"",
             "clarify": "offered", "handoff": "handed to staff"}

router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                   dependencies=[Depends(current_editor)])
post_router = APIRouter(prefix=EDITOR_PATH, include_in_schema=False, route_class=PageRoute,
                        dependencies=[Depends(current_editor), Depends(csrf_protected)])


def get_evaluations(request: Request) -> Evaluations:
    return request.app.state.evaluations


def shown(key: str, value: Any) -> str:
    """A figure as the page shows it: a share as a percentage, a number to four digits; — when there is none."""
    if value is None:
        return "—"
    if key not in AS_NUMBERS:
        return f"{value * 100:.1f} %"
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def figures(report: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(key, shown value, meaning, value) of the report's figures, in the page's order."""
    return [(key, shown(key, report[key]), meaning, report[key]) for key, meaning in FIGURES if key in report]


def _start_page(request: Request, user: StaffUser, evaluations: Evaluations, *, error: str | None = None,
                running: EvaluationJob | None = None, status_code: int = 200) -> HTMLResponse:
    kb = evaluations.kb
    return templates.TemplateResponse(request, "editor_evaluate.html", editor_context(
        request, user, error=error, running=running, recent=evaluations.recent(), published=len(kb.published()),
        thresholds=kb.thresholds, max_questions=MAX_QUESTIONS, max_megabytes=MAX_QUESTIONS_BYTES // (1024 * 1024)),
        status_code=status_code)


@router.get("/evaluate", response_class=HTMLResponse)
def evaluate_page(request: Request, user: StaffUser = Depends(current_editor),
                  evaluations: Evaluations = Depends(get_evaluations)) -> HTMLResponse:
    """Upload questions; the recent evaluations."""
    return _start_page(request, user, evaluations)


@post_router.post("/evaluate", response_class=HTMLResponse)
def start_evaluation(request: Request, file: UploadFile | None = File(default=None),
                     user: StaffUser = Depends(current_editor),
                     evaluations: Evaluations = Depends(get_evaluations)) -> Response:
    """Read the questions (a bad line is named), start the evaluation, and go to its page."""
    if file is None or not file.filename:
        return _start_page(request, user, evaluations, error="Choose a .jsonl file of questions first.",
                           status_code=400)
    try:
        questions = questions_upload(file.file, file.filename)
        job = evaluations.start(questions, file_name=upload_name(file.filename, "questions.jsonl"),
                                started_by=user.username)
    except UploadRefused as refused:
        return _start_page(request, user, evaluations, error=str(refused),
                           status_code=413 if refused.too_large else 400)
    except EvaluationBusy as busy:
        return _start_page(request, user, evaluations, running=busy.job, status_code=409,
                           error="Another evaluation is running: start yours when it is done (the machine's cores "
                                 "also answer the citizens).")
    return RedirectResponse(f"{EDITOR_PATH}/evaluate/{job.id}", status_code=303)


@router.get("/evaluate/{job_id}", response_class=HTMLResponse)
def evaluation_page(request: Request, job_id: str, user: StaffUser = Depends(current_editor),
                    evaluations: Evaluations = Depends(get_evaluations)) -> HTMLResponse:
    """The evaluation's progress (the page reloads itself), then its figures and one row per question."""
    job = evaluations.get(job_id)
    if job is None:
        raise PageError(404, "Evaluation not found", "There is no such evaluation: the desk keeps the last few "
                                                     "until it restarts. Upload the questions again.")
    return templates.TemplateResponse(request, "editor_evaluation.html", editor_context(
        request, user, job=job, figures=figures(job.report) if job.report else [], decisions=DECISIONS,
        poll_s=POLL_S))
