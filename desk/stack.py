"""Start the desk, the action server and the Rasa server as real processes, wait until each is ready."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from dotenv import dotenv_values

from desk.bot_model import model_path
from desk.supervisor import Backoff, Supervisor, state_file_of
from settings import PROJECT_ROOT, Settings

COMPONENTS = ("desk", "actions", "rasa")


class StackError(RuntimeError):
    """A process did not start; the message ends with the tail of its log."""


@dataclass
class Process:
    name: str
    command: list[str]
    ready_url: str | None  # None (connectors): ready once started and still running
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)
    started_at: float | None = None  # wall clock of the last start

    @property
    def started(self) -> subprocess.Popen[bytes]:
        """The running process: `Stack.start` starts each one before anything waits on or watches it."""
        if self.popen is None:
            raise RuntimeError(f"{self.name} was not started")
        return self.popen


def child_environment(settings: Settings) -> dict[str, str]:
    """What every child process reads: the same settings, passed on as environment variables."""
    return {
        **{k: v for k, v in dotenv_values(PROJECT_ROOT / ".env").items() if v is not None},
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "CITYDESK_DATA_DIR": str(settings.data_dir.resolve()),
        # both names: DATABASE_URL, when the parent has one, would win over CITYDESK_DATABASE_URL in the children
        "DATABASE_URL": settings.resolved_database_url,
        "CITYDESK_DATABASE_URL": settings.resolved_database_url,
        "CITYDESK_HOST": settings.host,
        "CITYDESK_DESK_PORT": str(settings.desk_port),
        "CITYDESK_DESK_WORKERS": str(settings.desk_workers),
        "CITYDESK_RASA_PORT": str(settings.rasa_port),
        "CITYDESK_ACTION_PORT": str(settings.action_port),
        **({"CITYDESK_ANSWER_THRESHOLD": str(settings.answer_threshold)}
           if settings.answer_threshold is not None else {}),
        "CITYDESK_EMBEDDING_MODEL": settings.embedding_model,
        **({"CITYDESK_SEED_KB_FILE": str(settings.seed_kb_file.resolve())} if settings.seed_kb_file else {}),
        **({"CITYDESK_ACCOUNTS_FILE": str(settings.accounts_file.resolve())} if settings.accounts_file else {}),
        # read by the action server and by endpoints.yml
        "CITYDESK_DESK_URL": settings.desk_url,
        # the desk checks it; the CLI and connectors send it (not the action server: ACTION_SERVER_WITHHELD)
        "CITYDESK_INTERNAL_TOKEN": settings.resolved_internal_token,
        # Rasa sends it (endpoints.yml), the action server checks it
        "CITYDESK_ACTION_TOKEN": settings.resolved_action_token,
        # Rasa's Sanic reads SANIC_* at start: bodies above this are refused (413) before they are read
        "SANIC_REQUEST_MAX_SIZE": str(settings.rasa_max_body_bytes),
        "CITYDESK_ACTION_SERVER_URL": settings.action_server_url,
        "CITYDESK_RASA_TRACKER_URL": settings.rasa_tracker_url,
        "CITYDESK_RASA_TRACKER_DIALECT": settings.rasa_tracker_url.partition("://")[0].split("+")[0],
        **settings.rasa_lock_store,  # endpoints.yml's lock store: Redis from REDIS_URL, else in memory
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "PYTHONUNBUFFERED": "1",
        **_channel_secrets(settings),
    }


# What the action server must not hold: it calls the desk with each conversation's own token (in Rasa's metadata),
# so the desk's internal token, the other keys and the database stay with the processes that need them.
ACTION_SERVER_WITHHELD = ("CITYDESK_INTERNAL_TOKEN", "CITYDESK_SECRET_KEY", "CITYDESK_PSEUDONYM_KEY",
                          "CITYDESK_OPEN311_API_KEYS", "DATABASE_URL", "CITYDESK_DATABASE_URL",
                          "CITYDESK_RASA_TRACKER_URL", "ELASTICSEARCH_URL",
                          "REDIS_URL", "CITYDESK_REDIS_URL", "CITYDESK_RASA_LOCK_PASSWORD", "ELASTICSEARCH_API_KEY",
                          "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "X_BEARER_TOKEN", "X_API_KEY",
                          "X_API_SECRET", "X_ACCESS_TOKEN", "X_ACCESS_TOKEN_SECRET")


def environment_of(process: Process, env: dict[str, str], withheld: Collection[str] = ()) -> dict[str, str]:
    """The child environment as one process gets it: the action server without the secrets it does not need
    (ACTION_SERVER_WITHHELD and `withheld`: the variables the accounts file names for its credentials)."""
    if process.name != "actions":
        return env
    return {k: v for k, v in env.items() if k not in ACTION_SERVER_WITHHELD and k not in withheld}


def account_secrets(settings: Settings) -> set[str]:
    """The environment variables holding the accounts' credentials (the accounts file names them)."""
    from accounts import load_accounts

    return {env for account in load_accounts(settings) for env in account.credential_env.values()}


def _channel_secrets(settings: Settings) -> dict[str, str]:
    """Connector settings given to Settings directly (not through the environment) reach the connectors too."""
    values = {"TELEGRAM_BOT_TOKEN": settings.telegram_bot_token, "TELEGRAM_BASE_URL": settings.telegram_base_url,
              "TELEGRAM_WEBHOOK_URL": settings.telegram_webhook_url,
              "TELEGRAM_WEBHOOK_SECRET": settings.telegram_webhook_secret,
              "X_BEARER_TOKEN": settings.x_bearer_token, "X_API_KEY": settings.x_api_key,
              "X_API_SECRET": settings.x_api_secret, "X_ACCESS_TOKEN": settings.x_access_token,
              "X_ACCESS_TOKEN_SECRET": settings.x_access_token_secret, "X_BASE_URL": settings.x_base_url,
              "X_ACCOUNT_ID": settings.x_account_id}
    return {k: v.get_secret_value() if hasattr(v, "get_secret_value") else str(v)
            for k, v in values.items() if v is not None}


def plan(settings: Settings, components: Sequence[str] = COMPONENTS, connectors: Sequence[str] = ()) -> list[Process]:
    logs = settings.data_dir / "logs"
    # Rasa's own command line, started in 0.74x the CPU time and with a faster message path (bot/rasa_server.py)
    rasa = [str(settings.rasa_venv / "bin" / "python"), "-m", "bot.rasa_server"]
    everything = {
        "desk": Process("desk", [sys.executable, "-m", "desk"], f"{settings.desk_url}/health",
                        logs / "desk.log"),
        # our entry module: rasa_sdk's `rasa run actions` binds 0.0.0.0 and checks no secret
        "actions": Process("actions", [str(settings.rasa_venv / "bin" / "python"), "-m", "bot.actions.server",
                                       "--host", settings.host, "--port", str(settings.action_port)],
                           f"http://{settings.host}:{settings.action_port}/health", logs / "actions.log"),
        "rasa": Process("rasa", [*rasa, "run", "--model", str(model_path(settings)),
                                 "--endpoints", "endpoints.yml", "--credentials", "credentials.yml",
                                 "--interface", settings.host, "--port", str(settings.rasa_port)],
                        f"{settings.rasa_url}/webhooks/rest/", logs / "rasa.log"),
    }
    for name in connectors:
        everything[name] = Process(name, [sys.executable, "-m", "desk.cli", "connector", name], None,
                                   logs / f"connector-{name}.log")
    return [everything[name] for name in (*components, *connectors)]


class Stack:
    """The running processes; a context manager that stops them all on exit."""

    def __init__(self, settings: Settings, components: Sequence[str] = COMPONENTS,
                 connectors: Sequence[str] | None = None) -> None:
        """connectors: None starts each connector whose token is set (see `skipped` for the others)."""
        from connectors.registry import plan_connectors

        self.settings = settings
        started, self.skipped = plan_connectors(settings) if connectors is None else (list(connectors), {})
        self.processes = plan(settings, components, started)
        self._env: dict[str, str] = {}
        self._withheld = account_secrets(settings)  # from the action server, with ACTION_SERVER_WITHHELD

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if any(p.name == "rasa" for p in self.processes) and not model_path(self.settings).exists():
            raise StackError(f"no trained model at {model_path(self.settings)}: run `citydesk bot train`")
        self._env = child_environment(self.settings)
        # connectors start once the desk has migrated the database
        core = [p for p in self.processes if p.ready_url is not None]
        try:
            for group in (core, [p for p in self.processes if p.ready_url is None]):
                for process in group:
                    self.spawn(process)
                self._wait_until_ready(group)
        except BaseException:
            self.stop()
            raise

    def spawn(self, process: Process) -> None:
        """Start (or restart) one process in its own process group, appending to its log."""
        if process.log_file is not None:
            process.log_file.close()
        process.log_path.parent.mkdir(parents=True, exist_ok=True)
        process.log_file = process.log_path.open("ab")
        process.popen = subprocess.Popen(process.command, cwd=PROJECT_ROOT,
                                         env=environment_of(process, self._env, self._withheld),
                                         stdout=process.log_file, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        process.started_at = time.time()

    def supervisor(self, *, backoff: Backoff | None = None, report: Callable[[str], None] = print) -> Supervisor:
        """Watches the started processes and restarts any that exits (desk/supervisor.py); keeps var/run/stack.json."""
        return Supervisor(self.processes, self.spawn, state_file=state_file_of(self.settings.data_dir),
                          backoff=backoff or Backoff(), report=report)

    def _wait_until_ready(self, processes: Sequence[Process]) -> None:
        deadline = time.monotonic() + self.settings.startup_timeout_s
        waiting = list(processes)
        with httpx.Client(timeout=2.0) as client:
            while waiting:
                for process in list(waiting):
                    if process.started.poll() is not None:
                        raise StackError(f"{process.name} exited with status {process.started.returncode}"
                                         f"\n{tail(process.log_path)}")
                    if process.ready_url is None:
                        waiting.remove(process)
                        continue
                    try:
                        if client.get(process.ready_url).status_code == 200:
                            waiting.remove(process)
                    except httpx.HTTPError:
                        pass
                if waiting and time.monotonic() > deadline:
                    names = ", ".join(p.name for p in waiting)
                    raise StackError(f"not ready after {self.settings.startup_timeout_s:.0f} s: {names}"
                                     f"\n{tail(waiting[0].log_path)}")
                if waiting:
                    time.sleep(0.5)

    def stop(self) -> None:
        """SIGTERM to every process group (a process and what it started), SIGKILL to those still there after 15 s."""
        for process in self.processes:
            if process.popen:
                with contextlib.suppress(ProcessLookupError):  # its group may outlive it
                    os.killpg(process.popen.pid, signal.SIGTERM)
        for process in self.processes:
            if process.popen:
                try:
                    process.popen.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.popen.pid, signal.SIGKILL)
                    process.popen.wait()
            if process.log_file:
                process.log_file.close()
                process.log_file = None


def free_port() -> int:
    """A TCP port nothing listens on now, for stacks started by tests and benchmarks."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
