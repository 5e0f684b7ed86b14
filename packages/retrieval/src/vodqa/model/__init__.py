"""The VOD reader-retriever pair: a MiniLM bi-encoder retriever and a MiniLM cross-encoder reader."""
