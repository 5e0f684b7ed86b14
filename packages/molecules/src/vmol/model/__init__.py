"""EDM (Hoogeboom et al. 2022): the EGNN noise predictor, the diffusion model and its batching."""

from vmol.model.batch import MoleculeDataset, batch_to_molecules, check_types, molecules_to_batch
from vmol.model.edm import EDM, EDMConfig, com_free_noise
from vmol.model.egnn import EGNNDynamics, remove_mean

__all__ = [
    "EDM",
    "EDMConfig",
    "EGNNDynamics",
    "MoleculeDataset",
    "batch_to_molecules",
    "check_types",
    "com_free_noise",
    "molecules_to_batch",
    "remove_mean",
]
