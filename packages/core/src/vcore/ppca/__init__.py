"""Probabilistic PCA: closed-form ML (Tipping & Bishop 1999), variational Bayes with an exact ELBO for
Gaussian noise (Bishop 1999) and Student-t noise (Archambeau et al. 2006), and the choice of the noise
model and number of components by maximal ELBO (Chérief-Abdellatif 2019).

`vcore ppca-select data.csv --max-k K [--noise auto]` is the command line front end (`vcore.commands.ppca_select`);
`vcore.ppca.synthetic` makes test data (not imported here, so `python -m vcore.ppca.synthetic` runs cleanly).
"""

from vcore.ppca.csv_input import CsvMatrix, load_numeric_csv
from vcore.ppca.ml import MLPPCA, covariance_spectrum, fit_ml_ppca, max_log_likelihood
from vcore.ppca.robust_vb import RobustPosterior, RobustVBFit, fit_robust_vb_ppca
from vcore.ppca.select import (
    NOISE_CHOICES,
    ComponentResult,
    NoiseFit,
    Preprocessing,
    Selection,
    check_data,
    check_max_k,
    select_components,
    standardise,
)
from vcore.ppca.vb import PPCAPrior, VBFit, VBPosterior, elbo, fit_vb_ppca

__all__ = [
    "MLPPCA",
    "NOISE_CHOICES",
    "ComponentResult",
    "CsvMatrix",
    "NoiseFit",
    "PPCAPrior",
    "Preprocessing",
    "RobustPosterior",
    "RobustVBFit",
    "Selection",
    "VBFit",
    "VBPosterior",
    "check_data",
    "check_max_k",
    "covariance_spectrum",
    "elbo",
    "fit_ml_ppca",
    "fit_robust_vb_ppca",
    "fit_vb_ppca",
    "load_numeric_csv",
    "max_log_likelihood",
    "select_components",
    "standardise",
]
