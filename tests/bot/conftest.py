"""Action tests: trackers built from JSON, against the real desk service started as a process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.settings import get_settings
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
DEMO_KB = ROOT / "knowledge_base" / "demo" / "demo_kb.jsonl"
TRACKERS = Path(__file__).resolve().parent / "trackers"
DESK_PYTHON = ROOT / ".venv" / "bin" / "python"
INTERNAL_TOKEN = "test-internal-token"  # what the test desk accepts on its internal API


def conversation_token(conversation_id: str, key: str = INTERNAL_TOKEN) -> str:
    """The desk token of one conversation, as the desk mints it (settings.secrets.conversation_token)."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    mac = hmac.new(key.encode(), b"citydesk conversation token\0" + conversation_id.encode(), hashlib.sha256).digest()
    return f"c1.{b64(conversation_id.encode())}.{b64(mac)}"


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the desk exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"the desk did not answer {url} within {timeout} s")


@contextmanager
def running_desk(data_dir: Path, **settings: str) -> Iterator[str]:
    """The real desk (its own Python environment) on a free port, seeded with the demo knowledge base, its data in
    `data_dir`; `settings` are more CITYDESK_* variables of its environment. Its URL."""
    if not DESK_PYTHON.exists():
        pytest.fail(f"{DESK_PYTHON} is missing: run `make setup` first")
    port = free_port()
    env = {**os.environ, "CITYDESK_DATA_DIR": str(data_dir), "CITYDESK_DESK_PORT": str(port),
           "CITYDESK_SEED_KB_FILE": str(DEMO_KB), "CITYDESK_DATABASE_URL": f"sqlite:///{data_dir}/citydesk.db",
           "CITYDESK_INTERNAL_TOKEN": INTERNAL_TOKEN, **settings}
    with (data_dir / "desk.log").open("wb") as log:
        process = subprocess.Popen([str(DESK_PYTHON), "-m", "desk"], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            wait_for(f"http://127.0.0.1:{port}/health", process)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="session")
def desk(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The real desk on a free port, seeded with the demo knowledge base, its thresholds calibrated.

    Its URL and its data folder (whose SQLite database the tests read to see what the desk recorded).
    """
    data_dir = tmp_path_factory.mktemp("desk")
    with running_desk(data_dir) as url:
        yield url, data_dir


@pytest.fixture(scope="session")
def desk_url(desk) -> str:
    return desk[0]


@pytest.fixture(scope="session")
def desk_database(desk) -> Path:
    return desk[1] / "citydesk.db"


def point_actions_at(desk_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The actions' settings: this desk; fresh settings from now on. (No token: each tracker carries its own.)"""
    monkeypatch.setenv("CITYDESK_DESK_URL", desk_url)
    monkeypatch.setenv("CITYDESK_EMERGENCY_NUMBER", "112")
    monkeypatch.setenv("CITYDESK_CITY_SERVICE_PHONE", "(555) 010-0311")
    get_settings.cache_clear()


@pytest.fixture
def action_env(desk_url, monkeypatch):
    """Point the actions' settings at the test desk; each test sees fresh settings."""
    point_actions_at(desk_url, monkeypatch)
    yield
    get_settings.cache_clear()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def load_tracker(name: str, sender: str | None = None, slots: dict | None = None,
                 **latest_message: object) -> Tracker:
    """A tracker from tests/bot/trackers/NAME.json, optionally for another sender, slots or latest message.

    Its latest message carries the sender's desk token in its metadata, as the desk's pipeline gives it to Rasa
    (pass metadata= to give another, or none)."""
    state = json.loads((TRACKERS / f"{name}.json").read_text())
    if sender:
        state["sender_id"] = sender
    state["latest_message"]["metadata"] = {"desk_token": conversation_token(state["sender_id"])}
    state["latest_message"].update(latest_message)
    state["slots"].update(slots or {})
    return Tracker.from_dict(state)


def parse_payload(payload: str) -> dict:
    """A button payload as the Rasa server parses it (its regex message handler) with the bot's domain."""
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.training_data.message import Message

    parsed = YAMLStoryReader.unpack_regex_message(Message({"text": payload}), Domain.load(ROOT / "bot" / "domain.yml"))
    return {"text": payload, "intent": parsed.get("intent"), "entities": parsed.get("entities") or []}


def demo_entries() -> dict[str, dict]:
    return {e["id"]: e for e in map(json.loads, DEMO_KB.read_text().splitlines()) if e}
