"""The city's knowledge base: entries, embeddings, search backends, import and evaluation."""
