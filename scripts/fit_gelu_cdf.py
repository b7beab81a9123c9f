"""Fit the erfc form behind float32 GELU's Φ: Φ(-z) = exp(-z²/2)·t·P(t), t = 1/(z + k),
z = |a|, P of degree 4: Abramowitz & Stegun's 7.1.26 shape, t = 1/(1 + p·z), with p folded
into P's coefficients (t = p·(1/(z + 1/p))), which saves the array pass that multiplies by p.

The library evaluates t·P(t) in monic form: with u = s·t and s⁵ the leading coefficient,
t·P(t) = u·(u·(u·(u·(u + d₁) + d₂) + d₃) + d₄), so u comes from the same division as t
(s/(z + k)) and neither the leading coefficient nor the final factor t costs a pass.

Run: python scripts/fit_gelu_cdf.py  (needs SciPy). It prints ``chainrule.ops.pointwise``'s
``_PHI_K``, ``_PHI_S`` and ``_PHI_D`` (d₁ … d₄) and the float32 errors of the library's own
evaluation order (GELU, Φ, and GELU's slope Φ + a·φ).

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


def monic(c):
    """(s, [d₁ … d₄]) of t·P(t) = u⁵ + d₁u⁴ + … + d₄u with u = s·t (c: P's, highest first)."""
    s = float(np.float32(np.sign(c[0]) * abs(c[0]) ** (1 / (DEGREE + 1))))
    return s, [float(np.float32(c[i] / s ** (DEGREE + 1 - i))) for i in range(1, DEGREE + 1)]


def gelu32(x, k, s, ds):
    """GELU, Φ and GELU's slope in float32, in the order chainrule evaluates them."""
    f = np.float32
    with np.errstate(over="ignore", under="ignore"):
        e = np.exp(x * x * f(-0.5))
        u = f(s) / (np.abs(x) + f(k))
        q = u + f(ds[0])
        for d in ds[1:]:
            q = q * u + f(d)
        q = q * u * e
    phi = np.where(x >= 0, f(1) - q, q)
    return x * phi, phi, e * x * f(1 / np.sqrt(2 * np.pi)) + phi


if __name__ == "__main__":
    k = float(np.float32(minimize_scalar(lambda k: fit(k, 40)[1], bounds=(2.2, 5.0),
                                         method="bounded", options={"xatol": 1e-5}).x))
    c, _ = fit(k, 80)  # (for k as float32 rounds it: the coefficients fit the k that runs)
    s, ds = monic(c[::-1])
    print("_PHI_K =", k)
    print("_PHI_S =", s)
    print("_PHI_D =", ds)
    x = np.linspace(-16, 16, 3200001).astype(np.float32)
    y, phi, slope = gelu32(x, np.float32(k), s, ds)
    x64 = x.astype(np.float64)
    exact = ndtr(x64)
    exact_slope = exact + x64 * np.exp(-x64 * x64 / 2) / np.sqrt(2 * np.pi)
    print(f"max |Φ error| {np.abs(phi - exact).max():.2e}, "
          f"max |GELU error| {np.abs(y - x64 * exact).max():.2e}, "
          f"max |slope error| {np.abs(slope - exact_slope).max():.2e}")
