"""Build a ready KnowledgeBase from a database URL and model settings."""

from __future__ import annotations

from database import create_db_engine, session_factory, upgrade
from knowledge_base.embedder import get_embedder
from knowledge_base.search.embedded import EmbeddedBackend
from knowledge_base.service import KnowledgeBase
from knowledge_base.store import EmbeddingCache, EntryStore


def build_knowledge_base(*, database_url: str, model_name: str, threshold: float,
                         load_index: bool = True, show_progress: bool = False) -> KnowledgeBase:
    """Migrate the database, load the embedding model (once per process) and index the stored entries."""
    upgrade(database_url)
    sessions = session_factory(create_db_engine(database_url))
    kb = KnowledgeBase(store=EntryStore(sessions), cache=EmbeddingCache(sessions, model_name),
                       embedder=get_embedder(model_name), backend=EmbeddedBackend(), threshold=threshold)
    if load_index:
        kb.load_index(show_progress=show_progress)
    return kb
