"""The op registry, grouped by family. Importing this attaches every op to Tensor."""
import sys as _sys

from . import _core
from ._core import REGISTRY, Op
from .arithmetic import *
from .comparison import *
from .conversion import *
from .creation import *
from .extra_methods import *
from .indexing import *
from .inplace import *
from .linalg import *
from .linalg_decomp import *
from .misc import *
from .pointwise import *
from .reductions import *
from .shape import *
from .softmax import *
from .sorting import *
from .special import *

# What ``from chainrule.ops import *`` gives the package: the ops, never the family modules
# (some share a name with an op, e.g. softmax, so they are looked up in sys.modules).
__all__ = sorted({  # noqa: PLE0605  (built from the families' lists)
    name
    for family in ("arithmetic", "pointwise", "comparison", "reductions", "softmax", "linalg",
                   "shape", "indexing", "conversion", "creation", "inplace", "sorting", "misc",
                   "linalg_decomp", "special", "extra_methods")
    for name in _sys.modules[f"{__name__}.{family}"].__all__
})

# Every public op that declares ``out=`` honours it (written into ``out``, never ignored).
for _name in __all__:
    _fn = globals()[_name]
    if _core.takes_out(_fn):
        globals()[_name] = _core.with_out(_fn)
del _name, _fn
