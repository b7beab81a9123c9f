"""chainrule.func: function transforms in the manner of torch.func (grad, vjp, jacrev, ...).

They compose: ``grad(grad(f))(x)`` is the second derivative. Each transform differentiates
with reverse mode; when its inputs already carry a graph (an enclosing transform is
differentiating through it) it keeps its own graph so the outer one can see through it.
``jacfwd`` is provided for compatibility and computes the same Jacobian by reverse mode.
"""
import functools

from ._tensor import Tensor
from .autograd import grad as _grad
from .autograd.grad_mode import enable_grad

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "vjp"]


def _argnums_tuple(argnums, nargs):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -nargs <= n < nargs:
            raise RuntimeError(
                f"Got argnums={argnums}, but only {nargs} positional inputs"
            )
    return tuple(n % nargs for n in nums)


def _track(x):
    """A differentiable stand-in for x; True when an outer transform is watching x."""
    if not isinstance(x, Tensor):
        raise TypeError(
            f"Expected argument to be a Tensor, got {type(x).__name__}"
        )
    if x.requires_grad:
        return x * 1, True
    return x.detach().requires_grad_(True), False


def _split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(
            f"{name}(f, ...)(*args): output of function f should be a tuple: (output, aux) "
            "if has_aux is True"
        )
    return out


def _detach_unless(x, keep):
    if keep or not isinstance(x, Tensor):
        return x
    return x.detach()


def grad_and_value(func, argnums=0, has_aux=False):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args))
        args = list(args)
        with enable_grad():
            outer = False
            for n in nums:
                args[n], watched = _track(args[n])
                outer = outer or watched
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "grad_and_value")
            if not isinstance(out, Tensor) or out.numel() != 1:
                raise RuntimeError(
                    "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                    f"tensor with {out.dim() if isinstance(out, Tensor) else 'no'} dims. Maybe "
                    "you wanted to use the vjp or jacrev APIs instead?"
                )
            inputs = [args[n] for n in nums]
            if out.requires_grad:
                gs = _grad(out, inputs, create_graph=outer, allow_unused=True)
            else:
                gs = (None,) * len(inputs)
            from . import zeros_like

            gs = tuple(
                zeros_like(x) if g is None else _detach_unless(g, outer) for g, x in zip(gs, inputs)
            )
        g = gs[0] if isinstance(argnums, int) else gs
        value = _detach_unless(out, outer)
        if has_aux:
            return g, (value, aux)
        return g, value

    return wrapper


def grad(func, argnums=0, has_aux=False):
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        if has_aux:
            return g, value[1]
        return g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """Returns (output, vjp_fn[, aux]); vjp_fn(cotangents) gives one gradient per primal."""
    with enable_grad():
        tracked = [_track(p) for p in primals]
        xs = [t for t, _ in tracked]
        outer = any(w for _, w in tracked)
        out, aux = _split_aux(func(*xs), has_aux, "vjp")

    def vjp_fn(*cotangents):
        outs = out if isinstance(out, tuple) else (out,)
        cts = cotangents if isinstance(out, tuple) else cotangents[:1]
        if len(cts) == 1 and isinstance(cts[0], tuple) and isinstance(out, tuple):
            cts = cts[0]
        with enable_grad():
            pairs = [(o, c) for o, c in zip(outs, cts) if o.requires_grad]
            from . import zeros_like

            if not pairs:
                return tuple(zeros_like(x) for x in xs)
            gs = _grad([o for o, _ in pairs], xs, [c for _, c in pairs], retain_graph=True,
                       create_graph=outer, allow_unused=True)
            return tuple(zeros_like(x) if g is None else _detach_unless(g, outer) for g, x in zip(gs, xs))

    result = out if outer else (
        tuple(o.detach() for o in out) if isinstance(out, tuple) else out.detach()
    )
    if has_aux:
        return result, vjp_fn, aux
    return result, vjp_fn


def jacrev(func, argnums=0, has_aux=False):
    @functools.wraps(func)
    def wrapper(*args):
        from .autograd.functional import jacobian

        nums = _argnums_tuple(argnums, len(args))
        aux_box = []

        def restricted(*diff):
            full = list(args)
            for n, d in zip(nums, diff):
                full[n] = d
            out, aux = _split_aux(func(*full), has_aux, "jacrev")
            aux_box.append(aux)
            return out

        outer = any(isinstance(args[n], Tensor) and args[n].requires_grad for n in nums)
        jac = jacobian(restricted, tuple(args[n] for n in nums), create_graph=outer)
        if isinstance(jac, tuple) and jac and isinstance(jac[0], tuple):
            jac = tuple(j if not isinstance(argnums, int) else j[0] for j in jac)
        elif isinstance(argnums, int):
            jac = jac[0]
        if has_aux:
            return jac, aux_box[-1]
        return jac

    return wrapper


jacfwd = jacrev


def hessian(func, argnums=0):
    return jacrev(jacrev(func, argnums), argnums)
