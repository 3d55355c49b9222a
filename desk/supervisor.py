"""Keep the stack's processes alive: restart one that exits, with capped exponential backoff, and say so.

`citydesk serve` runs `Supervisor.run` after `Stack.start`; `citydesk status` reads the state file it keeps
(`<data dir>/run/stack.json`, rewritten on every change). The supervisor only watches and restarts: starting a
process (command, environment, log file, its own process group) is `spawn`'s job, stopping them all is the caller's.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol


class Child(Protocol):
    """What the supervisor needs of a process (desk.stack.Process is one)."""

    name: str
    popen: subprocess.Popen[bytes] | None


@dataclass(frozen=True)
class Backoff:
    """Restart after first_s (at once) the first time, then wait base_s, doubling up to cap_s; a process up for
    reset_after_s starts afresh. A one-off crash costs no wait (a kill, an out-of-memory): the backoff is for a
    process that keeps failing."""

    first_s: float = 0.0
    base_s: float = 1.0
    cap_s: float = 30.0
    reset_after_s: float = 60.0

    def delay(self, failures: int) -> float:
        """The wait before restarting a process that has now exited `failures` times in a row (1, 2, ...)."""
        if failures <= 1:
            return self.first_s
        return min(self.cap_s, self.base_s * 2 ** (failures - 2))


@dataclass
class Watch:
    """The supervisor's view of one child."""

    child: Child
    state: str = "running"  # running · backoff (exited, restart scheduled) · stopped
    started_at: float = field(default_factory=time.time)  # wall clock, for `status`
    up_since: float = field(default_factory=time.monotonic)
    restarts: int = 0
    failures: int = 0  # consecutive exits without staying up reset_after_s
    restart_at: float | None = None
    last_exit: int | None = None


class Supervisor:
    """Restarts children that exit; `report` gets one line per event (the console and the supervisor log)."""

    def __init__(self, children: Sequence[Child], spawn: Callable[[Any], None], *, state_file: Path | None = None,
                 backoff: Backoff = Backoff(), report: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.watches = [Watch(child) for child in children]
        self.spawn = spawn
        self.state_file = state_file
        self.backoff = backoff
        self.report = report
        self.clock = clock
        self.stopping = False
        for watch in self.watches:
            started_at = getattr(watch.child, "started_at", None)  # the first start, before supervision began
            if started_at is not None:
                watch.started_at = started_at
            watch.up_since = clock() - (time.time() - watch.started_at)
        self.write_state()

    def poll(self) -> None:
        """One look at every child: notice exits, restart those whose wait is over, forgive those up long enough."""
        now = self.clock()
        changed = False
        for watch in self.watches:
            popen = watch.child.popen
            if watch.state == "running" and popen is not None:
                status = popen.poll()
                if status is None:
                    if watch.failures and now - watch.up_since >= self.backoff.reset_after_s:
                        watch.failures = 0
                    continue
                watch.failures += 1
                watch.last_exit = status
                delay = self.backoff.delay(watch.failures)
                watch.state, watch.restart_at = "backoff", now + delay
                self.report(f"{watch.child.name} (pid {popen.pid}) exited with status {status} after "
                            f"{now - watch.up_since:.0f} s; restarting in {delay:.0f} s")
                changed = True
            if watch.state == "backoff" and watch.restart_at is not None and now >= watch.restart_at:
                try:
                    self.spawn(watch.child)
                except OSError as error:
                    watch.failures += 1
                    delay = self.backoff.delay(watch.failures)
                    watch.restart_at = now + delay
                    self.report(f"{watch.child.name} could not be started ({error}); trying again in {delay:.0f} s")
                    continue
                watch.state, watch.restart_at = "running", None
                watch.restarts += 1
                watch.up_since, watch.started_at = now, time.time()
                pid = watch.child.popen.pid if watch.child.popen else None
                self.report(f"{watch.child.name} restarted (pid {pid}, restart {watch.restarts})")
                changed = True
        if changed:
            self.write_state()

    def run(self, interval_s: float = 0.2, until: Callable[[], bool] = lambda: False) -> None:
        """Poll until `until()` is true (or forever: the caller stops on Ctrl+C or SIGTERM)."""
        while not self.stopping and not until():
            self.poll()
            time.sleep(interval_s)

    def stopped(self) -> None:
        """The caller stopped every child: say so in the state file."""
        self.stopping = True
        for watch in self.watches:
            watch.state = "stopped"
        self.write_state(running=False)

    def state(self, *, running: bool = True) -> dict[str, Any]:
        return {"supervisor_pid": os.getpid(), "running": running,
                "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "processes": [{"name": w.child.name,
                               "pid": w.child.popen.pid if w.child.popen and w.state == "running" else None,
                               "state": w.state, "started_at": w.started_at, "restarts": w.restarts,
                               "last_exit": w.last_exit} for w in self.watches]}

    def write_state(self, *, running: bool = True) -> None:
        """Atomically: `status` never reads half a file."""
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_file.with_suffix(".tmp")
        partial.write_text(json.dumps(self.state(running=running), indent=1))
        os.replace(partial, self.state_file)


def state_file_of(data_dir: Path) -> Path:
    return data_dir / "run" / "stack.json"


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_status(data_dir: Path, now: float | None = None) -> dict[str, Any] | None:
    """What `citydesk status` shows: the state file checked against the live pids; None when nothing runs."""
    path = state_file_of(data_dir)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not state.get("running") or not pid_alive(state.get("supervisor_pid")):
        return None
    now = time.time() if now is None else now
    for process in state["processes"]:
        if process["state"] == "running" and not pid_alive(process["pid"]):
            process["state"] = "exited"  # noticed by the supervisor at its next poll
        process["uptime_s"] = round(now - process["started_at"]) if process["state"] == "running" else None
    return state
