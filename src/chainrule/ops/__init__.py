"""The op registry, grouped by family. Importing this attaches every op to Tensor."""
from ._core import REGISTRY, Op  # noqa: F401
from .arithmetic import *  # noqa: F401,F403
from .pointwise import *  # noqa: F401,F403
from .comparison import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .softmax import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .conversion import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .inplace import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .misc import *  # noqa: F401,F403

import sys as _sys  # noqa: E402

# What ``from chainrule.ops import *`` gives the package: the ops, never the family modules
# (some share a name with an op, e.g. softmax, so they are looked up in sys.modules).
__all__ = sorted({
    name
    for family in ("arithmetic", "pointwise", "comparison", "reductions", "softmax", "linalg",
                   "shape", "indexing", "conversion", "creation", "inplace", "sorting", "misc")
    for name in _sys.modules[f"{__name__}.{family}"].__all__
})
