"""Re-implementations of peer projects' code paths, for side-by-side benchmarks."""
