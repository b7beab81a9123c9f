"""The one seam between chainrule and its array module.

Every op reaches arrays through ``xp``. Today that is NumPy; a GPU build swaps in
CuPy here (and only here), which mirrors NumPy's API.
"""
import numpy as np

xp = np
ndarray = np.ndarray


def asarray(x, dtype=None):
    """An ndarray (never a NumPy scalar: those are immutable and break in-place ops)."""
    a = xp.asarray(x, dtype=dtype)
    return a
