"""The desk service: knowledge base API, web chat, health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

import database
from accounts import load_accounts
from broadcasts.service import Broadcasts
from connectors.pipeline import Pipeline
from desk import trend_schedule
from desk.api import cases, chat, conversations, entries, errors, feedback, health, kb, messages, open311
from desk.api import disclosure as disclosure_api
from desk.escalation import escalating
from desk.eval_jobs import Evaluations
from desk.http_guards import BodyGuard, SecurityHeaders
from desk.kb_refresh import refreshing
from desk.leadership import while_leading
from desk.mail import sending_mail
from desk.report_schedule import scheduling_reports
from desk.web import auth, editor, editor_eval, editor_files, editor_insights, editor_suggestions, inbox, pages
from desk.web import broadcasts as broadcast_pages
from desk.web import dashboard as dashboard_pages
from desk.web import disclosure as disclosure_pages
from desk.web import reports as report_pages
from desk.web import staff_admin as staff_admin_pages
from desk.web import transcripts as transcript_pages
from desk.web.templates import STATIC_DIR
from disclosure.public import build_disclosure
from disclosure.staff_review import TranscriptDesk
from handoff.audit import AuditLog
from handoff.categories import CategoryClassifier
from handoff.city_directory import CityDirectory, departments_in_use
from handoff.clock import city_calendar
from handoff.directory import Directory, load_directory
from handoff.intake import Intake
from handoff.logins import LoginThrottle
from handoff.notices import CaseMail
from handoff.replies import load_templates
from handoff.routing import check_account_departments
from handoff.service import CaseDesk
from handoff.staff import StaffAccounts
from handoff.unanswered import UnansweredQuestions
from knowledge_base.candidates import CandidateStore
from knowledge_base.editor import EntryEditor
from knowledge_base.factory import knowledge_base_for
from knowledge_base.feedback import FeedbackStore
from knowledge_base.gaps import GapFinder
from knowledge_base.importer import read_entries
from knowledge_base.learning import PhrasingLearner
from knowledge_base.store import EmbeddingCache
from privacy import build_redactor
from settings import Settings
from transcripts.writer import TranscriptWriter

log = logging.getLogger("citydesk.desk")


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """The desk; `clock` (tests: a faked one) is the time its cases, deadlines and report e-mails read."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _ = settings.resolved_internal_token  # created now, so that the CLI finds it in the data folder
        knowledge_base = knowledge_base_for(settings, recalibration_interval_s=settings.recalibration_interval_s)
        if settings.seed_kb_file and knowledge_base.store.count() == 0:
            report = knowledge_base.import_entries(read_entries(settings.seed_kb_file))
            log.info("Loaded %d entries from %s", report.created, settings.seed_kb_file)
        app.state.knowledge_base = knowledge_base
        sessions = database.open(settings, migrate=False)  # knowledge_base_for migrated it
        app.state.sessions = sessions
        redactor = build_redactor(settings)
        app.state.redactor = redactor
        writer = TranscriptWriter(sessions, redact=redactor.public_text)
        # the city's directory file plus the departments its entries name, rebuilt when the entries change
        marker = knowledge_base.store.change_marker()
        knowledge_base.refresh(calibrate=False)  # the index is up to date with the marker: the directory too
        city_directory = CityDirectory(load_directory(settings.directory_file), knowledge_base,
                                       in_use=lambda: departments_in_use(sessions), marker=marker)
        mail = CaseMail(redact=redactor.public_text, desk_url=settings.desk_url, timezone=settings.city_timezone,
                        city_name=settings.city_name)
        case_desk = CaseDesk(sessions, city_directory.directory, settings.city_timezone, transcript=writer, mail=mail,
                             clock=clock or (lambda: datetime.now(UTC)),
                             calendar=city_calendar(settings.city_timezone, settings.holidays_country,
                                                    settings.holidays_subdiv))
        app.state.cases = case_desk
        accounts = load_accounts(settings)
        check_account_departments(accounts, case_desk.directory)
        app.state.accounts = accounts
        # approved phrasings are recalibrated by the periodic refresh (at most every recalibration_interval_s),
        # never on the request that approved them: a large knowledge base takes a minute
        learner = PhrasingLearner(knowledge_base, CandidateStore(sessions), redact=redactor.public_text,
                                  auto_approve_after=settings.phrasing_auto_approve_after, recalibrate_after=0)
        app.state.learner = learner
        app.state.intake = Intake(knowledge_base=knowledge_base, cases=case_desk,
                                  classifier=CategoryClassifier(case_desk.directory, knowledge_base.embedder),
                                  out_of_scope_below=settings.out_of_scope_below, learner=learner,
                                  accounts=accounts)
        app.state.staff = StaffAccounts(sessions, case_desk.directory)
        app.state.audit = AuditLog(sessions)  # staff administration (issue 17): logins, accounts, originals viewed
        app.state.login_throttle = LoginThrottle(sessions)
        app.state.feedback = FeedbackStore(sessions)
        app.state.entry_editor = EntryEditor(knowledge_base)
        app.state.evaluations = Evaluations(knowledge_base)
        app.state.unanswered = UnansweredQuestions(sessions)
        app.state.gap_finder = GapFinder(knowledge_base.embedder, EmbeddingCache(sessions, settings.embedding_model),
                                         redact=redactor.public_text)
        app.state.response_templates = load_templates(directory=case_desk.directory)
        app.state.disclosure = build_disclosure(settings, sessions, case_desk.directory, redactor)
        app.state.transcripts = TranscriptDesk(sessions, redactor=redactor)
        app.state.broadcasts = Broadcasts(sessions, settings)
        app.state.chat_pipeline = Pipeline(sessions, channel="web", rasa_url=settings.rasa_url, writer=writer,
                                           duplicate_window_s=settings.duplicate_window_s,
                                           rasa_timeout_s=settings.rasa_timeout_s,
                                           desk_token=settings.conversation_token,
                                           acknowledge_pending=False,  # POST /api/chat says it itself
                                           subscription_topics=tuple(app.state.broadcasts.templates()))

        def use_directory(directory: Directory) -> None:
            """Everything that reads the departments sees the rebuilt directory from its next request on."""
            case_desk.directory = directory
            app.state.staff.directory = directory
            app.state.disclosure = build_disclosure(settings, sessions, directory, redactor)

        def entries_changed(marker: int) -> None:
            directory = city_directory.refresh(marker)
            if directory is not None:
                use_directory(directory)

        # topics and keywords of the new messages, then the burst check, every trends_interval_s
        trend_job = trend_schedule.trend_job(settings, case_desk, embed=knowledge_base.embedder.embed,
                                             redact=redactor.public_text)
        app.state.trend_job = trend_job
        trends = {trend_schedule.JOB_ID: (trend_job, trend_schedule.trend_trigger(settings))}
        # web chat messages kept while the assistant was down (or the desk was killed) are answered within seconds
        # of its return, in order per conversation; the answers wait for the page in /api/chat/updates
        resuming = asyncio.create_task(app.state.chat_pipeline.resume_forever(), name="resume web chat")
        app.state.report_scheduler = None  # set in the worker that runs the city-wide jobs

        @asynccontextmanager
        async def city_wide_jobs() -> AsyncIterator[None]:
            async with escalating(case_desk, settings.escalation_interval_s, settings.reminder_at), \
                    scheduling_reports(settings, case_desk, others=trends) as app.state.report_scheduler:
                yield

        try:
            # every worker refreshes its own index and sends e-mail (claimed row by row); one runs the city-wide jobs
            async with refreshing(knowledge_base, settings.kb_refresh_interval_s, then=entries_changed), \
                    sending_mail(settings, sessions) as app.state.mail_sender, \
                    while_leading(sessions.kw["bind"], city_wide_jobs):
                yield
        finally:
            resuming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await resuming
            await app.state.chat_pipeline.aclose()

    app = FastAPI(title="CityDesk", version="0.1.0", lifespan=lifespan,
                  description="The city's social-media desk: knowledge base, web chat and (later) cases.")
    app.state.settings = settings
    errors.register(app)
    app.include_router(health.router)
    app.include_router(kb.router)
    app.include_router(entries.router)
    app.include_router(feedback.router)
    app.include_router(chat.router)
    app.include_router(messages.router)
    app.include_router(cases.router)
    app.include_router(conversations.router)
    app.include_router(open311.router)
    app.include_router(pages.router)
    auth.add_sessions(app, settings)
    app.include_router(auth.router)
    app.include_router(staff_admin_pages.router)
    app.include_router(staff_admin_pages.post_router)
    app.include_router(inbox.router)
    app.include_router(inbox.post_router)
    app.include_router(report_pages.router)
    app.include_router(broadcast_pages.router)
    app.include_router(broadcast_pages.post_router)
    app.include_router(broadcast_pages.public_router)
    app.include_router(editor.router)
    app.include_router(editor.post_router)
    app.include_router(editor_insights.router)
    app.include_router(editor_suggestions.router)
    app.include_router(editor_suggestions.post_router)
    app.include_router(editor_files.router)
    app.include_router(editor_files.post_router)
    app.include_router(editor_eval.router)
    app.include_router(editor_eval.post_router)
    app.include_router(transcript_pages.router)
    app.include_router(transcript_pages.post_router)
    app.include_router(disclosure_api.router)
    app.include_router(dashboard_pages.router)  # before /disclosure/{public_id}
    app.include_router(disclosure_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # outermost: every answer gets the headers, every body is checked before anything reads it
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    return app
