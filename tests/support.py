"""Helpers for the tests of every layer and of both environments (.venv and .venv-rasa): the standard library only."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port nothing listens on now, for servers started by the tests."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
