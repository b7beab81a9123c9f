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
