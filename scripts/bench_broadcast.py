"""How fast an emergency alert reaches Telegram subscribers, against the local Bot API that enforces Telegram's
flood limits (30 messages a second overall, one a second per chat; 429 with retry_after beyond them).

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_broadcast.py [--subscribers 10000] [--kill-at 0.5]

The path measured: the alert drafted, approved by a second person and released (one outbox row per subscriber),
then `citydesk connector telegram` (a real process, the production sender) delivering the rows to the local Bot API
(tests/fakes/telegram_api.py). With --kill-at, the sender is killed with SIGKILL once that share is delivered (while
requests are in flight: the Bot API holds them unanswered; every accepted one is marked sent) and started again.
Prints one JSON object: the release's time, the time to reach everyone, the sustained rate (between 10 % and 90 %
delivered), the 429s, and the count of subscribers reached twice or never (both must be 0). Outside `make test`: it
takes minutes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import database
from broadcasts.models import Subscription
from broadcasts.service import Broadcasts
from handoff.directory import load_directory
from handoff.staff import StaffAccounts
from outbox import OutboxMessage, OutboxState
from settings import PROJECT_ROOT, Settings
from tests.fakes.telegram_api import FakeTelegramApi
from tests.support import free_port

FIRST_CHAT = 1_000_000


def start_sender(settings: Settings, fake: FakeTelegramApi, log: Path) -> subprocess.Popen:
    environment = {**os.environ, "CITYDESK_DATA_DIR": str(settings.data_dir),
                   "CITYDESK_DATABASE_URL": settings.resolved_database_url, "TELEGRAM_BOT_TOKEN": fake.token,
                   "TELEGRAM_BASE_URL": fake.bot_base_url, "CITYDESK_RASA_PORT": str(free_port())}
    environment.pop("DATABASE_URL", None)
    with log.open("ab") as output:
        return subprocess.Popen([sys.executable, "-m", "desk.cli", "connector", "telegram"], cwd=PROJECT_ROOT,
                                env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def marked(sessions) -> int:
    """Outbox rows marked sent: the kill waits until every accepted message is marked (see the test's note)."""
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.state == OutboxState.SENT)) or 0


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(timeout=60)


def main(subscribers: Annotated[int, typer.Option(help="Telegram subscribers.")] = 10_000,
         kill_at: Annotated[float, typer.Option(help="Kill the sender once this share is delivered (0: never).")
                            ] = 0.0) -> None:
    folder = Path(tempfile.mkdtemp(prefix="citydesk-bench-broadcast-"))
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'citydesk.db'}")
    sessions = database.open(settings)
    accounts = StaffAccounts(sessions, load_directory(settings.directory_file))
    accounts.add(username="ana", display_name="Ana", password="a long enough password", role="supervisor")
    accounts.add(username="ben", display_name="Ben", password="a long enough password", role="broadcaster")
    chats = range(FIRST_CHAT, FIRST_CHAT + subscribers)
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.add_all([Subscription(channel="telegram", address=f"tg-{chat}", topic="", area="", test=False,
                                      created_at=now) for chat in chats])
    service = Broadcasts(sessions, settings)
    alert = service.draft(template="flood", text="The Alder river is rising: leave the riverbank now.", by="ana",
                          channels=["telegram"], area="Riverside")
    service.approve(alert.id, by="ben")
    started = time.monotonic()
    service.release(alert.id)
    release_s = time.monotonic() - started

    log = folder / "telegram.log"
    samples: list[tuple[float, int]] = []
    with FakeTelegramApi(max_per_second=30, chat_period_s=1.0) as fake:
        if kill_at:
            fake.hold_after(int(subscribers * kill_at))
        sender = start_sender(settings, fake, log)
        begin = time.monotonic()
        killed_after_s = None
        try:
            while True:
                sent = len(fake.sent)
                samples.append((time.monotonic() - begin, sent))
                if kill_at and killed_after_s is None and fake.held > 0 and marked(sessions) == len(fake.sent):
                    stop(sender, signal.SIGKILL)
                    killed_after_s = time.monotonic() - begin
                    fake.release_held()
                    sender = start_sender(settings, fake, log)
                if sent >= subscribers and service.status(alert.id).pending == 0:
                    break
                if sender.poll() is not None:
                    raise SystemExit(f"the sender stopped: {log.read_text()[-2000:]}")
                time.sleep(0.25)
        finally:
            stop(sender)
        reached = Counter(m.chat_id for m in fake.sent)
        too_many = fake.too_many_requests

    def time_at(share: float) -> float:
        return next(t for t, n in samples if n >= share * subscribers)

    total_s = samples[-1][0]
    t10, t90 = time_at(0.1), time_at(0.9)
    print(json.dumps({
        "subscribers": subscribers, "release_s": round(release_s, 2), "time_to_everyone_s": round(total_s, 1),
        "sustained_per_s": round(0.8 * subscribers / (t90 - t10), 2),
        "overall_per_s": round(subscribers / total_s, 2), "killed_after_s": killed_after_s and round(killed_after_s, 1),
        "rate_limited_429": too_many, "twice": sum(1 for n in reached.values() if n > 1),
        "never": subscribers - len(reached), "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count()}))


if __name__ == "__main__":
    typer.run(main)
