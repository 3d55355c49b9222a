"""A throwaway PostgreSQL server (Debian's postgresql), started for these tests and stopped after them.

These tests run every package on it (migrations, transcripts, cases, the knowledge base): they cut across the layers.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import PROJECT_ROOT
from tests.knowledge_base.conftest import embedder  # noqa: F401  (a fixture of these tests)
from tests.support import free_port

SETUP_SCRIPT = PROJECT_ROOT / "scripts" / "setup-postgres.sh"
SKIP_REASON = ("no PostgreSQL server on this machine, and scripts/setup-postgres.sh could not install it (it needs "
               "root and apt-get): the PostgreSQL tests did not run")


def postgres_bin() -> Path | None:
    """The newest installed server's bin folder (Debian keeps it out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


def as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """The URL of an empty database on a fresh server on a free port; the server is stopped afterwards."""
    bindir = postgres_bin()
    if bindir is None:
        subprocess.run(["bash", str(SETUP_SCRIPT)], check=False)
        bindir = postgres_bin()
    if bindir is None or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip(SKIP_REASON)
    data = Path(tempfile.mkdtemp(prefix="citydesk-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, user="postgres")
    port = free_port()
    subprocess.run(as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "citydesk", "--auth=trust",
                                   "--encoding=UTF8", "--no-sync"]), check=True, capture_output=True)
    subprocess.run(as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w",
                                   "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off",
                                   "start"]), check=True, capture_output=True)
    try:
        subprocess.run(as_server_user([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                                       "citydesk", "citydesk"]), check=True, capture_output=True)
        yield f"postgresql+psycopg://citydesk@127.0.0.1:{port}/citydesk"
    finally:
        subprocess.run(as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(data, ignore_errors=True)
