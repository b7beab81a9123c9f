"""Smoke tests of the engine through the first ops (full families have their own files)."""
import numpy as np
from oracle import check, fd_check


def test_mul_add_broadcast_first_and_second_order(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32)
    check(lambda t, x, y: (x * y + x).exp().sum(0), a, b, rtol=1e-4)


def test_pow_div_sub_fd():
    fd_check(lambda t, x, y: (x - y) ** 2 / (y * y + 1), np.array([1.0, 2.0]), np.array([0.5, -1.0]))
