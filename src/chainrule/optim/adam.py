"""Adam (and, through ``decoupled_weight_decay``, AdamW), with AMSGrad and maximize."""
from .._backend import xp
from .._tensor import Tensor
from .optimizer import (
    Optimizer,
    _scalar,
    check_lr,
    check_nonneg,
    flat_state,
    lerp_,
    sqrt,
    step_counter,
    zeros_state,
)

__all__ = ["Adam"]


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon")
        for i in (0, 1):
            if not 0.0 <= betas[i] < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
        check_nonneg(weight_decay, "weight_decay")
        if not (all(isinstance(b, float) for b in betas)
                or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        betas = tuple(map(_scalar, betas))
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                        "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                        "capturable": capturable, "differentiable": differentiable, "fused": fused,
                        "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _after_load(self):
        for g in self.param_groups:
            for k, v in (("amsgrad", False), ("maximize", False), ("foreach", None),
                         ("capturable", False), ("differentiable", False),
                         ("decoupled_weight_decay", False), ("fused", None)):
                g.setdefault(k, v)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            beta1, beta2 = map(_scalar, group["betas"])
            eps = group["eps"]
            wd = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            keys = _KEYS[amsgrad]
            fs = flat_state(self, group, keys)
            hyper = (lr, beta1, beta2, eps, wd, maximize, decoupled)
            if fs is not None:
                _flat_step(fs, keys, hyper)
                continue
            for p, g in self._params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = step_counter()
                    state["exp_avg"] = zeros_state(p)
                    state["exp_avg_sq"] = zeros_state(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_state(p)
                step_t = state["step"]._data
                step_t += 1
                x = p._data
                vmax = state["max_exp_avg_sq"]._data if amsgrad else None
                x += _update(x, g, state["exp_avg"]._data, state["exp_avg_sq"]._data, vmax,
                             float(step_t), hyper, sqrt)
                p._version[0] += 1
        return loss


_KEYS = {False: ("exp_avg", "exp_avg_sq"), True: ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")}


def _update(x, g, m, v, vmax, step, hyper, root):
    """One update of the arrays ``m``, ``v`` (``vmax``), in place, and of ``x`` where weight
    decay is decoupled; returns the step to add to ``x``. The per-parameter loop runs it on a
    parameter's arrays, the flat path on whole buffers: the same operations in the same order,
    so the same bits. ``root(v)``: the array that takes sqrt(v), made fresh or reused."""
    lr, beta1, beta2, eps, wd, maximize, decoupled = hyper
    if maximize:
        g = -g
    if wd != 0:
        if decoupled:
            x *= 1 - lr * wd
        else:
            g = g + wd * x
    lerp_(m, g, 1 - beta1)
    v *= beta2
    v += (1 - beta2) * g * g
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    denom = root(v)
    denom /= bias_correction2_sqrt
    denom += eps
    xp.divide(m, denom, out=denom)
    denom *= -(lr / bias_correction1)
    return denom


def _flat_step(fs, keys, hyper):
    """The update of a group whose parameters all have a gradient and share a step count,
    on flat buffers: a few whole-buffer passes, then one add (or copy) per parameter, or
    none where the parameters live on the group's flat buffer (FlatState.xs)."""
    params = fs.params
    steps = fs.steps
    steps += 1
    g = xp.concatenate([p._grad._data for p in params], axis=None, out=fs.scratch("grads")[0])
    x = None
    own = fs.params_flat()  # the parameters' arrays are views of fs.xs: updated in place
    if own:
        x = fs.xs
    elif hyper[4] != 0:  # weight decay reads the parameters: gathered, updated, written back
        x, x_views = fs.scratch("xs")
        xp.concatenate([p._data for p in params], axis=None, out=x)
    vmax = fs.bufs["max_exp_avg_sq"] if len(keys) > 2 else None
    work, work_views = fs.scratch("work")
    denom = _update(x, g, fs.bufs["exp_avg"], fs.bufs["exp_avg_sq"], vmax, float(steps[0]),
                    hyper, lambda v: xp.sqrt(v, out=work))
    if own:
        x += denom
        for p in params:
            p._version[0] += 1
    elif x is None:
        for p, d in zip(params, work_views):
            p._data += d
            p._version[0] += 1
    else:
        x += denom
        for p, xv in zip(params, x_views):
            xp.copyto(p._data, xv)
            p._version[0] += 1
