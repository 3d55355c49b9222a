"""Run the desk service alone: `python -m desk` (the launcher `citydesk serve` starts it this way)."""

import logging

import uvicorn

from desk.app import create_app
from settings import Settings


def main() -> None:
    settings = Settings()
    # the desk's own loggers (citydesk.*: escalations, knowledge base refreshes) to its log, beside uvicorn's
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.desk_port, log_level="info")


if __name__ == "__main__":
    main()
