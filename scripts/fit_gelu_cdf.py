"""Fit the polynomial H behind float32 GELU's Φ(a) = 0.5·(1 + tanh(a·H(a²))), which the
library computes in its logistic form 1 / (1 + exp(-2a·H(a²))) (the same value).

Run: python scripts/fit_gelu_cdf.py  (needs SciPy). It prints the coefficients of
``chainrule.ops.pointwise._PHI_H`` (highest degree first) and the float32 errors.

H(v) approximates atanh(erf(√(v/2)))/√v on |a| <= 6 by a Lawson (iteratively reweighted
least squares) minimax fit of the error in Φ, i.e. weighted by dΦ/dH. Beyond |a| = 6 the
argument a·H(a²) exceeds 10, where Φ is 0 or 1 within float32's resolution.
"""
import numpy as np
from scipy.special import erf, ndtr

LIMIT, DEGREE = 6.0, 6


def fit(limit=LIMIT, degree=DEGREE, iterations=80):
    a = np.linspace(0, limit, 600001)
    g = np.arctanh(np.clip(erf(a / np.sqrt(2)), 0, 1 - 1e-17))
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(a > 0, g / a, np.sqrt(2 / np.pi))
    h = np.minimum(h, 11.0 / np.maximum(a, 1e-9))  # past tanh's saturation any value does
    sens = 0.5 * (1 - np.tanh(np.minimum(g, 11)) ** 2) * a + 1e-9  # dΦ/dH
    v = np.vander(a * a, degree + 1, increasing=True)
    w = np.ones_like(a)
    for _ in range(iterations):
        sw = np.sqrt(w) * sens
        c, *_ = np.linalg.lstsq(v * sw[:, None], h * sw, rcond=None)
        err = np.abs((v @ c - h) * sens)
        w = w * (err + 1e-30)
        w /= w.mean()
    return [float(np.float32(x)) for x in c[::-1]]


def phi32(x, coeffs):
    cs = [np.float32(-2 * c) for c in coeffs]
    u = x * x
    r = u * cs[0] + cs[1]
    for k in cs[2:]:
        r = r * u + k
    with np.errstate(over="ignore"):
        return np.float32(1) / (np.exp(r * x) + np.float32(1))


if __name__ == "__main__":
    coeffs = fit()
    print("_PHI_H =", coeffs)
    x = np.linspace(-12, 12, 2000001).astype(np.float32)
    exact = ndtr(x.astype(np.float64))
    p = phi32(x, coeffs)
    print(f"max |Φ error| {np.abs(p - exact).max():.2e}, "
          f"max |GELU error| {np.abs((x * p).astype(np.float64) - x * exact).max():.2e}")
