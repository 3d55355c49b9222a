"""A small classifier over the knowledge base's own phrasings, for entries that have many of them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from knowledge_base.search.protocol import IndexedEntry

# Trained only when entries have many phrasings (median at least this): with a handful per entry the
# phrasing vote already says all they can (measured: no gain on the demo knowledge base, 4 per entry).
MIN_MEDIAN_PHRASINGS = 8
# Inverse regularisation of the logistic regression, and its iteration budget.
REGULARISATION_C = 10.0
MAX_ITERATIONS = 1000


class EntryClassifier:
    """Multinomial logistic regression from a question's vector to the entry it asks for."""

    def __init__(self, entry_ids: Sequence[str], weights: np.ndarray, bias: np.ndarray) -> None:
        self.entry_ids = list(entry_ids)
        self._weights = np.ascontiguousarray(weights, dtype=np.float32)
        self._bias = bias.astype(np.float32)

    @classmethod
    def train(cls, items: Sequence[IndexedEntry]) -> EntryClassifier | None:
        """A classifier of these entries, or None when they are too few or have too few phrasings each."""
        if len(items) < 2 or np.median([len(i.vectors) for i in items]) < MIN_MEDIAN_PHRASINGS:
            return None
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        features = np.vstack([i.vectors for i in items])
        labels = np.repeat(np.arange(len(items)), [len(i.vectors) for i in items])
        # one thread: scikit-learn's OpenMP pool would otherwise spin beside PyTorch's after training
        with threadpool_limits(limits=1):
            model = LogisticRegression(C=REGULARISATION_C, max_iter=MAX_ITERATIONS).fit(features, labels)
        weights, bias = model.coef_, model.intercept_
        if len(items) == 2:  # a binary model has one row: the second class's logit against the first's zero
            weights, bias = np.vstack([np.zeros_like(weights), weights]), np.concatenate([[0.0], bias])
        return cls([i.entry.id for i in items], weights, bias)

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        """Each entry's probability of being the one asked for."""
        logits = self._weights @ vector.astype(np.float32) + self._bias
        exp = np.exp(logits - logits.max())
        return dict(zip(self.entry_ids, (exp / exp.sum()).tolist(), strict=True))
