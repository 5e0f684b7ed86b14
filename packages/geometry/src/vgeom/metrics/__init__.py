"""Point-cloud metrics: Chamfer (`chamfer`), exact EMD (`emd`) and its pruned nearest-neighbour search
(`emd_nearest`), MMD/COV/1-NNA (`generation`), occupancy JSD (`jsd`), the evaluation normalisations
(`normalize`) and every metric for two sets (`evaluate`)."""
