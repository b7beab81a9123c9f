"""parameters_to_vector / vector_to_parameters (PyTorch's torch.nn.utils)."""
from ..._tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """One flat tensor (differentiable: a concatenation of the flattened parameters)."""
    from ...ops.shape import cat

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Make each parameter's data a view of its slice of ``vec`` (as PyTorch's ``.data =``)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    flat = vec._data.reshape(-1)
    pointer = 0
    for p in parameters:
        n = p._data.size
        p._data = flat[pointer:pointer + n].reshape(p._data.shape)
        pointer += n
