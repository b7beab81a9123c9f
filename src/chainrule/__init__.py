"""chainrule: autograd and neural networks over NumPy, with PyTorch's API.

``import chainrule as torch`` and PyTorch code runs unchanged.
"""
from . import (
    autograd,
    backends,
    cuda,
    func,
    linalg,
    nn,
    optim,
    random,
    special,
    utils,
)
from ._dtype import (
    bool_ as bool,
)
from ._dtype import (
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
from ._printing import set_printoptions
from ._runtime import (
    are_deterministic_algorithms_enabled,
    compile,
    get_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    set_num_threads,
    use_deterministic_algorithms,
)
from ._tensor import Size, Tensor, device
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .ops import *
from .ops.creation import default_generator
from .serialization import load, save

__version__ = "0.1.0"


def is_tensor(obj):
    return isinstance(obj, Tensor)


def result_type(tensor1, tensor2):
    from ._dtype import result_type as _rt

    return _rt(tensor1, tensor2)


from . import explain

