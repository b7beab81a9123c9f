"""Functional higher-order derivatives (PyTorch's torch.autograd.functional).

Everything is built on reverse mode (``autograd.grad``): a Jacobian is one vector-Jacobian
product per output element; a Jacobian-vector product uses the double-vjp trick
(differentiate ``u -> vjp(u)`` with respect to ``u``), so no forward-mode rules are needed.
``vectorize`` is accepted for compatibility and has no effect.
"""
from .._tensor import Tensor
from .grad_mode import enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(x, arg_name, fn_name):
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return True, tuple(x)
    raise TypeError(
        f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
        f"the value at index 0 has type {type(x).__name__}."
    )


def _prepare(inputs, create_graph):
    # Fresh leaves, so the user's tensors get no .grad; under create_graph keep the graph.
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.view_as(t) if hasattr(t, "view_as") else t * 1)
        else:
            out.append(t.detach().requires_grad_(True))
    return tuple(out)


def _finish(xs, create_graph):
    return tuple(x if x is None or create_graph else x.detach() for x in xs)


def _grads(outputs, inputs, grad_outputs, create_graph, strict, kind):
    from .. import zeros_like
    from . import grad

    outs, gouts = [], []
    for o, g in zip(outputs, grad_outputs):
        if o.requires_grad:
            outs.append(o)
            gouts.append(g)
    if not outs:
        res = (None,) * len(inputs)
    else:
        res = grad(outs, inputs, gouts, retain_graph=True, create_graph=create_graph, allow_unused=True)
    final = []
    for i, (r, x) in enumerate(zip(res, inputs)):
        if r is None:
            if strict:
                raise RuntimeError(
                    f"The output of the user-provided function is independent of input {i}. "
                    "This is not allowed in strict mode."
                    if kind == "back"
                    else f"The gradient with respect to input {i} is independent of the inputs "
                    "of the user-provided function. This is not allowed in strict mode."
                )
            r = zeros_like(x)
        final.append(r)
    return tuple(final)


def _autograd_grad(*args, **kwargs):
    from . import grad  # late: autograd/__init__ imports this module

    return grad(*args, **kwargs)


def _default_v(outputs):
    from .. import ones_like

    for o in outputs:
        if o.numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element."
            )
    return tuple(ones_like(o) for o in outputs)


def _check_v(v, refs, what, fn_name):
    _, v = _as_tuple(v, "v", fn_name)
    if len(v) != len(refs):
        raise RuntimeError(
            f"The given v should contain a single Tensor per {what} of the function; got "
            f"{len(v)} for {len(refs)}."
        )
    for i, (a, b) in enumerate(zip(v, refs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(
                f"Entry {i} in the v is of size {list(a.shape)} while the {what} is of size "
                f"{list(b.shape)}."
            )
    return v


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    with enable_grad():
        is_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph)
        out = func(*inputs)
        out_tuple, outputs = _as_tuple(out, "outputs of the user-provided function", "vjp")
        v = _default_v(outputs) if v is None else _check_v(v, outputs, "output", "vjp")
        res = _grads(outputs, inputs, v, create_graph, strict, "back")
    outputs = _finish(outputs, create_graph)
    res = _finish(res, create_graph)
    return (outputs if out_tuple else outputs[0]), (res if is_tuple else res[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    from .. import zeros_like

    with enable_grad():
        _, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph)
        if v is None:
            if len(inputs) != 1 or inputs[0].numel() != 1:
                raise RuntimeError(
                    "The vector v can only be None if the input to the user-provided function "
                    "is a single Tensor with a single element."
                )
            from .. import ones_like

            v = (ones_like(inputs[0]),)
        else:
            v = _check_v(v, inputs, "input", "jvp")
        out = func(*inputs)
        out_tuple, outputs = _as_tuple(out, "outputs of the user-provided function", "jvp")
        # Double-vjp: g(u) = J^T u is linear in u, so d<g(u), v>/du = J v.
        us = tuple(zeros_like(o).requires_grad_(True) for o in outputs)
        gs = _grads(outputs, inputs, us, True, strict, "back")
        res = _grads(gs, us, v, create_graph, strict, "double")
    outputs = _finish(outputs, create_graph)
    res = _finish(res, create_graph)
    return (outputs if out_tuple else outputs[0]), (res if out_tuple else res[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    from .. import stack, zeros

    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    with enable_grad():
        is_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph)
        out = func(*inputs)
        out_tuple, outputs = _as_tuple(out, "outputs of the user-provided function", "jacobian")
        jac = []
        for i, o in enumerate(outputs):
            if strict and not o.requires_grad:
                raise RuntimeError(
                    f"Output {i} of the user-provided function does not require gradients. The "
                    "outputs must be computed in a differentiable manner from the input when "
                    "running in strict mode."
                )
            flat = o.reshape(-1)
            rows = [[] for _ in inputs]
            for k in range(flat.numel()):
                if flat.requires_grad:
                    gs = _autograd_grad(flat[k], inputs, retain_graph=True, create_graph=create_graph, allow_unused=True)
                else:
                    gs = (None,) * len(inputs)
                for j, (g, x) in enumerate(zip(gs, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {j}. This is not allowed in strict mode."
                            )
                        g = zeros(tuple(x.shape), dtype=x.dtype)
                    rows[j].append(g)
            per_input = []
            for j, x in enumerate(inputs):
                shape = tuple(o.shape) + tuple(x.shape)
                if rows[j]:
                    J = stack(rows[j]).reshape(shape)
                else:
                    J = zeros(shape, dtype=x.dtype)
                per_input.append(J if create_graph else J.detach())
            jac.append(tuple(per_input))
    if not out_tuple and not is_tuple:
        return jac[0][0]
    if not out_tuple:
        return jac[0]
    if not is_tuple:
        return tuple(j[0] for j in jac)
    return tuple(jac)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    is_tuple, tin = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs)
        _, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError(
                "The function given to hessian should return a single Tensor with a single element."
            )
        from .. import zeros_like
        from . import grad

        gs = grad(outs[0], xs, create_graph=True, allow_unused=True)
        return tuple(zeros_like(x) if g is None else g for x, g in zip(xs, gs))

    res = jacobian(gradient, tin, create_graph=create_graph, strict=strict)
    return res if is_tuple else res[0][0]


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    with enable_grad():
        is_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph)
        v = _check_v(v, inputs, "input", "vhp") if v is not None else None
        out = func(*inputs)
        _, outputs = _as_tuple(out, "outputs of the user-provided function", "vhp")
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(
                "The function given to vhp should return a single Tensor with a single element."
            )
        if v is None:
            v = _default_v(inputs)
        g = _grads(outputs, inputs, (None,), True, strict, "back")
        res = _grads(g, inputs, v, create_graph, strict, "double")
    return _finish(outputs, create_graph)[0], (_finish(res, create_graph) if is_tuple else _finish(res, create_graph)[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    # The Hessian of a scalar function is symmetric, so H v = (v^T H)^T.
    return vhp(func, inputs, v, create_graph, strict)
