"""Otsu, chi-square and IR-MAD statistics against brute force, scipy (reference only) and
planted changes."""
import math

import numpy as np
import pytest
import scipy.linalg
from scipy import stats

from geovl.geo.change_stats import (
    chi2_quantile, chi2_survival, fit_irmad, irmad_chi2, otsu_threshold, otsu_threshold_of)

BANDS = 4
SHAPE = (96, 96)
CHANGE_SHIFT = np.array([120.0, -90.0, 60.0, -150.0])


def scene(seed):
    """Before and after (bands, H, W) float64 images of correlated bands, and the changed mask.

    after = per-band gain * before + offset + noise everywhere except a planted rectangle,
    whose after values are shifted away from that relation by 4-15 noise deviations.
    """
    rng = np.random.default_rng(seed)
    pixels = SHAPE[0] * SHAPE[1]
    latent = rng.normal(size=(3, pixels))
    mixing = rng.uniform(0.2, 1.0, size=(BANDS, 3))
    before = 3000 + 150 * mixing @ latent + rng.normal(0, 10, (BANDS, pixels))
    gain = np.linspace(0.8, 1.3, BANDS)[:, None]
    offset = np.linspace(30, -50, BANDS)[:, None]
    after = gain * before + offset + rng.normal(0, 8, (BANDS, pixels))
    changed = np.zeros(SHAPE, bool)
    changed[20:40, 50:75] = True
    after[:, changed.ravel()] += CHANGE_SHIFT[:, None]
    return before.reshape(BANDS, *SHAPE), after.reshape(BANDS, *SHAPE), changed


def samples(image):
    return image.reshape(len(image), -1)


def mad_variates(irmad, x, y):
    """MAD_i = a_i . (X - mean_x) - b_i . (Y - mean_y), by hand in float64."""
    return irmad.a @ (x - irmad.mean_before[:, None]) - irmad.b @ (y - irmad.mean_after[:, None])


# --- Otsu -------------------------------------------------------------------------------

def brute_force_otsu(values, edges):
    """Every interior edge in turn; between-class variance from the split values themselves."""
    best_threshold, best_variance = math.inf, -1.0
    for threshold in edges[1:-1]:
        low, high = values[values < threshold], values[values >= threshold]
        if low.size and high.size:
            share = low.size / values.size
            variance = share * (1 - share) * (low.mean() - high.mean()) ** 2
            if variance > best_variance:
                best_threshold, best_variance = threshold, variance
    return best_threshold, best_variance


def between_class_variance(values, threshold):
    low, high = values[values < threshold], values[values >= threshold]
    share = low.size / values.size
    return share * (1 - share) * (low.mean() - high.mean()) ** 2


def random_histograms():
    rng = np.random.default_rng(7)
    for _ in range(4):       # bimodal samples, with empty bins between the modes
        values = np.concatenate([rng.normal(rng.uniform(0, 5), 1, rng.integers(50, 500)),
                                 rng.normal(rng.uniform(8, 15), 2, rng.integers(50, 500))])
        yield np.histogram(values, bins=40)
    for _ in range(4):       # arbitrary counts with gaps and uneven edges
        counts = rng.integers(0, 6, 30) * (rng.random(30) < 0.6)
        yield counts, np.cumsum(rng.uniform(0.5, 2.0, 31))


@pytest.mark.parametrize("counts, edges", list(random_histograms()))
def test_otsu_matches_brute_force(counts, edges):
    """Same split of the histogram as the exhaustive search, at the same (maximal) variance."""
    values = np.repeat(0.5 * (edges[:-1] + edges[1:]), counts)   # each bin at its centre
    reference, best_variance = brute_force_otsu(values, edges)
    threshold = otsu_threshold(counts, edges)
    np.testing.assert_array_equal(values >= threshold, values >= reference)
    assert between_class_variance(values, threshold) == pytest.approx(best_variance, rel=1e-9)


def test_otsu_threshold_falls_between_modes():
    """Balanced and unbalanced (5% changed) bimodal samples; gaps split in the middle."""
    rng = np.random.default_rng(3)
    balanced = np.concatenate([rng.normal(100, 10, 5000), rng.normal(300, 20, 5000)])
    assert 140 < otsu_threshold_of(balanced) < 240
    unbalanced = np.concatenate([rng.normal(0, 1, 9500), rng.normal(10, 1, 500)])
    assert 3 < otsu_threshold_of(unbalanced, bins=256) < 7
    # Two occupied bins with empty ones between: the middle of the gap.
    assert otsu_threshold([0, 3, 0, 0, 5, 0], np.arange(7.0)) == 3.0


def test_otsu_degenerate_inputs_mean_no_change():
    assert otsu_threshold(np.zeros(8), np.arange(9.0)) == math.inf
    assert otsu_threshold([], [0.0]) == math.inf
    assert otsu_threshold([0, 0, 7, 0], np.arange(5.0)) == math.inf
    assert otsu_threshold([4], [0.0, 1.0]) == math.inf
    assert otsu_threshold_of(np.array([])) == math.inf
    assert otsu_threshold_of(np.full(10, np.nan)) == math.inf
    assert otsu_threshold_of(np.full((5, 5), 3, np.uint16)) == math.inf
    assert otsu_threshold_of(np.array([1.0, np.nan, 5.0, np.inf])) == pytest.approx(3.0, abs=0.01)
    with pytest.raises(ValueError):
        otsu_threshold([1, 2, 3], [0.0, 1.0, 2.0])


# --- chi-square -------------------------------------------------------------------------

@pytest.mark.parametrize("dof", range(1, 13))
def test_chi2_survival_matches_scipy(dof):
    """From 1e-8 to 1400 (survival down to ~1e-300), relative error below 1e-12."""
    x = np.concatenate([np.logspace(-8, np.log10(1400), 400), [7.999 ** 2 * 2, 8.0 ** 2 * 2]])
    np.testing.assert_allclose(chi2_survival(x, dof), stats.chi2.sf(x, dof), rtol=1e-12, atol=0)
    p = np.array([1e-4, 0.01, 0.05, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999])
    quantiles = [chi2_quantile(float(q), dof) for q in p]
    np.testing.assert_allclose(quantiles, stats.chi2.ppf(p, dof), rtol=1e-9)


def test_chi2_edge_values_and_dtypes():
    np.testing.assert_array_equal(chi2_survival(np.array([-1.0, 0.0, np.inf]), 3), [1.0, 1.0, 0.0])
    assert np.isnan(chi2_survival(np.nan, 4))
    assert chi2_survival(np.ones((2, 3), np.float32), 5).dtype == np.float32
    assert chi2_survival(np.ones((2, 3), np.uint16), 5).shape == (2, 3)
    assert np.ndim(chi2_survival(3.0, 2)) == 0
    assert chi2_quantile(0.0, 3) == 0.0 and chi2_quantile(1.0, 3) == math.inf
    for bad in [lambda: chi2_quantile(1.5, 3), lambda: chi2_quantile(0.5, 0),
                lambda: chi2_survival(1.0, 2.5)]:
        with pytest.raises((ValueError, TypeError)):
            bad()


# --- IR-MAD -----------------------------------------------------------------------------

def test_first_iteration_is_plain_mad():
    """One iteration (all weights 1) is CCA of the plain covariance: the generalised
    eigenproblem Sxy Syy^-1 Syx a = rho^2 Sxx a solved by scipy, vectors up to sign."""
    before, after, _ = scene(1)
    x, y = samples(before), samples(after)
    irmad = fit_irmad(x, y, max_iterations=1)
    assert irmad.iterations == 1 and not irmad.converged
    covariance = np.cov(np.vstack([x, y]), bias=True)
    sxx, syy, sxy = covariance[:BANDS, :BANDS], covariance[BANDS:, BANDS:], covariance[:BANDS, BANDS:]
    rho_squared, vectors = scipy.linalg.eigh(sxy @ np.linalg.solve(syy, sxy.T), sxx)
    rho = np.sqrt(rho_squared)
    np.testing.assert_allclose(irmad.rho, rho, rtol=1e-6)     # the ridge moves them ~1e-7
    a_reference = vectors.T                                   # rows, a' Sxx a = 1 like ours
    b_reference = np.linalg.solve(syy, sxy.T @ vectors).T / rho[:, None]
    signs = np.sign(np.sum(irmad.a * a_reference, axis=1))[:, None]
    scale = np.abs(a_reference).max()
    np.testing.assert_allclose(irmad.a, signs * a_reference, rtol=1e-4, atol=1e-5 * scale)
    np.testing.assert_allclose(irmad.b, signs * b_reference, rtol=1e-4, atol=1e-5 * scale)


def test_mad_variates_are_uncorrelated_with_variances_2_1_minus_rho():
    """Plain MAD: over all pixels, and sigma^2 = 2 (1 - rho). IR-MAD (converged): under
    the no-change weights, with sigma^2 = 2 (1 - rho) / (5/8), the weighting's known
    shrinkage for N = 4. Also corr(a_i X, b_i Y) = rho_i > 0 and the documented sign."""
    before, after, _ = scene(2)
    x, y = samples(before), samples(after)
    plain = fit_irmad(x, y, max_iterations=1)
    mads = mad_variates(plain, x, y)
    np.testing.assert_allclose(mads @ mads.T / mads.shape[1], np.diag(plain.sigma ** 2),
                               rtol=1e-5, atol=1e-5 * plain.sigma.max() ** 2)
    np.testing.assert_allclose(plain.sigma ** 2, 2 * (1 - plain.rho), rtol=1e-12)
    u = plain.a @ (x - plain.mean_before[:, None])
    v = plain.b @ (y - plain.mean_after[:, None])
    for i in range(BANDS):
        assert np.corrcoef(u[i], v[i])[0, 1] == pytest.approx(plain.rho[i], rel=1e-6)
        assert sum(np.corrcoef(u[i], band)[0, 1] for band in x) >= 0

    irmad = fit_irmad(x, y, max_iterations=200, tolerance=1e-10)
    assert irmad.converged and irmad.iterations > 2
    mads = mad_variates(irmad, x, y)
    weights = chi2_survival(np.sum((mads / irmad.sigma[:, None]) ** 2, axis=0), BANDS)
    centred = mads - (mads @ weights / weights.sum())[:, None]
    covariance = (centred * weights) @ centred.T / weights.sum()
    variances = 2 * (1 - irmad.rho)
    np.testing.assert_allclose(covariance, np.diag(variances), rtol=1e-4, atol=1e-4 * variances.max())
    np.testing.assert_allclose(irmad.sigma ** 2, variances / (5 / 8), rtol=1e-9)
    assert np.all(np.diff(irmad.rho) >= 0) and np.all(irmad.rho > 0)


def test_unchanged_pixels_follow_chi2_and_planted_change_stands_out():
    before, after, changed = scene(3)
    irmad = fit_irmad(samples(before), samples(after))
    assert irmad.converged
    chi2 = irmad_chi2(irmad, before, after)
    assert chi2.shape == SHAPE and chi2.dtype == np.float32
    q99 = chi2_quantile(0.99, BANDS)
    unchanged = chi2[~changed]
    assert np.percentile(unchanged, 99) == pytest.approx(q99, rel=0.15)
    assert unchanged.mean() == pytest.approx(BANDS, rel=0.05)     # the mean of chi2(N)
    standardised = mad_variates(irmad, samples(before), samples(after)) / irmad.sigma[:, None]
    np.testing.assert_allclose(standardised[:, ~changed.ravel()].var(axis=1), 1.0, rtol=0.1)
    assert chi2[changed].min() > 3 * q99


def test_invariant_to_linear_radiometric_changes():
    """Gain and offset on the after image (scalar) or the before image (per band)."""
    before, after, _ = scene(4)
    x, y = samples(before), samples(after)
    base = fit_irmad(x, y)
    chi2 = irmad_chi2(base, before, after)
    gain, offset = np.array([0.5, 2.0, 1.5, 3.0]), np.array([10.0, -20.0, 0.0, 500.0])
    for x2, y2 in [(x, y * 1.3 + 200), (gain[:, None] * x + offset[:, None], y)]:
        refit = fit_irmad(x2, y2)
        assert refit.iterations == base.iterations
        np.testing.assert_allclose(refit.rho, base.rho, rtol=1e-5)   # 1e-14 for the scalar gain
        chi2_refit = irmad_chi2(refit, x2.reshape(before.shape), y2.reshape(after.shape))
        np.testing.assert_allclose(chi2_refit, chi2, rtol=1e-3, atol=1e-3)


def duplicate_band(image):
    image[3] = image[0]


def constant_band(image):
    image[3] = 500.0


@pytest.mark.parametrize("make_deficient", [duplicate_band, constant_band])
def test_rank_deficient_bands_still_find_the_change(make_deficient):
    before, after, changed = scene(5)
    make_deficient(before)
    make_deficient(after)
    irmad = fit_irmad(samples(before), samples(after))
    chi2 = irmad_chi2(irmad, before, after)
    assert np.isfinite(chi2).all() and np.isfinite(irmad.rho).all()
    q99 = chi2_quantile(0.99, BANDS)
    assert chi2[changed].min() > q99
    assert np.mean(chi2[~changed] > q99) < 0.02


def test_constant_images_give_no_change():
    irmad = fit_irmad(np.full((3, 50), 5.0), np.full((3, 50), 7.0))
    chi2 = irmad_chi2(irmad, np.full((3, 4, 4), 5, np.uint16), np.full((3, 4, 4), 7, np.uint16))
    np.testing.assert_array_equal(chi2, 0.0)


def test_irmad_chi2_of_uint16_tiles_matches_float64_by_hand():
    before, after, _ = scene(6)
    before = np.rint(before * 8).astype(np.uint16)                # ~24000, full 16-bit range
    after = np.rint(after * 8).astype(np.uint16)
    x, y = samples(before).astype(np.float64), samples(after).astype(np.float64)
    irmad = fit_irmad(x, y)
    expected = np.sum((mad_variates(irmad, x, y) / irmad.sigma[:, None]) ** 2, axis=0)
    chi2 = irmad_chi2(irmad, before, after)
    assert chi2.dtype == np.float32
    np.testing.assert_allclose(chi2.ravel(), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(irmad_chi2(irmad, before.astype(np.float32), after), chi2, rtol=1e-6)


def test_bad_inputs_raise():
    x = np.ones((3, 10))
    for before, after in [(x, np.ones((4, 10))), (x[0], x[0]), (x, np.full((3, 10), np.nan)),
                          (np.ones((3, 0)), np.ones((3, 0)))]:
        with pytest.raises(ValueError):
            fit_irmad(before, after)
    irmad = fit_irmad(x + np.arange(10), x * np.arange(10))
    with pytest.raises(ValueError):
        irmad_chi2(irmad, np.ones((4, 2, 2)), np.ones((4, 2, 2)))
