"""A desk app on a fresh data folder with the demo knowledge base, served in-process; a desk whose Rasa is a local
stand-in (`rasa`, `desk_without_rasa`); the internal API's token; the `citydesk` CLI run in-process on a fresh data
folder, and its output as plain text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from desk.app import create_app
from settings import DEMO_KB_FILE, Settings
from tests.fakes.rasa_rest import FakeRasa
from tests.support import free_port


@pytest.fixture(scope="module")
def desk_settings(tmp_path_factory) -> Settings:
    # Rasa's port points at nothing listening: the chat endpoint must say so clearly.
    return Settings(data_dir=tmp_path_factory.mktemp("desk"), seed_kb_file=DEMO_KB_FILE, rasa_port=free_port())


@pytest.fixture(scope="module")
def client(desk_settings):
    with TestClient(create_app(desk_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def rasa() -> Iterator[FakeRasa]:
    """A local stand-in of Rasa's REST channel (tests/fakes/rasa_rest.py), for the module's tests."""
    fake = FakeRasa().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def desk_without_rasa(tmp_path_factory, rasa) -> Settings:
    """A desk's settings on a fresh data folder with the demo knowledge base, whose Rasa is the stand-in `rasa` (an
    outage: `rasa.down = True`), on a free port of its own (tests that serve it over HTTP)."""
    return Settings(data_dir=tmp_path_factory.mktemp("desk-without-rasa"), seed_kb_file=DEMO_KB_FILE,
                    rasa_port=int(rasa.url.rsplit(":", 1)[1]), desk_port=free_port())


@pytest.fixture
def internal(client, desk_settings) -> dict[str, str]:
    """The headers of a call to the internal API (the Rasa actions' token)."""
    return {"Authorization": f"Bearer {desk_settings.resolved_internal_token}"}


@pytest.fixture
def runner(tmp_path, monkeypatch) -> CliRunner:
    """typer's runner for `citydesk`; the data folder is tmp_path/data (CITYDESK_DATA_DIR), its database the default."""
    monkeypatch.setenv("CITYDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CITYDESK_DATABASE_URL", raising=False)
    return CliRunner()


def flat(output: str) -> str:
    """Rich wraps long lines to the terminal's width; compare text with single spaces."""
    return " ".join(output.split())
