"""Search backends behind one protocol: embedded (NumPy + SQLite FTS5) and Elasticsearch 8."""

from knowledge_base.search.protocol import Candidate, Filters, IndexedEntry, SearchBackend, SearchHit

__all__ = ["Candidate", "Filters", "IndexedEntry", "SearchBackend", "SearchHit"]
