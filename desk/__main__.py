"""Run the desk service alone: `python -m desk` (the launcher `citydesk serve` starts it this way)."""

import uvicorn

from desk.app import create_app
from desk.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.desk_port, log_level="info")


if __name__ == "__main__":
    main()
