"""Model-free statistics for bi-temporal change detection: IR-MAD, chi-square, Otsu.

The engine fits statistics once per raster pair, from a decimated sample of valid pixels
(about a megapixel), and applies them to every tile of the full rasters: per-tile fits
would make the same change look different in neighbouring tiles. So the fitting
functions take (bands, n) samples and the applying functions take (bands, H, W) tiles of
any numeric dtype and return float32 maps without float64 copies of the tile.

IR-MAD (Nielsen 2007, "The regularized iteratively reweighted MAD method for change
detection in multi- and hyperspectral data", IEEE TIP 16(2)) pairs linear combinations
of the before bands with linear combinations of the after bands that are maximally
correlated (canonical correlation analysis). Their differences, the MAD variates, are
mutually uncorrelated with known variances, so on unchanged pixels the sum of their
squared standardised values is approximately chi-square with N (band count) degrees of
freedom; large values are change. Each iteration reweights the pixels by their
probability of no change, so the fit describes the unchanged background. CCA is
invariant to affine transforms of either image, so gain and offset differences between
the acquisitions (illumination, calibration, first-order atmosphere) are not change.

One departure from the paper's formulas: weighting by the no-change probability also
down-weights the tail of the unchanged pixels, so the weighted variances 2 (1 - rho_i)
are smaller than the variances of the unchanged MAD variates (by 5/8 for N = 4 at the
right weights). Standardising by them inflates the statistic, which feeds back into
smaller weights; for Gaussian no-change pixels the literal iteration settles where Z of
an unchanged pixel is (3 + sqrt 13) / 2 = 3.3 times chi2(4), not chi2(4) (two in five
flagged at the 1% level). fit_irmad divides the weighted variances by that known
factor (see _weighted_variance_ratio), so the weights are the no-change probabilities
the paper means and thresholds from chi2_quantile hold. Directions, correlations and
invariance are those of CCA as in the paper.

Otsu's method (Otsu 1979, "A threshold selection method from gray-level histograms",
IEEE SMC 9(1)) picks a threshold from a histogram, e.g. of the chi-square statistic,
where no significance level is wanted.

The chi-square distribution functions are written here with numpy and math only, so
the engine needs no scipy.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np

# Ridge added to each covariance block before whitening, relative to the block's mean
# band variance. It keeps the Cholesky factorisation possible when a band is constant
# or repeated: that direction then gets canonical correlation 0 and a MAD variate that
# is 0 on every pixel, so it adds nothing to the chi-square. A real direction of the
# data with variance v (band-to-band differences in strongly correlated bands can be
# 1e-4 of the mean variance) has its correlation changed by about RIDGE * mean / v, and
# coefficients stay below 1 / sqrt(RIDGE * mean variance), small enough for float32 tiles.
RIDGE = 1e-9

# Floor of the MAD variances: identical before and after images give rho rounded to 1
# and MAD variates of 0, which must read as "no change", not 0 / 0.
MIN_MAD_VARIANCE = 1e-12

# erfc, for odd degrees of freedom. numpy has none, and math.erfc element by element is
# about ten times slower than this: erfcx(t) = exp(t^2) erfc(t) is smooth and slowly
# varying (1 at t = 0, about 1 / (t sqrt(pi)) far out), so on [0, 8] a table of cubic
# Hermite pieces is fast and accurate, with node values from math.erfc and slopes from
# the differential equation erfcx' = 2 t erfcx - 2 / sqrt(pi). Its error is at most
# h^4 max|erfcx(4)| / 384 = h^4 / 32 < 2e-15 for h = 1/2048 (16384 pieces, 6 ms to build).
# Beyond 8, Laplace's continued fraction reaches double precision within 12 levels.
_ERFCX_STEP = 1.0 / 2048
_ERFCX_TABLE_END = 8.0
_ERFCX_FRACTION_DEPTH = 12


# --- Otsu -------------------------------------------------------------------------------

def otsu_threshold(counts: np.ndarray, edges: np.ndarray) -> float:
    """Otsu's threshold of a histogram: the edge that maximises the between-class variance.

    `counts` per bin and `edges` (one more) as returned by np.histogram; each bin counts
    at its centre. The classes are the bins below the threshold and those at or above it.
    Where consecutive edges give the same split (empty bins between two modes) the middle
    of that gap is returned: the same split of the sample, and the farthest from both
    modes for pixels outside the sample. Returns +inf, meaning "nothing at or above the
    threshold" (no change), when no edge splits the histogram into two non-empty classes:
    an empty histogram or all counts in one bin.
    """
    counts = np.asarray(counts, np.float64)
    edges = np.asarray(edges, np.float64)
    if counts.ndim != 1 or edges.shape != (counts.size + 1,):
        raise ValueError(f"need n counts and n + 1 edges, got shapes {counts.shape} and {edges.shape}")
    total = counts.sum()
    if not total > 0:
        return math.inf
    centres = 0.5 * (edges[:-1] + edges[1:])
    # About the overall mean the first moments of the two classes cancel, and the
    # between-class variance w0 w1 (mean0 - mean1)^2 / total^2 reduces to
    # moment0^2 / (w0 w1) without the cancellation of the textbook form.
    deviations = centres - counts @ centres / total
    below = np.cumsum(counts)[:-1]               # candidate thresholds are edges[1:-1]
    above = np.cumsum(counts[::-1])[::-1][1:]    # summed from the top: exact zeros
    moment = np.cumsum(counts * deviations)[:-1]
    splits = (below > 0) & (above > 0)
    if not splits.any():
        return math.inf
    between = np.where(splits, moment ** 2 / np.where(splits, below * above, 1.0), -1.0)
    first = int(np.argmax(between)) + 1          # index into edges; leftmost of ties
    last = first + int(np.argmax(counts[first:] > 0))
    return float(0.5 * (edges[first] + edges[last]))


def otsu_threshold_of(values: np.ndarray, bins: int = 1024) -> float:
    """Otsu's threshold of the finite values of an array, from a `bins`-bin histogram.

    +inf (no change) when there are no finite values or they are all equal.
    """
    values = np.asarray(values).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0 or values.min() == values.max():
        return math.inf
    counts, edges = np.histogram(values, bins=bins, range=(values.min(), values.max()))
    return otsu_threshold(counts, edges)


# --- chi-square distribution -------------------------------------------------------------

def _erfcx_cubics() -> np.ndarray:
    """(4, pieces) coefficients of erfcx on each table piece, in powers of (t - t_k) / h."""
    nodes = np.arange(0.0, _ERFCX_TABLE_END + 0.5 * _ERFCX_STEP, _ERFCX_STEP)
    values = np.array([math.exp(t * t) * math.erfc(t) for t in nodes])
    slopes = (2.0 * nodes * values - 2.0 / math.sqrt(math.pi)) * _ERFCX_STEP
    v0, v1, d0, d1 = values[:-1], values[1:], slopes[:-1], slopes[1:]
    return np.stack([v0, d0, 3.0 * (v1 - v0) - 2.0 * d0 - d1, 2.0 * (v0 - v1) + d0 + d1])


_ERFCX_CUBICS = _erfcx_cubics()


def _erfcx(t: np.ndarray) -> np.ndarray:
    """exp(t^2) erfc(t) for a float64 array of t >= 0 (NaN stays NaN)."""
    result = np.empty_like(t)
    near = t < _ERFCX_TABLE_END
    position = t[near] / _ERFCX_STEP
    piece = position.astype(np.intp)
    offset = position - piece
    c0, c1, c2, c3 = (np.take(c, piece) for c in _ERFCX_CUBICS)
    result[near] = ((c3 * offset + c2) * offset + c1) * offset + c0
    far = t[~near]
    fraction = far.copy()
    for level in range(_ERFCX_FRACTION_DEPTH, 0, -1):
        fraction = far + 0.5 * level / fraction
    result[~near] = 1.0 / (math.sqrt(math.pi) * fraction)
    return result


def _checked_dof(dof: int) -> int:
    dof = operator.index(dof)
    if dof < 1:
        raise ValueError(f"degrees of freedom must be a positive integer, got {dof}")
    return dof


def chi2_survival(x: np.ndarray | float, dof: int) -> np.ndarray:
    """P(X > x) for X chi-square distributed with `dof` degrees of freedom, elementwise.

    This is the regularised upper incomplete gamma function Q(dof/2, x/2), which has
    closed forms for integer dof (from Q(a + 1, z) = Q(a, z) + z^a e^-z / Gamma(a + 1),
    Q(1, z) = e^-z and Q(1/2, z) = erfc(sqrt z)), with z = x / 2:
        even dof: sum_{k=0}^{dof/2 - 1} z^k e^-z / k!
        odd dof:  erfc(sqrt z) + sum_{k=1}^{(dof-1)/2} z^(k-1/2) e^-z / Gamma(k + 1/2)
    Each term is evaluated in log space, so terms do not underflow (e^-z alone does for
    z > 745) before the sum does. x <= 0 gives 1, +inf gives 0, NaN stays NaN.
    Returns float32 for float32 x, else float64; a numpy scalar for a scalar x.
    """
    dof = _checked_dof(dof)
    x = np.asarray(x)
    # Clipping to positive finite values keeps log(z) and z^0 = 1 finite at both ends;
    # the terms are exactly 1 and 0 there anyway.
    limits = np.finfo(np.float64)
    z = np.clip(0.5 * x.astype(np.float64).ravel(), limits.tiny, limits.max)
    log_z = np.log(z)
    if dof % 2:
        survival = _erfcx(np.sqrt(z)) * np.exp(-z)
        powers = np.arange(1, (dof + 1) // 2) - 0.5
    else:
        survival = np.zeros_like(z)
        powers = np.arange(dof // 2, dtype=np.float64)
    for power in powers:
        survival += np.exp(power * log_z - z - math.lgamma(power + 1.0))
    np.minimum(survival, 1.0, out=survival)      # rounding of a sum close to 1
    survival = survival.reshape(x.shape)
    return (survival.astype(np.float32) if x.dtype == np.float32 else survival)[()]


def chi2_quantile(p: float, dof: int) -> float:
    """The x with P(X <= x) = p for X chi-square distributed with `dof` degrees of freedom.

    Bisection on log x against chi2_survival, which is monotone, so it cannot fail to
    converge; it stops when no float lies between the bounds. The result is as accurate
    as 1 - p is (about 1e-16 absolute in p). 0 for p = 0, +inf for p = 1.
    """
    dof = _checked_dof(dof)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability must be in [0, 1], got {p}")
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return math.inf
    survival_at_quantile = 1.0 - p

    def at_or_above_quantile(x: float) -> bool:
        return bool(chi2_survival(x, dof) <= survival_at_quantile)

    high = float(dof)
    while not at_or_above_quantile(high):
        high *= 2.0
    low = 0.5 * high
    while low > 0.0 and at_or_above_quantile(low):
        high, low = low, 0.5 * low
    while True:
        middle = math.sqrt(low * high) if low > 0.0 else 0.5 * high
        if not low < middle < high:
            return high
        if at_or_above_quantile(middle):
            high = middle
        else:
            low = middle


# --- IR-MAD -----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class IrMad:
    """A fitted IR-MAD transform: what irmad_chi2 needs, and how the fit went.

    Row i of `a` (before) and `b` (after) defines MAD variate i,
        MAD_i = a_i . (X - mean_before) - b_i . (Y - mean_after),
    ordered by increasing canonical correlation `rho`, so the first shows the most
    change. Under the fit's weights the variates are uncorrelated with variances
    2 (1 - rho_i); `sigma` holds their standard deviations on unchanged pixels,
    sqrt(2 (1 - rho_i) / c) with c = _weighted_variance_ratio(N) (c = 1 for a single,
    unweighted iteration), so that sum_i (MAD_i / sigma_i)^2 is about chi2(N) there.
    Signs: corr(a_i . X, b_i . Y) = rho_i >= 0, and the sum over the before bands of
    their correlations with a_i . X is >= 0 (as in Nielsen's and Canty's code; unlike
    the sum of a_i's entries it does not depend on the bands' units).
    """
    a: np.ndarray             # (N, N) float64
    b: np.ndarray             # (N, N) float64
    mean_before: np.ndarray   # (N,) float64, weighted by the no-change probability
    mean_after: np.ndarray    # (N,) float64
    rho: np.ndarray           # (N,) float64, increasing
    sigma: np.ndarray         # (N,) float64, MAD deviations on unchanged pixels
    iterations: int
    converged: bool

    @property
    def band_count(self) -> int:
        return self.a.shape[1]

    @property
    def centre(self) -> np.ndarray:
        """(2N,) means of the stacked (before, after) bands."""
        return np.concatenate([self.mean_before, self.mean_after])

    @property
    def projection(self) -> np.ndarray:
        """(N, 2N) matrix taking centred stacked (before, after) bands to MAD_i / sigma_i."""
        return np.hstack([self.a, -self.b]) / self.sigma[:, None]


def _weighted_variance_ratio(dof: int) -> float:
    """Weighted / plain variance of Gaussian no-change MAD variates under IR-MAD's weights.

    With MAD variates normal, Z = sum (MAD_i / sigma_i)^2 is chi2(N) and the weight
    w = Q(Z) = P(Z' > Z) (Z' an independent copy) is uniform, so E[w] = 1/2 and
    E[w MAD_i^2] / (E[w] sigma_i^2) = E[Z 1{Z < Z'}] / (N / 2) = E[min(Z, Z')] / N
    = (1/N) integral_0^inf Q(z)^2 dz: 5/8 for N = 4 (closed form), and the weighted
    covariance of the other canonical directions is unchanged (they are independent of
    the MAD variates). Simpson's rule over z = u^2, which keeps the integrand smooth at
    0 for N = 1, up to where Q^2 < 1e-30.
    """
    u = np.linspace(0.0, math.sqrt(dof + 40.0 * math.sqrt(dof) + 160.0), 4097)
    f = 2.0 * u * chi2_survival(u * u, dof) ** 2
    integral = (u[1] - u[0]) / 3.0 * (f[0] + f[-1] + 4.0 * f[1:-1:2].sum() + 2.0 * f[2:-1:2].sum())
    return float(integral) / dof


def _weighted_moments(stacked: np.ndarray, weights: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted mean, centred data and weighted covariance of (2N, n) stacked samples."""
    total = weights.sum()
    mean = stacked @ weights / total
    centred = stacked - mean[:, None]
    return mean, centred, (centred * weights) @ centred.T / total


def _ridged(covariance: np.ndarray) -> np.ndarray:
    """covariance + RIDGE * (mean variance) * I; an all-constant block (trace 0) gets RIDGE * I."""
    mean_variance = np.trace(covariance) / len(covariance)
    scale = mean_variance if mean_variance > 0 else 1.0
    return covariance + RIDGE * scale * np.eye(len(covariance))


def _canonical_pairs(covariance: np.ndarray, n_bands: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical vectors a, b (rows) and correlations rho, in increasing rho.

    The generalised eigenproblems Sxy Syy^-1 Syx a = rho^2 Sxx a (and the same for b)
    become one SVD after whitening each block with its Cholesky factor: with
    Wx Sxx Wx' = I and Wy Syy Wy' = I, the singular vectors u_i, v_i of Wx Sxy Wy' give
    a_i = Wx' u_i and b_i = Wy' v_i, with a_i' Sxx a_i = b_i' Syy b_i = 1, and the
    singular values are the correlations. The SVD pairs a_i with b_i and makes every
    corr(a_i . X, b_i . Y) = rho_i >= 0 without dividing by rho_i (which may be 0).
    """
    sxx = covariance[:n_bands, :n_bands]
    sxx_ridged = _ridged(sxx)
    whiten_x = np.linalg.inv(np.linalg.cholesky(sxx_ridged))
    whiten_y = np.linalg.inv(np.linalg.cholesky(_ridged(covariance[n_bands:, n_bands:])))
    u, rho, vt = np.linalg.svd(whiten_x @ covariance[:n_bands, n_bands:] @ whiten_y.T)
    a = (u.T @ whiten_x)[::-1]
    b = (vt @ whiten_y)[::-1]
    # Correlations of each canonical variate a_i . X (unit variance) with the before
    # bands; dividing by the ridged band deviations keeps a constant band's rounding
    # noise from voting.
    correlations = (a @ sxx) / np.sqrt(np.diag(sxx_ridged))
    signs = np.where(correlations.sum(axis=1) >= 0, 1.0, -1.0)[:, None]
    return a * signs, b * signs, rho[::-1]


def _samples(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(2N, n) float64 stack of the before and after samples, validated."""
    before = np.asarray(before, np.float64)
    after = np.asarray(after, np.float64)
    if before.ndim != 2 or before.shape != after.shape or before.shape[1] == 0:
        raise ValueError(f"need before and after samples of one (bands, n) shape, n > 0; "
                         f"got {before.shape} and {after.shape}")
    stacked = np.concatenate([before, after])
    if not np.isfinite(stacked).all():
        raise ValueError("samples must be valid pixels: drop nodata and non-finite values first")
    return stacked


def fit_irmad(before: np.ndarray, after: np.ndarray, max_iterations: int = 50,
              tolerance: float = 1e-4) -> IrMad:
    """Fit IR-MAD to (bands, n) samples of the same valid pixels before and after.

    Iterates Nielsen's reweighting: weighted means and covariances of the stacked
    (before, after) samples, with weights 1 at first and then the chi-square survival
    probability (no-change probability) of each sample under the previous fit; CCA of
    the weighted covariance; until the canonical correlations change by less than
    `tolerance` or after `max_iterations` (1 gives plain, unweighted MAD). The MAD
    variances of weighted iterations are corrected for the weighting (see the module
    docstring). Statistics and linear algebra are float64; constant or repeated bands
    are handled by the ridge (RIDGE), so they do not raise.
    """
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")
    stacked = _samples(before, after)
    n_bands = stacked.shape[0] // 2
    weights = np.ones(stacked.shape[1])
    weighted_variance_ratio = _weighted_variance_ratio(n_bands)
    previous_rho = None
    for iteration in range(1, max_iterations + 1):
        mean, centred, covariance = _weighted_moments(stacked, weights)
        a, b, rho = _canonical_pairs(covariance, n_bands)
        converged = (previous_rho is not None
                     and float(np.max(np.abs(rho - previous_rho))) < tolerance)
        variance_ratio = 1.0 if iteration == 1 else weighted_variance_ratio
        sigma = np.sqrt(np.maximum(2.0 * (1.0 - rho) / variance_ratio, MIN_MAD_VARIANCE))
        irmad = IrMad(a, b, mean[:n_bands], mean[n_bands:], rho, sigma, iteration, converged)
        if converged or iteration == max_iterations:
            break
        variates = irmad.projection @ centred
        weights = chi2_survival(np.einsum("ij,ij->j", variates, variates), n_bands)
        if not weights.sum() > 0:
            break    # every sample looks changed: there is no background to refit on
        previous_rho = rho
    return irmad


def irmad_chi2(irmad: IrMad, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Chi-square change statistic sum_i (MAD_i / sigma_i)^2 of (bands, H, W) tiles, float32 (H, W).

    Approximately chi-square with N degrees of freedom on unchanged pixels: compare with
    chi2_quantile(1 - alpha, N), or map chi2_survival of it as a no-change probability.
    Any numeric dtype; non-finite input pixels give NaN. One float32 copy of the
    stacked tiles is centred in place and projected by a single matrix product.
    """
    before = np.asarray(before)
    after = np.asarray(after)
    n_bands = irmad.band_count
    if before.ndim != 3 or before.shape != after.shape or before.shape[0] != n_bands:
        raise ValueError(f"need before and after tiles of one ({n_bands}, H, W) shape; "
                         f"got {before.shape} and {after.shape}")
    _, height, width = before.shape
    stacked = np.empty((2 * n_bands, height * width), np.float32)
    stacked[:n_bands] = before.reshape(n_bands, -1)
    stacked[n_bands:] = after.reshape(n_bands, -1)
    # Subtracting the float64 means element by element (numpy buffers the cast) before
    # the product keeps values of order 1e4 from cancelling in float32 afterwards.
    np.subtract(stacked, irmad.centre[:, None], out=stacked, casting="same_kind")
    variates = irmad.projection.astype(np.float32) @ stacked
    np.square(variates, out=variates)
    return variates.sum(axis=0).reshape(height, width)
