"""Generation metrics for 3D molecules: EDM stability and validity/uniqueness/novelty, PolyGraph Discrepancy.

Modules: `bonds` (EDM's distance table), `stability`, `validity`, `pgd`, `evaluate` (all at once).
"""
