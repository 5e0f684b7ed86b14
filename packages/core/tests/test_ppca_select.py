"""Choosing the number of PPCA components by maximal ELBO; ML PPCA in closed form; synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from vcore.errors import UserError
from vcore.ppca.ml import covariance_spectrum, fit_ml_ppca, max_log_likelihood
from vcore.ppca.select import check_data, check_max_k, select_components, standardise
from vcore.ppca.synthetic import make_ppca_data


def test_picks_the_true_k_with_gaussian_noise() -> None:
    data = make_ppca_data(1000, 10, 3, noise_scale=0.5, noise="gaussian", rng=0)
    sel = select_components(data.x, 6)
    assert sel.chosen_k == 3
    assert (sel.n, sel.d) == (1000, 10)
    elbos = np.array([r.elbo for r in sel.results])
    assert [r.k for r in sel.results] == [1, 2, 3, 4, 5, 6]
    assert all(r.converged for r in sel.results)
    # the ELBO climbs steeply up to k=3 and then falls by an Occam penalty at every extra k
    assert np.all(np.diff(elbos[:3]) > 100.0)
    assert np.all(np.diff(elbos[2:]) < -10.0)
    assert elbos[2] == pytest.approx(-7968.13, abs=0.05)  # recorded


def _t3_data(seed: int) -> np.ndarray:
    return make_ppca_data(1000, 10, 3, noise_scale=0.5, noise="student-t", df=3.0, rng=seed).x


def test_auto_picks_k3_with_student_t_noise_in_at_least_8_of_10_seeds() -> None:
    """The issue's requirement: t_3 noise, true k=3, d=10, n=1000 gives k=3 in at least 8 of 10 seeds.

    noise="auto" fits Gaussian and Student-t VB PPCA for every k and keeps the (noise, k) with the largest
    ELBO. Measured once offline over seeds 0-199: k=3 in 200/200 (10/10 in each of the 20 blocks of 10),
    always with the Student-t family; the Gaussian model alone gets 152/200 (5 to 10 per block). Also
    measured, seeds 0-49: t_2 noise 50/50 (Gaussian alone 10/50), t_5 noise 50/50 (Gaussian alone 50/50).
    Seeds 0-9 here give 10/10, and in each the k=3 Student-t ELBO beats the k=4 one by more than 60 nats
    and the best Gaussian one by more than 350.
    """
    picks = []
    for seed in range(10):
        sel = select_components(_t3_data(seed), 6, noise="auto")
        picks.append(sel.chosen_k)
        assert sel.chosen_noise == "student-t", seed
        assert 5.0 < (sel.chosen.nu or 0.0) < 15.0  # the multivariate t fitted to i.i.d. t_3 noise
        t_elbos = [r.fit("student-t").elbo for r in sel.results]  # type: ignore[union-attr]
        if sel.chosen_k == 3:
            assert t_elbos[2] - t_elbos[3] > 60.0, (seed, t_elbos)
            assert t_elbos[2] - max(r.fit("gaussian").elbo for r in sel.results) > 350.0  # type: ignore[union-attr]
    assert sum(k == 3 for k in picks) >= 8, picks


def test_gaussian_model_alone_under_student_t_noise_characterisation() -> None:
    """Characterisation, not the issue's criterion (see the auto test above): the Gaussian model alone.

    Seeds 0-9 pick [3, 3, 3, 3, 3, 4, 3, 3, 5, 3]; k=3 in 77/100 over seeds 0-99, 152/200 over 0-199. Gaussian
    PPCA is misspecified under t_3 noise: the heavy tails leave spurious variance directions whose
    likelihood gain grows with n, so extra components pay for their Occam penalty.
    """
    picks = [select_components(_t3_data(seed), 6, noise="gaussian").chosen_k for seed in range(10)]
    assert picks == [3, 3, 3, 3, 3, 4, 3, 3, 5, 3]


def test_auto_picks_k3_and_the_gaussian_family_with_gaussian_noise() -> None:
    """Measured once offline over seeds 0-99: auto picks k=3 with the Gaussian family in 100/100.

    On Gaussian data ν̂ runs to the top of its range (1000) and the Student-t ELBO stays O(n/ν) nats below
    the Gaussian one, so the simpler family wins.
    """
    data = make_ppca_data(1000, 10, 3, noise_scale=0.5, noise="gaussian", rng=0)
    sel = select_components(data.x, 6, noise="auto")
    assert (sel.chosen_k, sel.chosen_noise, sel.noise) == (3, "gaussian", "auto")
    gauss = select_components(data.x, 6, noise="gaussian")
    for ra, rg in zip(sel.results, gauss.results, strict=True):
        assert [f.noise for f in ra.fits] == ["gaussian", "student-t"]
        assert ra.fit("gaussian") == rg.fits[0]  # the same Gaussian fits as the Gaussian-only selection
        assert ra.max_log_likelihood == rg.max_log_likelihood
    r3 = sel.results[2]
    t3 = r3.fit("student-t")
    assert t3 is not None
    assert t3.nu is not None
    assert t3.elbo == pytest.approx(-7969.70, abs=0.05)  # recorded
    assert t3.nu == pytest.approx(1000.0, rel=1e-3)
    assert 0.5 < r3.elbo - t3.elbo < 3.0
    assert r3.elbo == pytest.approx(-7968.13, abs=0.05)  # the Gaussian one, recorded as above


def test_student_t_only_and_noise_validation() -> None:
    x = _t3_data(0)
    sel = select_components(x, 4, noise="student-t")
    assert (sel.chosen_k, sel.chosen_noise) == (3, "student-t")
    assert all([f.noise for f in r.fits] == ["student-t"] and r.fit("gaussian") is None for r in sel.results)
    assert sel.results[2].elbo == pytest.approx(-7402.43, abs=0.05)  # recorded
    with pytest.raises(ValueError, match="noise must be one of auto, gaussian, student-t, got 'laplace'"):
        select_components(x, 4, noise="laplace")


@pytest.mark.parametrize(("d", "k_true"), [(6, 1), (8, 5), (12, 2)])
def test_elbo_is_maximised_at_the_true_k(d: int, k_true: int) -> None:
    data = make_ppca_data(800, d, k_true, noise_scale=0.4, rng=d + k_true)
    sel = select_components(data.x, d - 1)
    elbos = [r.elbo for r in sel.results]
    assert int(np.argmax(elbos)) + 1 == k_true == sel.chosen_k


def test_ml_log_likelihood_is_non_decreasing_in_k_while_the_elbo_is_not() -> None:
    data = make_ppca_data(500, 8, 2, noise_scale=0.5, rng=1)
    sel = select_components(data.x, 7)
    ml = np.array([r.max_log_likelihood for r in sel.results])
    assert np.all(np.diff(ml) >= 0.0)
    assert np.any(np.diff([r.elbo for r in sel.results]) < 0.0)
    # the ELBO of each k is below the likelihood maximum of the same k
    assert all(r.elbo < r.max_log_likelihood for r in sel.results)


@pytest.mark.parametrize("k", [0, 1, 3, 5])
def test_ml_log_likelihood_equals_the_multivariate_normal_density_at_the_ml_parameters(k: int) -> None:
    x = make_ppca_data(300, 6, 2, noise_scale=0.7, rng=3).x
    fit = fit_ml_ppca(x, k)
    cov = fit.weights @ fit.weights.T + fit.noise_variance * np.eye(6)
    direct = multivariate_normal(fit.mean, cov).logpdf(x).sum()
    assert fit.log_likelihood == pytest.approx(direct, rel=1e-12)
    # and it is a maximum: random perturbations of (μ, W, σ²) only lower the likelihood
    rng = np.random.default_rng(k)
    for _ in range(5):
        w = fit.weights + 0.01 * rng.normal(size=fit.weights.shape)
        mean = fit.mean + 0.01 * rng.normal(size=6)
        s2 = fit.noise_variance * math.exp(0.01 * rng.normal())
        other = multivariate_normal(mean, w @ w.T + s2 * np.eye(6)).logpdf(x).sum()
        assert other < fit.log_likelihood


def test_ml_noise_variance_and_weights_follow_the_spectrum() -> None:
    x = make_ppca_data(400, 5, 2, noise_scale=0.3, rng=9).x
    eigvals, eigvecs = covariance_spectrum(x)
    fit = fit_ml_ppca(x, 2)
    assert fit.noise_variance == pytest.approx(eigvals[2:].mean(), rel=1e-12)
    # W Wᵀ + σ² I has the top-2 eigenpairs of S and σ² on the rest
    cov = fit.weights @ fit.weights.T + fit.noise_variance * np.eye(5)
    assert np.allclose(cov @ eigvecs[:, :2], eigvecs[:, :2] * eigvals[:2], atol=1e-12)
    assert max_log_likelihood(eigvals, 400, 2) == fit.log_likelihood


def test_selection_is_invariant_to_units_and_offsets() -> None:
    x = make_ppca_data(400, 6, 2, noise_scale=0.5, rng=5).x
    a = select_components(x, 4)
    b = select_components(1000.0 * x - 7.0, 4)
    assert a.chosen_k == b.chosen_k == 2
    for ra, rb in zip(a.results, b.results, strict=True):
        assert ra.elbo == pytest.approx(rb.elbo, rel=1e-9, abs=1e-6)
    assert b.preprocessing.scale == pytest.approx(1000.0 * a.preprocessing.scale, rel=1e-12)
    assert b.preprocessing.log_jacobian == pytest.approx(
        a.preprocessing.log_jacobian - 400 * 6 * math.log(1000)
    )


def test_standardise_centres_and_uses_one_scale() -> None:
    x = np.array([[1.0, 10.0], [3.0, 14.0], [5.0, 18.0]])
    xs, pre = standardise(x)
    assert np.allclose(pre.mean, [3.0, 14.0])
    # centred entries: ±2, 0 and ±4, 0 -> mean square (4+4+16+16)/6
    assert pre.scale == pytest.approx(math.sqrt(40 / 6))
    assert np.allclose(xs, (x - pre.mean) / pre.scale)
    assert pre.log_jacobian == pytest.approx(-6 * math.log(pre.scale))


def test_random_restarts_reach_the_same_optimum_as_the_ml_start() -> None:
    x = make_ppca_data(300, 6, 2, noise_scale=0.5, rng=6).x
    a = select_components(x, 3, tol=1e-12)
    b = select_components(x, 3, tol=1e-12, restarts=2, seed=4)
    for ra, rb in zip(a.results, b.results, strict=True):
        assert rb.elbo >= ra.elbo - 1e-6
        assert rb.elbo == pytest.approx(ra.elbo, abs=1e-4)


def test_data_and_max_k_checks() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(UserError, match=r"^f\.csv: has 4 data rows and 5 columns; PPCA needs more rows"):
        check_data(rng.normal(size=(4, 5)), "f.csv")
    with pytest.raises(UserError, match="more rows than columns"):
        check_data(rng.normal(size=(5, 5)), "f.csv")
    with pytest.raises(UserError, match="linearly dependent"):
        check_data(np.c_[rng.normal(size=(20, 3)), np.ones(20)], "f.csv")
    with pytest.raises(UserError, match="needs at least 2"):
        check_data(rng.normal(size=(20, 1)), "f.csv")
    with pytest.raises(UserError, match="NaN"):
        check_data(np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 1.0]]), "f.csv")
    check_max_k(1, 5, "f.csv")
    check_max_k(4, 5, "f.csv")
    for bad in (0, -1, 5, 9):
        with pytest.raises(
            UserError, match=rf"^--max-k {bad} is out of range for f\.csv with 5 columns: use 1 to 4$"
        ):
            check_max_k(bad, 5, "f.csv")


def test_synthetic_noise_has_the_requested_scale() -> None:
    gauss = make_ppca_data(20_000, 4, 0, noise_scale=0.3, rng=1)
    t3 = make_ppca_data(20_000, 4, 0, noise_scale=0.3, noise="student-t", df=8.0, rng=1)
    assert (gauss.x - gauss.mean).std() == pytest.approx(0.3, rel=0.01)
    assert (t3.x - t3.mean).std() == pytest.approx(0.3, rel=0.02)
    # heavier tails than the Gaussian at the same standard deviation: excess kurtosis 6/(ν-4) = 1.5
    z = (t3.x - t3.mean).ravel() / 0.3
    assert np.mean(z**4) - 3.0 == pytest.approx(1.5, abs=0.5)
    with pytest.raises(ValueError, match="noise must be"):
        make_ppca_data(10, 3, 1, noise="laplace")  # type: ignore[arg-type]
