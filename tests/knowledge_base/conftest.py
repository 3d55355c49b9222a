"""Knowledge base fixtures: the real embedding model (loaded once) and fresh knowledge bases on temporary SQLite files.

The folders of the layers above (tests/handoff, tests/postgresql) import the fixtures they use into their conftest.py.
"""

from __future__ import annotations

import pytest

from knowledge_base.embedder import DEFAULT_MODEL, get_embedder
from knowledge_base.entry import Entry
from knowledge_base.factory import build_knowledge_base
from knowledge_base.service import KnowledgeBase

SMALL_ENTRIES = [
    Entry(id="t-bulk", question="When is bulk trash pickup?",
          alt_questions=("how do I get rid of an old couch", "large item collection schedule"),
          answer="Bulk items are collected on the first Monday of each month.", department="Waste & Recycling",
          topic="Bulk pickup", category="Information", url="https://www.alderbrook.example/waste/bulk"),
    Entry(id="t-ticket", question="How do I pay a parking ticket?",
          alt_questions=("pay parking fine online", "where can I pay my parking citation"),
          answer="Pay online at the parking portal or in person at City Hall.", department="Parking Services",
          topic="Citations", category="Payment", url="https://www.alderbrook.example/parking/pay"),
    Entry(id="t-library", question="How do I get a library card?",
          alt_questions=("sign up for a library membership", "library card application"),
          answer="Bring photo ID and proof of address to any branch.", department="Public Library",
          topic="Membership", category="Information", language="en"),
    Entry(id="t-dog", question="Do I need a licence for my dog?",
          alt_questions=("dog license registration", "register my puppy with the city"),
          answer="Yes, every dog over four months needs a yearly licence.", department="Animal Services",
          topic="Dog licences", category="Permit", language="en"),
    Entry(id="t-perros", question="¿Necesito licencia para mi perro?",
          alt_questions=("registro de perros",),
          answer="Sí, todos los perros mayores de cuatro meses necesitan licencia anual.",
          department="Animal Services", topic="Dog licences", category="Permit", language="es"),
]


@pytest.fixture(scope="session")
def embedder():
    return get_embedder(DEFAULT_MODEL)


@pytest.fixture
def make_kb(tmp_path, embedder):
    """A factory of knowledge bases, each on its own fresh SQLite file."""
    counter = iter(range(1000))

    def make(entries=(), threshold: float = 0.6) -> KnowledgeBase:
        url = f"sqlite:///{tmp_path}/kb-{next(counter)}.db"
        kb = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, threshold=threshold)
        if entries:
            kb.import_entries(list(entries))
        return kb

    return make


@pytest.fixture
def small_kb(make_kb) -> KnowledgeBase:
    return make_kb(SMALL_ENTRIES)


@pytest.fixture(scope="session")
def shared_small_kb(tmp_path_factory, embedder) -> KnowledgeBase:
    """SMALL_ENTRIES built once, like `small_kb`, for tests that only read: never modify it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('shared-kb')}/kb.db"
    kb = build_knowledge_base(database_url=url, model_name=DEFAULT_MODEL, threshold=0.6)
    kb.import_entries(SMALL_ENTRIES)
    return kb
