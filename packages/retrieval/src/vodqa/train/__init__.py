"""Training the reader-retriever pair: the VOD objective and the reader-only baselines."""
