"""The search-backend conformance suite on the embedded backend (NumPy + SQLite FTS5)."""

from __future__ import annotations

import pytest

from knowledge_base.search.embedded import EmbeddedBackend
from tests.knowledge_base.search_conformance import SearchBackendConformance


class TestEmbeddedBackendConformance(SearchBackendConformance):
    @pytest.fixture
    def backend(self) -> EmbeddedBackend:
        return EmbeddedBackend()
