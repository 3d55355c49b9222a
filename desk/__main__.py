"""Run the desk service alone: `python -m desk` (the launcher `citydesk serve` starts it this way)."""

import logging

import uvicorn

from desk.app import create_app
from settings import Settings


class NoQueryStrings(logging.Filter):
    """uvicorn's access log without query strings: they carry citizens' words (/api/cases/status?text=...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path, mark, _ = record.args[2].partition("?")
            record.args = (*record.args[:2], path + ("?…" if mark else ""), *record.args[3:])
        return True


def main() -> None:
    settings = Settings()
    # the desk's own loggers (citydesk.*: escalations, knowledge base refreshes) to its log, beside uvicorn's
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.access").addFilter(NoQueryStrings())
    uvicorn.run(create_app(settings), host=settings.host, port=settings.desk_port, log_level="info")


if __name__ == "__main__":
    main()
