"""The whole assistant as real processes, on the demo knowledge base, free ports and a fresh data folder."""

from __future__ import annotations

import pytest

from desk.bot_model import ensure_trained
from desk.stack import Stack
from settings import DEMO_KB_FILE, Settings
from tests.support import free_port


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One stack per test module; its internal token is generated into its data folder."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("stack"), seed_kb_file=DEMO_KB_FILE, internal_token=None,
                        desk_port=free_port(), rasa_port=free_port(), action_port=free_port())
    ensure_trained(settings)
    with Stack(settings, connectors=()) as running:  # never a connector to a real platform from .env
        yield running
