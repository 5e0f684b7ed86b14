r"""PolyGraph Discrepancy (PGD): a classifier-based lower bound on the Jensen-Shannon distance.

Krimmel, Hartout, Borgwardt et al. 2025, "PolyGraph Discrepancy: a classifier-based metric for graph
generation"; reference implementation BorgwardtLab/polygraph-benchmark (`polygraph/metrics/base/
polygraphdiscrepancy.py`, molecule descriptors in `polygraph/utils/descriptors/molecule_descriptors.py`).

For reference molecules R ~ P and generated molecules G ~ Q (equal numbers, the larger set subsampled) and a
descriptor phi, a binary classifier D(x) ~ Pr[x from R] gives the variational bound (in bits)

    JS(P, Q) >= 1 + 1/2 E_{x~P}[log2 D(x)] + 1/2 E_{x~Q}[log2(1 - D(x))],

which holds for every D, so its value on held-out molecules estimates a lower bound. As in the paper's
code: each set is split in halves; the classifier is fitted on the first halves (features standardised on
them) and scored on the second halves; the bound is clipped to [0, 1] and its square root taken, a lower
bound on the Jensen-Shannon *distance* in [0, 1] (0: indistinguishable, 1: disjoint). A 4-fold stratified
cross-validation on the first halves scores every descriptor; PGD is the held-out value of the descriptor
with the best cross-validated value (the "tightest" bound, chosen without looking at the held-out halves).

Descriptors (computed on the heavy-atom graph parsed from canonical SMILES, as the paper's RDKit ones):

- `topological`: AvgIpc, BertzCT, BalabanJ, HallKierAlpha, Kappa1-3, Chi0/0n/0v/1/1n/1v/2n/2v/3n/3v/4n/4v
  (the paper's TopoChemicalDescriptor);
- `morgan`: Morgan count fingerprint, radius 2, 128 bins (the paper's FingerprintDescriptor);
- `lipinski`: the paper's 25 Lipinski-module counts plus MolWt, TPSA and MolLogP.

The paper's default classifier is TabPFN, not available offline here; `logistic` (scikit-learn logistic
regression, C=1) and `boosting` (HistGradientBoostingClassifier) stand in. A weaker classifier gives a
looser (smaller) but still valid bound. The paper's learned descriptors (ChemNet, MolCLR) need network
weights and are not included.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Classifier = Literal["logistic", "boosting"]
CLASSIFIERS: tuple[str, ...] = ("logistic", "boosting")
DESCRIPTOR_NAMES: tuple[str, ...] = ("topological", "morgan", "lipinski")
MIN_MOLECULES = 20
"""Fewest molecules per set: each half must hold enough for a 4-fold cross-validation."""

_TOPOLOGICAL = (
    "AvgIpc", "BertzCT", "BalabanJ", "HallKierAlpha", "Kappa1", "Kappa2", "Kappa3", "Chi0", "Chi0n", "Chi0v",
    "Chi1", "Chi1n", "Chi1v", "Chi2n", "Chi2v", "Chi3n", "Chi3v", "Chi4n", "Chi4v",
)  # fmt: skip
_LIPINSKI = (
    "HeavyAtomCount", "NHOHCount", "NOCount", "NumHAcceptors", "NumHDonors", "NumHeteroatoms",
    "NumRotatableBonds", "RingCount", "NumAliphaticCarbocycles", "NumAliphaticHeterocycles",
    "NumAliphaticRings", "NumAromaticCarbocycles", "NumAromaticHeterocycles", "NumAromaticRings",
    "NumHeterocycles", "NumSaturatedCarbocycles", "NumSaturatedHeterocycles", "NumSaturatedRings",
    "NumAmideBonds", "NumAtomStereoCenters", "NumUnspecifiedAtomStereoCenters", "NumBridgeheadAtoms",
    "NumSpiroAtoms", "FractionCSP3", "Phi",
)  # fmt: skip


def topological_descriptors(mols: Sequence[Any]) -> np.ndarray:
    """[n, 19] graph indices of RDKit molecules (the paper's TopoChemicalDescriptor)."""
    from rdkit.Chem import GraphDescriptors

    fns = [getattr(GraphDescriptors, name) for name in _TOPOLOGICAL]
    return np.array([[float(f(m)) for f in fns] for m in mols], dtype=np.float64).reshape(-1, len(fns))


def morgan_descriptors(mols: Sequence[Any], radius: int = 2, size: int = 128) -> np.ndarray:
    """[n, size] Morgan count fingerprints (radius 2, 128 bins as the paper)."""
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=size)
    rows = [np.asarray(gen.GetCountFingerprintAsNumPy(m), dtype=np.float64) for m in mols]
    return np.stack(rows) if rows else np.zeros((0, size))


def lipinski_descriptors(mols: Sequence[Any]) -> np.ndarray:
    """[n, 28] physico-chemical counts and properties (the paper's LipinskiDescriptor + MolWt, TPSA, LogP)."""
    from rdkit.Chem import Descriptors, Lipinski, rdMolDescriptors

    fns: list[Callable[[Any], float]] = [getattr(Lipinski, name) for name in _LIPINSKI]
    fns += [Descriptors.MolWt, rdMolDescriptors.CalcTPSA, Descriptors.MolLogP]  # type: ignore[attr-defined]
    return np.array([[float(f(m)) for f in fns] for m in mols], dtype=np.float64).reshape(-1, len(fns))


DESCRIPTORS: dict[str, Callable[[Sequence[Any]], np.ndarray]] = {
    "topological": topological_descriptors,
    "morgan": morgan_descriptors,
    "lipinski": lipinski_descriptors,
}


def js_distance_bound(ref_prob: np.ndarray, gen_prob: np.ndarray, eps: float = 1e-10) -> float:
    """sqrt(clip(1 + mean log2 D(ref)/2 + mean log2(1 - D(gen))/2, 0, 1)) with D = Pr[reference].

    Probabilities are clipped to [eps, 1] inside the logarithms (the paper's code adds eps instead).
    """
    ref_log = np.log2(np.clip(ref_prob, eps, 1.0))
    gen_log = np.log2(np.clip(1.0 - gen_prob, eps, 1.0))
    bits = 1.0 + 0.5 * (ref_log.mean() + gen_log.mean())
    return math.sqrt(float(np.clip(bits, 0.0, 1.0)))


def _make_classifier(name: str, seed: int) -> Any:
    if name == "logistic":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=1.0, max_iter=2000)
    if name == "boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed)
    raise ValueError(f"unknown classifier {name!r}; expected one of {', '.join(CLASSIFIERS)}")


def _fit_score(
    classifier: str, seed: int, x_train: np.ndarray, y_train: np.ndarray, x_ref: np.ndarray, x_gen: np.ndarray
) -> float:
    """Fit on (x_train, y_train; 1 = reference) and return the JS-distance bound on held-out x_ref, x_gen."""
    if np.all(x_train == x_train[:1]):  # constant input: nothing to learn, D = 1/2 everywhere
        return js_distance_bound(np.full(len(x_ref), 0.5), np.full(len(x_gen), 0.5))
    model = _make_classifier(classifier, seed)
    model.fit(x_train, y_train)
    col = list(model.classes_).index(1)
    return js_distance_bound(model.predict_proba(x_ref)[:, col], model.predict_proba(x_gen)[:, col])


def classifier_bound(
    ref: np.ndarray, gen: np.ndarray, classifier: str = "logistic", seed: int = 0, folds: int = 4
) -> tuple[float, float]:
    """(cross-validated bound on the first halves, held-out bound on the second halves) for one descriptor."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    ref_train = rng.choice(len(ref), size=len(ref) // 2, replace=False)
    gen_train = rng.choice(len(gen), size=len(gen) // 2, replace=False)
    ref_test = np.setdiff1d(np.arange(len(ref)), ref_train)
    gen_test = np.setdiff1d(np.arange(len(gen)), gen_train)
    scaler = StandardScaler().fit(np.concatenate([ref[ref_train], gen[gen_train]]))
    x = scaler.transform(np.concatenate([ref[ref_train], gen[gen_train]]))
    y = np.concatenate([np.ones(len(ref_train), dtype=np.int64), np.zeros(len(gen_train), dtype=np.int64)])
    cv_scores = []
    for tr, va in StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y):
        x_va, y_va = x[va], y[va]
        cv_scores.append(_fit_score(classifier, seed, x[tr], y[tr], x_va[y_va == 1], x_va[y_va == 0]))
    test = _fit_score(
        classifier, seed, x, y, scaler.transform(ref[ref_test]), scaler.transform(gen[gen_test])
    )
    return float(np.mean(cv_scores)), test


@dataclass(frozen=True)
class PGDResult:
    """PGD, the descriptor that gave it, and every descriptor's held-out and cross-validated bound."""

    pgd: float
    descriptor: str
    subscores: dict[str, float]
    cv_subscores: dict[str, float]
    molecules: int  # per set, after subsampling
    classifier: str
    seed: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pgd": self.pgd,
            "descriptor": self.descriptor,
            "subscores": self.subscores,
            "cv_subscores": self.cv_subscores,
            "molecules_per_set": self.molecules,
            "classifier": self.classifier,
            "seed": self.seed,
            "bound": "Jensen-Shannon distance lower bound, sqrt(clip(1 + E_ref[log2 D]/2 + E_gen[log2(1-D)]/2))",
        }


def _parse(smiles: Sequence[str]) -> list[Any]:
    from rdkit import Chem, rdBase

    out = []
    with rdBase.BlockLogs():
        for s in smiles:
            mol = Chem.MolFromSmiles(s)
            if mol is None:
                raise ValueError(f"RDKit cannot parse the SMILES {s!r}")
            out.append(mol)
    return out


def describe(smiles: Sequence[str], descriptors: Sequence[str] = DESCRIPTOR_NAMES) -> dict[str, np.ndarray]:
    """Descriptor matrices of molecules given as SMILES (non-finite entries set to 0)."""
    mols = _parse(smiles)
    return {
        name: np.nan_to_num(DESCRIPTORS[name](mols), nan=0.0, posinf=0.0, neginf=0.0) for name in descriptors
    }


def polygraph_discrepancy(
    generated: Sequence[str],
    reference: Sequence[str],
    classifier: str = "logistic",
    seed: int = 0,
    max_molecules: int | None = 5000,
    descriptors: Sequence[str] = DESCRIPTOR_NAMES,
) -> PGDResult:
    """PGD between generated and reference molecules given as SMILES (duplicates count as drawn).

    Both sets are subsampled without replacement (numpy default_rng(seed)) to the size of the smaller one,
    and to at most `max_molecules`. Raises ValueError with fewer than `MIN_MOLECULES` in either set.
    """
    n = min(len(generated), len(reference))
    if max_molecules is not None:
        n = min(n, max_molecules)
    if n < MIN_MOLECULES:
        raise ValueError(f"PGD needs at least {MIN_MOLECULES} molecules in each set, got {n}")
    rng = np.random.default_rng(seed)
    gen_pick = [generated[int(i)] for i in np.sort(rng.choice(len(generated), size=n, replace=False))]
    ref_pick = [reference[int(i)] for i in np.sort(rng.choice(len(reference), size=n, replace=False))]
    gen_desc = describe(gen_pick, descriptors)
    ref_desc = describe(ref_pick, descriptors)
    cv: dict[str, float] = {}
    test: dict[str, float] = {}
    for name in descriptors:
        cv[name], test[name] = classifier_bound(ref_desc[name], gen_desc[name], classifier, seed)
    best = max(descriptors, key=lambda k: cv[k])
    return PGDResult(test[best], best, test, cv, n, classifier, seed)
