"""Run the desk service alone: `python -m desk` (the launcher `citydesk serve` starts it this way)."""

import logging

import uvicorn
from fastapi import FastAPI

from desk.app import create_app
from knowledge_base.factory import knowledge_base_for
from knowledge_base.importer import read_entries
from settings import Settings


class NoQueryStrings(logging.Filter):
    """uvicorn's access log without query strings: they carry citizens' words (/api/cases/status?text=...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path, mark, _ = record.args[2].partition("?")
            record.args = (*record.args[:2], path + ("?…" if mark else ""), *record.args[3:])
        return True


def app_from_environment() -> FastAPI:
    """One desk worker's app (uvicorn's factory when CITYDESK_DESK_WORKERS > 1): settings from the environment."""
    configure_logging()  # in the worker process, after uvicorn has set up its loggers there
    return create_app(Settings())


def configure_logging() -> None:
    # the desk's own loggers (citydesk.*: escalations, knowledge base refreshes) to its log, beside uvicorn's
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, NoQueryStrings) for f in access.filters):
        access.addFilter(NoQueryStrings())


def prepare_once(settings: Settings) -> None:
    """Before the workers start: migrate and load the seed entries once, so that workers do not race to do it."""
    knowledge_base = knowledge_base_for(settings, load_index=False)
    if settings.seed_kb_file and knowledge_base.store.count() == 0:
        knowledge_base.import_entries(read_entries(settings.seed_kb_file))


def main() -> None:
    settings = Settings()
    configure_logging()
    workers = settings.effective_desk_workers
    if workers != settings.desk_workers:
        logging.getLogger("citydesk.desk").warning("CITYDESK_DESK_WORKERS=%d ignored: SQLite has one desk worker",
                                                   settings.desk_workers)
    if workers == 1:
        uvicorn.run(create_app(settings), host=settings.host, port=settings.desk_port, log_level="info")
        return
    # several processes on one port: outbox rows are claimed with FOR UPDATE SKIP LOCKED (outbox/store.py)
    prepare_once(settings)
    uvicorn.run("desk.__main__:app_from_environment", factory=True, workers=workers, host=settings.host,
                port=settings.desk_port, log_level="info")


if __name__ == "__main__":
    main()
