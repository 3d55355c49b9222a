"""Two desk workers (two processes, each with its outbox sender) on one PostgreSQL database: every message reaches
the receiving HTTP server once, and a conversation's messages arrive in the order they were queued."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import handoff.models  # noqa: F401  (the cases table, which outbox.case_id refers to)
from database import create_db_engine, session_factory
from database.migrate import upgrade
from outbox import store
from outbox.models import OutboxMessage, OutboxState
from settings import PROJECT_ROOT
from tests.scale.conftest import fresh_database
from tests.support import free_port

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


def test_two_workers_send_each_message_once_and_in_order_per_conversation(postgresql_url):
    url = fresh_database(postgresql_url)
    upgrade(url)
    sessions = session_factory(create_db_engine(url))
    peer = Peer(free_port())
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    peer_url = f"http://127.0.0.1:{peer.server_address[1]}/send"
    workers = [subprocess.Popen([sys.executable, "-m", "tests.scale.outbox_worker", url, peer_url, name],
                                cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
               for name in ("w1", "w2")]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == b"ready"
        # queued in several rounds, as replies are, while both workers are sending
        for n in range(PER_CONVERSATION):
            with sessions.begin() as session:
                for c in range(CONVERSATIONS):
                    store.enqueue(session, key=f"c{c}-m{n}", channel="peer", conversation_id=f"c{c}",
                                  text=f"c{c} message {n}", now=datetime.now(UTC))
            time.sleep(0.01)
        deadline = time.monotonic() + 60
        total = CONVERSATIONS * PER_CONVERSATION
        while len(peer.arrived) < total and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # a duplicate would arrive now
    finally:
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.close()
        for worker in workers:
            worker.wait(timeout=30)
        peer.shutdown()

    assert [w.returncode for w in workers] == [0, 0]
    keys = [m["key"] for m in peer.arrived]
    assert len(keys) == total and len(set(keys)) == total  # every message once
    for c in range(CONVERSATIONS):
        texts = [m["text"] for m in peer.arrived if m["conversation"] == f"c{c}"]
        assert texts == [f"c{c} message {n}" for n in range(PER_CONVERSATION)]
    assert {m["worker"] for m in peer.arrived} == {"w1", "w2"}  # both workers sent
    with sessions() as session:
        states = session.query(OutboxMessage.state).filter(OutboxMessage.channel == "peer").all()
    assert {state for (state,) in states} == {OutboxState.SENT}
