"""Build a ready KnowledgeBase from a database URL and model settings."""

from __future__ import annotations

from database import create_db_engine, session_factory, upgrade
from knowledge_base.embedder import get_embedder
from knowledge_base.search.embedded import EmbeddedBackend
from knowledge_base.service import DEFAULT_TARGET_PRECISION, DEFAULT_UNANSWERABLE_SHARE, KnowledgeBase
from knowledge_base.store import CalibrationStore, EmbeddingCache, EntryStore


def build_knowledge_base(*, database_url: str, model_name: str, threshold: float | None = None,
                         target_precision: float = DEFAULT_TARGET_PRECISION,
                         unanswerable_share: float = DEFAULT_UNANSWERABLE_SHARE,
                         load_index: bool = True, show_progress: bool = False) -> KnowledgeBase:
    """Migrate the database, load the embedding model (once per process) and index the stored entries.

    `threshold` None: the threshold calibrated on the entries for `target_precision` (recalibrated when they
    change); a number: that threshold, always.
    """
    upgrade(database_url)
    sessions = session_factory(create_db_engine(database_url))
    kb = KnowledgeBase(store=EntryStore(sessions), cache=EmbeddingCache(sessions, model_name),
                       embedder=get_embedder(model_name), backend=EmbeddedBackend(),
                       calibrations=CalibrationStore(sessions, model_name), threshold=threshold,
                       target_precision=target_precision, unanswerable_share=unanswerable_share)
    if load_index:
        kb.load_index(show_progress=show_progress)
    return kb
