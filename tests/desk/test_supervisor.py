"""The supervisor `citydesk serve` runs: tiny dummy children, killed or exiting at once; a few seconds in all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from desk.cli import app
from desk.supervisor import Backoff, Supervisor, read_status, state_file_of
from settings import PROJECT_ROOT

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
FAILER = [sys.executable, "-c", "raise SystemExit(3)"]


@dataclass
class Dummy:
    name: str
    command: list[str]
    popen: subprocess.Popen[bytes] | None = None


def spawn(child: Dummy) -> None:
    child.popen = subprocess.Popen(child.command, start_new_session=True)


@pytest.fixture
def children():
    started: list[Dummy] = []
    yield started
    for child in started:
        if child.popen and child.popen.poll() is None:
            os.killpg(child.popen.pid, signal.SIGKILL)
            child.popen.wait()


def start(children: list[Dummy], *commands: tuple[str, list[str]]) -> list[Dummy]:
    for name, command in commands:
        child = Dummy(name, command)
        spawn(child)
        children.append(child)
    return children


def wait_until(condition, supervisor: Supervisor, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the supervisor did not get there in time"
        supervisor.poll()
        time.sleep(0.02)


def test_a_killed_child_is_restarted_logged_and_the_others_keep_running(children, tmp_path):
    killed, other = start(children, ("rasa", SLEEPER), ("desk", SLEEPER))
    first_pid, other_pid = killed.popen.pid, other.popen.pid
    events: list[str] = []
    supervisor = Supervisor(children, spawn, state_file=state_file_of(tmp_path), report=events.append,
                            backoff=Backoff(base_s=0.1, cap_s=1.0, reset_after_s=60))
    os.kill(first_pid, signal.SIGKILL)
    wait_until(lambda: killed.popen.pid != first_pid, supervisor)

    assert killed.popen.poll() is None
    assert other.popen.pid == other_pid and other.popen.poll() is None
    assert events[0].startswith(f"rasa (pid {first_pid}) exited with status -9")
    assert events[1] == f"rasa restarted (pid {killed.popen.pid}, restart 1)"
    shown = {p["name"]: p for p in read_status(tmp_path)["processes"]}
    assert shown["rasa"]["pid"] == killed.popen.pid and shown["rasa"]["restarts"] == 1
    assert shown["rasa"]["state"] == "running" and shown["rasa"]["last_exit"] == -9
    assert shown["desk"]["pid"] == other_pid and shown["desk"]["restarts"] == 0


def test_restarts_back_off_exponentially_up_to_the_cap_and_start_afresh_after_staying_up(children):
    now = [0.0]
    (child,) = start(children, ("actions", FAILER))
    events: list[str] = []
    supervisor = Supervisor(children, spawn, report=events.append, clock=lambda: now[0],
                            backoff=Backoff(base_s=1.0, cap_s=4.0, reset_after_s=10.0))
    waits = []
    for _ in range(4):
        child.popen.wait()
        supervisor.poll()  # notices the exit, schedules the restart (the first: at once, in the same poll)
        watch = supervisor.watches[0]
        if not waits:
            assert watch.state == "running" and "restarting in 0 s" in events[-2], events
            waits.append(0.0)
            continue
        assert watch.state == "backoff"
        waits.append(watch.restart_at - now[0])
        now[0] = watch.restart_at - 0.01
        supervisor.poll()
        assert watch.state == "backoff", "restarted before its wait was over"
        now[0] += 0.01
        supervisor.poll()
        assert watch.state == "running"
    assert waits == [0.0, 1.0, 2.0, 4.0]  # a first crash is restarted at once
    assert supervisor.watches[0].restarts == 4
    assert "exited with status 3" in events[0]

    child.command = SLEEPER  # the cause is fixed: the next start stays up
    child.popen.wait()
    supervisor.poll()
    now[0] = supervisor.watches[0].restart_at
    supervisor.poll()
    now[0] += 10.0
    supervisor.poll()  # up for reset_after_s: forgiven
    os.kill(child.popen.pid, signal.SIGKILL)
    child.popen.wait()
    supervisor.poll()
    assert supervisor.watches[0].state == "running" and supervisor.watches[0].restarts == 6  # at once again


def test_status_says_when_nothing_runs_and_shows_a_running_stack(children, tmp_path, runner):
    result = runner.invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "CityDesk is not running" in result.output

    start(children, ("desk", SLEEPER))
    supervisor = Supervisor(children, spawn, state_file=state_file_of(tmp_path), report=lambda _: None)
    result = runner.invoke(app, ["status", "--data-dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output.strip().splitlines()[-1])
    (desk,) = state["processes"]
    assert desk["name"] == "desk" and desk["pid"] == children[0].popen.pid and desk["state"] == "running"
    assert desk["restarts"] == 0 and desk["uptime_s"] >= 0
    assert "desk" in result.output and "running" in result.output

    supervisor.stopped()
    result = runner.invoke(app, ["status", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "not running" in result.output


def test_env_prints_what_serve_gives_its_processes_for_systemd(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("SOMETHING_OF_THIS_SHELL", "1")
    result = runner.invoke(app, ["env", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    variables = dict(line.split("=", 1) for line in result.output.strip().splitlines())
    assert variables["CITYDESK_DATA_DIR"] == str(tmp_path.resolve())
    assert variables["CITYDESK_INTERNAL_TOKEN"] == (tmp_path / "internal_token").read_text().strip()
    assert variables["CITYDESK_ACTION_SERVER_URL"].endswith("/webhook")
    assert "SOMETHING_OF_THIS_SHELL" not in variables and "PATH" not in variables


def test_the_systemd_units_restart_every_process_serve_starts():
    units = PROJECT_ROOT / "deploy" / "systemd"
    target = (units / "citydesk.target").read_text()
    for name in ("desk", "actions", "rasa", "connector@"):
        unit = (units / f"citydesk-{name}.service").read_text()
        assert "Restart=always" in unit and "StartLimitIntervalSec=0" in unit and "PartOf=citydesk.target" in unit
        assert "EnvironmentFile=/etc/citydesk/stack.env" in unit
        if not name.endswith("@"):
            assert f"citydesk-{name}.service" in target
    assert "-m desk\n" in (units / "citydesk-desk.service").read_text()
    assert "-m desk.cli connector %i" in (units / "citydesk-connector@.service").read_text()


def test_the_action_server_unit_runs_our_entry_module_without_the_secrets_serve_withholds():
    from desk.stack import ACTION_SERVER_WITHHELD

    unit = (PROJECT_ROOT / "deploy" / "systemd" / "citydesk-actions.service").read_text()
    assert "-m bot.actions.server --host ${CITYDESK_HOST}" in unit
    unset = {name for line in unit.splitlines() if line.startswith("UnsetEnvironment=")
             for name in line.removeprefix("UnsetEnvironment=").split()}
    assert set(ACTION_SERVER_WITHHELD) <= unset
