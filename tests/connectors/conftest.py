"""Connector fixtures beside those of tests/conftest.py (the migrated SQLite file): a local Rasa REST server."""

from __future__ import annotations

import pytest

from tests.fakes.rasa_rest import FakeRasa


@pytest.fixture
def rasa():
    fake = FakeRasa().start()
    yield fake
    fake.stop()
