"""The report e-mails' scheduler inside the desk (APScheduler): Monday at `report_hour` (city time) the weekly reports
to the department heads, the 1st at that hour the monthly one to the supervisors (handoff/report_mail.py).

The same job runs once at every start, so a desk that was down at the hour catches up; the outbox's idempotency
keys (one per department or supervisor and period) make sure a restart never sends a report twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select

from desk.background import run_once
from handoff.models import Role, StaffUser
from handoff.notices import Notice, address_in_username
from handoff.report_mail import queue_due_reports
from handoff.service import CaseDesk
from settings import Settings

log = logging.getLogger("citydesk.reports")
JOB_ID = "report-mail"


def supervisors_of(settings: Settings, cases: CaseDesk) -> list[str]:
    """Who receives the monthly report: the addresses in settings, and supervisor accounts named by an address."""
    with cases.sessions() as session:
        accounts = session.scalars(select(StaffUser.username).where(StaffUser.role == Role.SUPERVISOR)).all()
    found = [*settings.report_supervisors, *(a for a in (address_in_username(u) for u in accounts) if a)]
    return list(dict.fromkeys(address.strip() for address in found if address.strip()))


def report_job(settings: Settings, cases: CaseDesk) -> Callable[[], list[Notice]]:
    """Queue the reports due by the desk's clock now (each once)."""

    def job() -> list[Notice]:
        queued = queue_due_reports(cases.sessions, cases.directory, now=cases.now(), timezone=settings.city_timezone,
                                   hour=settings.report_hour, supervisors=supervisors_of(settings, cases),
                                   desk_url=settings.desk_url, city_name=settings.city_name)
        if queued:
            log.info("Queued %d report e-mails", len(queued))
        return queued

    return job


def triggers(settings: Settings) -> dict[str, CronTrigger]:
    """When the job runs: Monday and the 1st of each month at the report hour, city time."""
    return {"weekly": CronTrigger(day_of_week="mon", hour=settings.report_hour, minute=0,
                                  timezone=settings.city_timezone),
            "monthly": CronTrigger(day=1, hour=settings.report_hour, minute=0, timezone=settings.city_timezone)}


@contextlib.asynccontextmanager
async def scheduling_reports(settings: Settings, cases: CaseDesk, *,
                             others: Mapping[str, tuple[Callable[[], object], BaseTrigger]] | None = None,
                             ) -> AsyncIterator[AsyncIOScheduler]:
    """Run the report job at start (catching up) and at each trigger until the block ends; `others`: more jobs of
    the desk's one scheduler (id -> job, trigger), each run once as soon as the scheduler starts too."""
    job = report_job(settings, cases)

    async def run() -> None:
        await run_once(job, "the report e-mails")

    scheduler = AsyncIOScheduler(timezone=settings.city_timezone)
    for name, trigger in triggers(settings).items():
        scheduler.add_job(run, trigger, id=f"{JOB_ID}-{name}", coalesce=True, misfire_grace_time=3600,
                          max_instances=1)
    await run()
    for job_id, (other, trigger) in (others or {}).items():
        async def run_other(other: Callable[[], object] = other, job_id: str = job_id) -> None:
            await run_once(other, job_id)

        # the first run at once, but not awaited: a first topic job over a large backlog takes minutes
        scheduler.add_job(run_other, trigger, id=job_id, coalesce=True, max_instances=1,
                          next_run_time=datetime.now(UTC))
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
