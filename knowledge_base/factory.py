"""Build a ready KnowledgeBase from a database URL and model settings."""

from __future__ import annotations

from pathlib import Path

from database import create_db_engine, session_factory, upgrade
from knowledge_base.calibration import DEFAULT_CONFIRM_PRECISION
from knowledge_base.embedder import get_embedder
from knowledge_base.search import SearchBackend
from knowledge_base.search.elasticsearch import DEFAULT_INDEX, ElasticsearchBackend
from knowledge_base.search.embedded import EmbeddedBackend
from knowledge_base.service import DEFAULT_TARGET_PRECISION, DEFAULT_UNANSWERABLE_SHARE, KnowledgeBase
from knowledge_base.store import CalibrationStore, EmbeddingCache, EntryStore
from settings import Settings


def build_knowledge_base(*, database_url: str, model_name: str, threshold: float | None = None,
                         target_precision: float = DEFAULT_TARGET_PRECISION,
                         unanswerable_share: float = DEFAULT_UNANSWERABLE_SHARE,
                         confirm_threshold: float | None = None,
                         confirm_precision: float = DEFAULT_CONFIRM_PRECISION,
                         recalibration_interval_s: float = 0.0,
                         load_index: bool = True, show_progress: bool = False,
                         elasticsearch_url: str | None = None, elasticsearch_api_key: str | None = None,
                         elasticsearch_index: str = DEFAULT_INDEX,
                         approximate_from: int | None = None, index_file: Path | None = None,
                         lexical_from: int | None = None) -> KnowledgeBase:
    """Migrate the database, load the embedding model (once per process) and index the stored entries.

    `threshold` None: the threshold calibrated on the entries for `target_precision` (recalibrated when they
    change); a number: that threshold, always. `confirm_threshold` likewise for the confirm band, calibrated for
    `confirm_precision` (knowledge_base/bands.py). `elasticsearch_url` set: search on that cluster's
    `elasticsearch_index`; unset: the embedded search, through an approximate index from `approximate_from`
    entries on (None: always exact) saved in `index_file` (None: in memory only), and BM25 from an inverted index in
    memory from `lexical_from` entries on (None: always SQLite FTS5; the same scores).
    """
    upgrade(database_url)
    sessions = session_factory(create_db_engine(database_url))
    kb = KnowledgeBase(store=EntryStore(sessions), cache=EmbeddingCache(sessions, model_name),
                       embedder=get_embedder(model_name),
                       backend=search_backend(elasticsearch_url, api_key=elasticsearch_api_key,
                                              index=elasticsearch_index, approximate_from=approximate_from,
                                              index_file=index_file, lexical_from=lexical_from),
                       calibrations=CalibrationStore(sessions, model_name), threshold=threshold,
                       target_precision=target_precision, unanswerable_share=unanswerable_share,
                       confirm_threshold=confirm_threshold, confirm_precision=confirm_precision,
                       recalibration_interval_s=recalibration_interval_s)
    if load_index:
        kb.load_index(show_progress=show_progress)
    return kb


def knowledge_base_for(settings: Settings, *, load_index: bool = True, show_progress: bool = False,
                       recalibration_interval_s: float = 0.0) -> KnowledgeBase:
    """The knowledge base as these settings configure it: the one place that reads the knowledge base settings."""
    search = settings.elasticsearch_options
    return build_knowledge_base(database_url=settings.resolved_database_url, model_name=settings.embedding_model,
                                threshold=settings.answer_threshold, target_precision=settings.target_precision,
                                unanswerable_share=settings.unanswerable_share,
                                confirm_threshold=settings.confirm_threshold,
                                confirm_precision=settings.confirm_precision,
                                recalibration_interval_s=recalibration_interval_s, load_index=load_index,
                                show_progress=show_progress, elasticsearch_url=search["elasticsearch_url"],
                                elasticsearch_api_key=search["elasticsearch_api_key"],
                                elasticsearch_index=search["elasticsearch_index"],
                                approximate_from=settings.search_approximate_from or None,
                                index_file=settings.search_index_file,
                                lexical_from=settings.search_lexical_from or None)


def search_backend(elasticsearch_url: str | None, *, api_key: str | None = None, index: str = DEFAULT_INDEX,
                   approximate_from: int | None = None, index_file: Path | None = None,
                   lexical_from: int | None = None) -> SearchBackend:
    """Elasticsearch when its URL is set, else the embedded backend: the URL alone decides."""
    if not elasticsearch_url:
        return EmbeddedBackend(approximate_from=approximate_from, index_file=index_file, lexical_from=lexical_from)
    return ElasticsearchBackend.connect(elasticsearch_url, api_key=api_key, index=index)
