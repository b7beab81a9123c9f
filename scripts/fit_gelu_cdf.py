"""Fit the erfc form behind float32 GELU's Φ: Φ(-z) = exp(-z²/2)·t·P(t), t = 1/(z + k),
z = |a|, P of degree 4: Abramowitz & Stegun's 7.1.26 shape, t = 1/(1 + p·z), with p folded
into P's coefficients (t = p·(1/(z + 1/p))), which saves the array pass that multiplies by p.

Run: python scripts/fit_gelu_cdf.py  (needs SciPy). It prints ``chainrule.ops.pointwise``'s
``_PHI_K`` and ``_PHI_T`` (highest degree first) and the float32 errors of the library's own
evaluation order.

For each k the coefficients are a Lawson (iteratively reweighted least squares) minimax fit of
GELU's absolute error, i.e. of the ratio Φ(-z)/exp(-z²/2) weighted by exp(-z²/2)·max(1, z);
k itself is the bounded scalar minimum of that error. Past z ≈ 14.4 the exp is 0 in float32.
"""
import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtr

DEGREE = 4  # of P: t·P(t) has five terms

_z = np.linspace(0, 14.5, 400001)
_e = np.exp(-_z * _z / 2)
_ratio = ndtr(-_z) / _e


def fit(k, iterations=60):
    t = 1 / (_z + k)
    v = np.stack([t ** (i + 1) for i in range(DEGREE + 1)], 1)
    sens = _e * np.maximum(1, _z)
    w = np.ones_like(_z)
    for _ in range(iterations):
        sw = np.sqrt(w) * sens
        c, *_ = np.linalg.lstsq(v * sw[:, None], _ratio * sw, rcond=None)
        err = np.abs((v @ c - _ratio) * sens)
        w = w * (err + 1e-30)
        w /= w.mean()
    return c, err.max()


def gelu32(x, k, coeffs):
    """GELU and Φ in float32, in the order chainrule evaluates them (coeffs: highest first)."""
    f = np.float32
    e = x * x * f(-0.5)
    with np.errstate(over="ignore", under="ignore"):
        e = np.exp(e)
    t = f(1) / (np.abs(x) + f(k))
    cs = [f(c) for c in coeffs]
    q = t * cs[0] + cs[1]
    for c in cs[2:]:
        q = q * t + c
    with np.errstate(under="ignore"):
        q = q * t * e
    phi = np.where(x >= 0, f(1) - q, q)
    return x * phi, phi


if __name__ == "__main__":
    k = float(np.float32(minimize_scalar(lambda k: fit(k, 40)[1], bounds=(2.2, 5.0),
                                         method="bounded", options={"xatol": 1e-5}).x))
    c, _ = fit(k, 80)  # (for k as float32 rounds it: the coefficients fit the k that runs)
    coeffs = [float(np.float32(v)) for v in c[::-1]]
    print("_PHI_K =", k)
    print("_PHI_T =", coeffs)
    x = np.linspace(-16, 16, 3200001).astype(np.float32)
    y, phi = gelu32(x, np.float32(k), coeffs)
    exact = ndtr(x.astype(np.float64))
    print(f"max |Φ error| {np.abs(phi - exact).max():.2e}, "
          f"max |GELU error| {np.abs(y.astype(np.float64) - x * exact).max():.2e}")
