"""RMSprop, optionally centered and with momentum."""
from .._backend import xp
from .optimizer import (
    Optimizer,
    _scalar,
    check_lr,
    check_nonneg,
    lerp_,
    sqrt,
    step_counter,
    zeros_state,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        check_nonneg(eps, "epsilon")
        check_nonneg(momentum, "momentum")
        check_nonneg(weight_decay, "weight_decay")
        check_nonneg(alpha, "alpha")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                        "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                        "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _after_load(self):
        for g in self.param_groups:
            for k, v in (("momentum", 0), ("centered", False), ("foreach", None),
                         ("maximize", False), ("differentiable", False), ("capturable", False)):
                g.setdefault(k, v)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            wd = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            maximize = group["maximize"]
            for p, g in self._params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = step_counter()
                    state["square_avg"] = zeros_state(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_state(p)
                    if centered:
                        state["grad_avg"] = zeros_state(p)
                state["step"]._data += 1
                x = p._data
                if maximize:
                    g = -g
                if wd != 0:
                    g = g + wd * x
                sq = state["square_avg"]._data
                sq *= alpha
                sq += (1 - alpha) * g * g
                if centered:
                    ga = state["grad_avg"]._data
                    lerp_(ga, g, 1 - alpha)
                    avg = xp.multiply(ga, ga, out=xp.empty_like(ga))
                    xp.subtract(sq, avg, out=avg)
                    xp.sqrt(avg, out=avg)
                else:
                    avg = sqrt(sq)
                avg += eps
                xp.divide(g, avg, out=avg)
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    buf += avg
                    x -= lr * buf
                else:
                    avg *= -lr
                    x += avg
                p._version[0] += 1
        return loss
