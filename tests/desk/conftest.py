"""A desk app on a fresh data folder with the demo knowledge base, served in-process."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from desk.app import create_app
from desk.stack import free_port
from settings import DEMO_KB_FILE, Settings


@pytest.fixture(scope="module")
def desk_settings(tmp_path_factory) -> Settings:
    # Rasa's port points at nothing listening: the chat endpoint must say so clearly.
    return Settings(data_dir=tmp_path_factory.mktemp("desk"), seed_kb_file=DEMO_KB_FILE, rasa_port=free_port())


@pytest.fixture(scope="module")
def client(desk_settings):
    with TestClient(create_app(desk_settings)) as test_client:
        yield test_client
