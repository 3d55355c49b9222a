"""Which service category a message describes, by similarity to each category's examples."""

from __future__ import annotations

import numpy as np

from handoff.directory import Category, Directory
from knowledge_base.embedder import Embedder

MIN_SIMILARITY = 0.45


class CategoryClassifier:
    """Embeds every category's name and examples once; classifies by the best-matching example."""

    def __init__(self, directory: Directory, embedder: Embedder, min_similarity: float = MIN_SIMILARITY) -> None:
        self._embedder = embedder
        self._min_similarity = min_similarity
        self._categories = list(directory.categories)
        texts, owners = [], []
        for index, category in enumerate(self._categories):
            for text in (category.name, *category.examples):
                texts.append(text)
                owners.append(index)
        self._owners = np.array(owners, dtype=np.int64)
        self._vectors = embedder.embed(texts) if texts else np.zeros((0, embedder.dimension), dtype=np.float32)

    def classify(self, text: str, *, vector: np.ndarray | None = None) -> tuple[Category | None, float]:
        """The category and its similarity, or (None, best similarity) below the minimum.

        `vector`: the text's embedding when the caller has it already (the knowledge base search made it).
        """
        if not self._categories or not text.strip():
            return None, 0.0
        similarities = self._vectors @ (self._embedder.embed_one(text) if vector is None else vector)
        best = int(np.argmax(similarities))
        score = float(similarities[best])
        return (self._categories[self._owners[best]] if score >= self._min_similarity else None), score
