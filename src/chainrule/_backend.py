"""The one seam between chainrule and its array module.

Every op reaches arrays through ``xp``. Today that is NumPy; a GPU build swaps in
CuPy here (and only here), which mirrors NumPy's API.
"""
import warnings

import numpy as np

xp = np
ndarray = np.ndarray
# Whole-array minimum and maximum as the ufuncs' reductions (``amax(a, None)``): ``a.max()``
# reaches the same call through a Python-level wrapper, a frame more per check (~0.3 µs hot,
# more inside a training step, where each frame's code is fetched again).
amin = np.minimum.reduce
amax = np.maximum.reduce

# NumPy reports floating-point edge cases (log(0), x/0, overflow to inf) as RuntimeWarnings;
# PyTorch computes the same inf and nan silently. Ignore them where chainrule's own code made
# the NumPy call (a filter on chainrule's modules: the user's own NumPy calls still warn).
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"chainrule\.")


def _keep_freed_arrays():
    """glibc serves arrays above its adaptive mmap threshold with fresh mmaps and trims the
    heap top eagerly, so a training step that frees and reallocates its ~0.5-2 MB
    activations page-faults every one of them again (~400 faults, ~1.5 ms per tiny-transformer
    step). Keep freed blocks up to 32 MB in the heap for reuse instead. Skipped where the
    user tuned malloc through its environment variables, or off glibc."""
    import os
    import sys

    if not sys.platform.startswith("linux") or any(k.startswith("MALLOC_") for k in os.environ):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
    mallopt(-1, 32 << 20)  # M_TRIM_THRESHOLD


_keep_freed_arrays()
