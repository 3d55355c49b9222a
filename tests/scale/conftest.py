"""Throwaway servers for the scale-out tests: a real Redis (Debian's redis-server) on a free port in a temporary
folder, stopped afterwards; the PostgreSQL server of tests/postgresql."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import PROJECT_ROOT
from tests.postgresql.conftest import postgresql_url  # noqa: F401  (a fixture of these tests)
from tests.support import free_port

SETUP_SCRIPT = PROJECT_ROOT / "scripts" / "setup-services.sh"
REDIS_SKIP_REASON = ("no redis-server on this machine, and scripts/setup-services.sh could not install it (it needs "
                     "root and apt-get): the Redis tests did not run")


def redis_command(port: int, *words: str) -> str:
    """One command to the Redis server on 127.0.0.1:port, its reply as text (RESP, read to the end of the reply)."""
    request = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request.encode())
        data = s.recv(65536)
        if data.startswith(b"$"):  # a bulk string: its length, then the bytes
            header, _, body = data.partition(b"\r\n")
            while len(body) < int(header[1:]):
                body += s.recv(65536)
            return body[:int(header[1:])].decode()
        return data.decode().strip()


def command_calls(port: int, command: str) -> int:
    """How often the server has run a command (INFO commandstats), 0 if never."""
    for line in redis_command(port, "INFO", "commandstats").splitlines():
        if line.startswith(f"cmdstat_{command}:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """redis://127.0.0.1:<port>/1 of a fresh redis-server (no persistence, loopback only), stopped afterwards."""
    if shutil.which("redis-server") is None:
        subprocess.run(["bash", str(SETUP_SCRIPT)], check=False)
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(REDIS_SKIP_REASON)
    folder = Path(tempfile.mkdtemp(prefix="citydesk-redis-"))
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                               "--save", "", "--appendonly", "no", "--protected-mode", "yes",
                               "--logfile", str(folder / "redis.log")])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if redis_command(port, "PING") == "+PONG":
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {(folder / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/1"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(postgresql_url: str) -> str:  # noqa: F811  (the fixture's value, not the fixture)
    """A new empty database on the test server (the other PostgreSQL tests keep theirs): its desk URL."""
    import uuid

    import psycopg

    name = f"citydesk_{uuid.uuid4().hex[:12]}"
    server, _, _ = postgresql_url.removeprefix("postgresql+psycopg://").rpartition("/")
    with psycopg.connect(f"postgresql://{server}/citydesk", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://{server}/{name}"
