"""gradcheck / gradgradcheck: autograd's gradients against central finite differences.

Same signatures and failure messages as ``torch.autograd.gradcheck``. The numerical
Jacobian perturbs each input element by ±eps; the analytical one is built row by row from
vector-Jacobian products with one-hot ``grad_outputs``. Both are laid out as PyTorch's:
``J[input_index, output_index]``. Differs from PyTorch: the ``check_*`` options for
forward-mode AD, batched gradients, undefined gradients and ``fast_mode`` are accepted
but not run (chainrule has neither forward-mode AD nor vmap); ``nondet_tol`` bounds the
difference between two analytical evaluations (the reentrancy check).
"""
import warnings

from .._backend import xp
from .._tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck/gradgradcheck when the two Jacobians disagree."""


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _diff_inputs(inputs):
    return [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]


def _outputs(func, inputs):
    return _as_tuple(func(*inputs))


def _numerical(func, inputs, x, eps, keep):
    """d(outputs)/d(x) by central differences: one (x.numel, out.numel) array per output
    whose position is in ``keep``."""
    cols = None
    a = x._data
    # (not under no_grad: gradgradcheck's function calls autograd.grad itself)
    for r, idx in enumerate(xp.ndindex(a.shape)):
        orig = a[idx].item()
        a[idx] = orig + eps
        plus = _values(func, inputs, keep)
        a[idx] = orig - eps
        minus = _values(func, inputs, keep)
        a[idx] = orig
        if cols is None:
            cols = [xp.zeros((a.size, p.size)) for p in plus]
        for j, (p, m) in enumerate(zip(plus, minus)):
            cols[j][r] = (p - m) / (2 * eps)
    if cols is None:  # an empty input
        cols = [xp.zeros((0, p.size)) for p in _values(func, inputs, keep)]
    return cols


def _values(func, inputs, keep):
    outs = _outputs(func, inputs)
    return [outs[j]._data.astype(xp.float64).reshape(-1) for j in keep]


def _analytical(func, inputs, diff):
    """d(outputs)/d(inputs) from autograd, one vector-Jacobian product per output element.

    As in PyTorch, only outputs that require grad are checked (numbered among themselves).
    """
    from . import grad as autograd_grad

    all_outs = _outputs(func, inputs)
    keep = [j for j, o in enumerate(all_outs) if isinstance(o, Tensor) and o._requires_grad]
    outs = [all_outs[j] for j in keep]
    jac = {(i, j): xp.zeros((x._data.size, o._data.size)) for i, x in diff for j, o in enumerate(outs)}
    diff_t = [x for _, x in diff]
    for j, out in enumerate(outs):
        for k in range(out._data.size):
            onehot = xp.zeros(out._data.size, dtype=out._data.dtype)
            onehot[k] = 1
            gs = autograd_grad(out, diff_t, Tensor._make(onehot.reshape(out._data.shape)),
                               retain_graph=True, allow_unused=True)
            for (i, x), g in zip(diff, gs):
                if g is None:
                    continue
                if g._data.shape != x._data.shape:
                    raise GradcheckError(
                        f"Analytical gradient has incorrect size: got {list(g._data.shape)}, "
                        f"expected {list(x._data.shape)} (input {i})"
                    )
                jac[(i, j)][:, k] = g._data.reshape(-1)
    return keep, jac


def _show(arr):
    from .._printing import tensor_repr

    return tensor_repr(Tensor._make(arr))


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """True when autograd's Jacobian of ``func`` at ``inputs`` matches finite differences
    (``|analytical - numerical| <= atol + rtol * |numerical|``); otherwise raises
    ``GradcheckError`` showing both Jacobians (or returns False)."""
    inputs = _as_tuple(inputs)
    diff = _diff_inputs(inputs)
    if not diff:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True."
        )
    for i, x in diff:
        if x._data.dtype != xp.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or "
                "complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. ",
                UserWarning,
                stacklevel=2,
            )
    if not check_backward_ad:
        return True
    keep, analytical = _analytical(func, inputs, diff)
    if nondet_tol >= 0:
        _, again = _analytical(func, inputs, diff)
        for key, a in analytical.items():
            if a.size and xp.abs(a - again[key]).max() > nondet_tol:
                return _fail(
                    f"Backward is not reentrant, i.e., running backward with same input and "
                    f"grad_output multiple times gives different values, although analytical "
                    f"gradient matches numerical gradient.The tolerance for nondeterminism was "
                    f"{nondet_tol}.", raise_exception)
    if not keep:
        return True
    for i, x in diff:
        numerical = _numerical(func, inputs, x, eps, keep)
        for j, num in enumerate(numerical):
            ana = analytical[(i, j)]
            if not xp.allclose(ana, num, rtol=rtol, atol=atol):
                dt = x._data.dtype
                return _fail(
                    f"Jacobian mismatch for output {j} with respect to input {i},\n"
                    f"numerical:{_show(num.astype(dt))}\nanalytical:{_show(ana.astype(dt))}\n",
                    raise_exception,
                )
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the first derivatives: checks the second-order gradients of ``func``.

    ``grad_outputs`` default to random (seeded, so failures reproduce) and are checked as
    inputs too, as in PyTorch.
    """
    from . import grad as autograd_grad

    inputs = _as_tuple(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = xp.random.default_rng(0)
        grad_outputs = tuple(
            Tensor._make(rng.standard_normal(o._data.shape).astype(o._data.dtype), True)
            for o in outs if o._requires_grad
        )
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_derivatives(*args):
        ins, gos = args[:n_in], args[n_in:]
        diff_t = [x for _, x in _diff_inputs(ins)]
        outputs = [o for o in _outputs(func, ins) if o._requires_grad]
        grads = autograd_grad(outputs, diff_t, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_backward_ad=check_rev_over_rev)
