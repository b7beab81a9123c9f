"""Adagrad with learning-rate decay."""
from .._backend import xp
from .optimizer import Optimizer, _scalar, check_lr, check_nonneg, sqrt, step_counter, zeros_state

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        check_nonneg(lr_decay, "lr_decay")
        check_nonneg(weight_decay, "weight_decay")
        check_nonneg(initial_accumulator_value, "initial_accumulator_value")
        check_nonneg(eps, "epsilon")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                        "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                        "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        # PyTorch creates Adagrad's state up front, so state_dict() has it before any step.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = step_counter()
        state["sum"] = zeros_state(p, group["initial_accumulator_value"])
        return state

    def _after_load(self):
        for g in self.param_groups:
            for k, v in (("foreach", None), ("maximize", False), ("differentiable", False),
                         ("fused", None)):
                g.setdefault(k, v)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = _scalar(group["lr"])
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            wd = group["weight_decay"]
            maximize = group["maximize"]
            for p, g in self._params_with_grad(group):
                state = self.state[p] or self._init_state(p, group)
                step_t = state["step"]._data
                step_t += 1
                x = p._data
                if maximize:
                    g = -g
                if wd != 0:
                    g = g + wd * x
                clr = lr / (1 + (float(step_t) - 1) * lr_decay)
                s = state["sum"]._data
                s += g * g
                std = sqrt(s)
                std += eps
                xp.divide(g, std, out=std)
                std *= -clr
                x += std
                p._version[0] += 1
        return loss
