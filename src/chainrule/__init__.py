"""chainrule: autograd and neural networks over NumPy, with PyTorch's API.

``import chainrule as torch`` and PyTorch code runs unchanged.
"""
from ._dtype import (  # noqa: F401
    bool_ as bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from ._tensor import Size, Tensor, device  # noqa: F401
from . import autograd  # noqa: F401
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .ops import *  # noqa: F401,F403
from . import linalg  # noqa: F401  (chainrule.linalg, not the ops family of the same name)
from . import backends, cuda, random  # noqa: F401  (a CPU build: no CUDA, cuDNN or MPS)
from ._runtime import (  # noqa: F401
    are_deterministic_algorithms_enabled,
    compile,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_num_threads,
    use_deterministic_algorithms,
)
from .ops.creation import default_generator  # noqa: F401
from ._printing import set_printoptions  # noqa: F401
from . import nn  # noqa: F401
from . import func, utils  # noqa: F401
from . import optim  # noqa: F401
from .serialization import load, save  # noqa: F401

__version__ = "0.1.0"


def is_tensor(obj):
    return isinstance(obj, Tensor)


def result_type(tensor1, tensor2):
    from ._dtype import result_type as _rt

    return _rt(tensor1, tensor2)


from . import explain  # noqa: E402,F401  (a callable package: chainrule.explain(loss))

