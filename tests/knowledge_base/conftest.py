"""Fixtures of the knowledge base tests beside those of tests/conftest.py."""

from __future__ import annotations

import pytest

from knowledge_base.embedder import DEFAULT_MODEL
from knowledge_base.factory import build_knowledge_base
from knowledge_base.service import KnowledgeBase
from tests.conftest import SMALL_ENTRIES


@pytest.fixture(scope="session")
def shared_small_kb(tmp_path_factory, embedder) -> KnowledgeBase:
    """SMALL_ENTRIES built once, like `small_kb`, for tests that only read: never modify it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('shared-kb')}/kb.db"
    kb = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, threshold=0.6)
    kb.import_entries(SMALL_ENTRIES)
    return kb
