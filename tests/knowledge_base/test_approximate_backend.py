"""The search-backend conformance suite on the embedded backend with its approximate index (FAISS HNSW) in use
from the first entry, and the index's life: changes, removals, compaction, saving and loading."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.search import Filters, IndexedEntry
from knowledge_base.search.approximate import PhrasingIndex
from knowledge_base.search.embedded import EmbeddedBackend
from tests.knowledge_base.search_conformance import CORPUS, LIMIT, SearchBackendConformance, indexed


class TestApproximateBackendConformance(SearchBackendConformance):
    @pytest.fixture
    def backend(self) -> EmbeddedBackend:
        return EmbeddedBackend(approximate_from=0, exact_below=0)
