"""The action server as a real process (bot/actions/server.py): bound to 127.0.0.1, refuses calls without its secret."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "the-action-servers-secret"


def request(url: str, *, body: dict | bytes | None = None, token: str | None = None) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def start(port: int, **env: str) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CITYDESK_")}
    return subprocess.Popen([sys.executable, "-m", "bot.actions.server", "--port", str(port)], cwd=ROOT,
                            env={**environment, "PYTHONPATH": str(ROOT), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    process = start(port, CITYDESK_ACTION_TOKEN=SECRET, CITYDESK_DESK_URL=f"http://127.0.0.1:{free_port()}")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                if request(f"{url}/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the action server did not start"
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


CALL = {"next_action": "action_emergency", "sender_id": "web-x", "version": "3.6.21", "domain": {},
        "tracker": {"sender_id": "web-x", "slots": {}, "latest_message": {"text": "fire", "intent": {}},
                    "events": [], "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen"}}


def test_health_needs_no_secret(server):
    assert request(f"{server}/health") == (200, {"status": "ok"})


@pytest.mark.parametrize("token", [None, "", "wrong", SECRET + "x", f"{SECRET} "[:-2]])
def test_a_call_without_the_secret_is_refused_and_runs_no_action(server, token):
    status, body = request(f"{server}/webhook", body=CALL, token=token)
    assert status == 401
    assert "CITYDESK_ACTION_TOKEN" in body["error"] and "events" not in body
    assert request(f"{server}/actions", token=token)[0] == 401


def test_a_call_with_the_secret_runs_the_action(server):
    status, body = request(f"{server}/webhook", body=CALL, token=SECRET)
    assert status == 200
    assert body["responses"][0]["text"].startswith("If anyone is in danger, call 911 now.")
    status, names = request(f"{server}/actions", token=SECRET)
    assert status == 200 and {"name": "action_case_status"} in names


def test_a_failing_call_does_not_echo_the_request(server):
    status, body = request(f"{server}/webhook", body={**CALL, "tracker": "s3cret-words"},
                           token=SECRET)
    assert status == 500 and "s3cret" not in json.dumps(body)


def test_it_listens_on_the_loopback_interface_only(server):
    port = int(server.rsplit(":", 1)[1])
    listening = [line.split()[1] for line in Path("/proc/net/tcp").read_text().splitlines()[1:]
                 if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port]
    assert listening == [f"0100007F:{port:04X}"]  # 127.0.0.1, not 0.0.0.0
    assert not [line for line in Path("/proc/net/tcp6").read_text().splitlines()[1:]
                if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == port]


def test_it_does_not_start_without_a_secret():
    process = start(free_port())
    output, _ = process.communicate(timeout=60)
    assert process.returncode != 0
    assert b"CITYDESK_ACTION_TOKEN is not set" in output
