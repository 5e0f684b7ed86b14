"""Side-by-side benchmarks of vbound against its peers (`make bench`): ratios measured in one run, JSON out."""
