"""Two workers (separate processes) on one PostgreSQL database: every outgoing message reaches the receiving HTTP
server once, and every unanswered incoming message reaches Rasa once; a conversation's messages in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import update

import handoff.models  # noqa: F401  (the cases table, which outbox.case_id refers to)
from connectors.message import InboundMessage
from connectors.models import InboundRecord
from connectors.pipeline import Pipeline
from connectors.replies import RECEIVED
from database import create_db_engine, session_factory
from database.migrate import upgrade
from outbox import store
from outbox.models import OutboxMessage, OutboxState
from settings import PROJECT_ROOT
from tests.fakes.rasa_rest import FakeRasa
from tests.scale.conftest import fresh_database
from tests.support import free_port
from tests.transcripts.conftest import writer_for

CONVERSATIONS, PER_CONVERSATION = 12, 15


class Peer(ThreadingHTTPServer):
    """The receiving platform: records every message it accepts, in arrival order."""

    def __init__(self, port: int) -> None:
        self.arrived: list[dict] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), PeerHandler)


class PeerHandler(BaseHTTPRequestHandler):
    server: Peer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(0.005)  # a platform takes a moment: the workers overlap
        with self.server.lock:
            self.server.arrived.append(body)
            number = len(self.server.arrived)
        reply = json.dumps({"id": number}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_args: object) -> None:
        pass


@contextlib.contextmanager
def sending_workers(url: str, channel: str = "peer") -> Iterator[Peer]:
    """A receiving peer and two outbox workers sending `channel` to it, as separate processes; the workers finish
    their pass and exit at the end."""
    peer = Peer(free_port())
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    peer_url = f"http://127.0.0.1:{peer.server_address[1]}/send"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.scale.outbox_worker", url, peer_url, name, channel],
                                cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
               for name in ("w1", "w2")]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == b"ready"
        yield peer
    finally:
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.close()
        for worker in workers:
            worker.wait(timeout=30)
        peer.shutdown()
    assert [w.returncode for w in workers] == [0, 0]


def wait_for_arrivals(peer: Peer, total: int) -> None:
    deadline = time.monotonic() + 60
    while len(peer.arrived) < total and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # a duplicate would arrive now


def test_two_workers_send_each_message_once_and_in_order_per_conversation(postgresql_url):
    url = fresh_database(postgresql_url)
    upgrade(url)
    sessions = session_factory(create_db_engine(url))
    total = CONVERSATIONS * PER_CONVERSATION
    with sending_workers(url) as peer:
        # queued in several rounds, as replies are, while both workers are sending
        for n in range(PER_CONVERSATION):
            with sessions.begin() as session:
                for c in range(CONVERSATIONS):
                    store.enqueue(session, key=f"c{c}-m{n}", channel="peer", conversation_id=f"c{c}",
                                  text=f"c{c} message {n}", now=datetime.now(UTC))
            time.sleep(0.01)
        wait_for_arrivals(peer, total)
    keys = [m["key"] for m in peer.arrived]
    assert len(keys) == total and len(set(keys)) == total  # every message once
    for c in range(CONVERSATIONS):
        texts = [m["text"] for m in peer.arrived if m["conversation"] == f"c{c}"]
        assert texts == [f"c{c} message {n}" for n in range(PER_CONVERSATION)]
    assert {m["worker"] for m in peer.arrived} == {"w1", "w2"}  # both workers sent
    with sessions() as session:
        states = session.query(OutboxMessage.state).filter(OutboxMessage.channel == "peer").all()
    assert {state for (state,) in states} == {OutboxState.SENT}


def test_two_processes_resume_the_unanswered_messages_each_once_and_in_order(postgresql_url):
    """Rasa was down: every message is recorded, unanswered. Two processes resume at once when it is back: Rasa
    gets each message once, a conversation's in order, and each gets one reply in the outbox."""
    url = fresh_database(postgresql_url)
    upgrade(url)
    sessions = session_factory(create_db_engine(url))
    rasa = FakeRasa(down=True).start()
    try:
        pipeline = Pipeline(sessions, channel="x", rasa_url=rasa.url, writer=writer_for(sessions))

        async def offer() -> None:
            for n in range(6):
                for c in range(8):
                    result = await pipeline.handle(InboundMessage(
                        channel="x", platform_message_id=f"c{c}-m{n}", conversation_id=f"x-{c}", sender_id=str(c),
                        text=f"c{c} question {n}", received_at=datetime.now(UTC)))
                    assert result.outcome == "pending"
            await pipeline.aclose()

        asyncio.run(offer())
        with sessions.begin() as session:  # due now, as after the retry delay
            session.execute(update(InboundRecord).values(next_attempt_at=None))
        rasa.down = False
        workers = [subprocess.Popen([sys.executable, "-m", "tests.scale.pending_worker", url, rasa.url],
                                    cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                   for _ in range(2)]
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == b"ready"
        for worker in workers:  # go, both at once
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            worker.stdin.flush()
        answered = [int(worker.communicate(timeout=120)[0].split()[-1]) for worker in workers]
    finally:
        rasa.stop()
    assert sum(answered) == 48
    texts = [body["message"] for body in rasa.received]
    assert len(texts) == len(set(texts)) == 48  # each message reached Rasa once
    for c in range(8):
        assert [t for t in texts if t.startswith(f"c{c} ")] == [f"c{c} question {n}" for n in range(6)]
    # what reaches the platform, sent by two workers: each message kept while the assistant failed got one
    # "received, the answer follows" (connectors/replies.py) and one answer, a conversation's answers in order
    with sending_workers(url, channel="x") as peer:
        wait_for_arrivals(peer, 2 * 48)
    keys = [m["key"] for m in peer.arrived]
    assert len(keys) == len(set(keys)) == 2 * 48
    assert len([m for m in peer.arrived if m["text"] == RECEIVED]) == 48
    for c in range(8):
        answers = [m["text"] for m in peer.arrived if m["conversation"] == f"x-{c}" and m["text"] != RECEIVED]
        assert answers == [f"You said: c{c} question {n}" for n in range(6)]
