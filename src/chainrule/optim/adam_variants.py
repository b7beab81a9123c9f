"""RAdam, NAdam and Adamax: PyTorch's single-tensor (CPU) updates, in the same order of
floating-point operations, so trajectories match PyTorch's to rounding."""
from .._backend import xp
from .._tensor import Tensor
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

__all__ = ["Adamax", "NAdam", "RAdam"]


def _check(lr, betas, eps, weight_decay):
    check_lr(lr)
    check_nonneg(eps, "epsilon")
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    check_nonneg(weight_decay, "weight_decay")


class _Variant(Optimizer):
    _flags = ()  # (group key, default) pairs that older state dicts may lack

    def _after_load(self):
        for g in self.param_groups:
            for k, v in self._flags:
                g.setdefault(k, v)

    def _steps(self, group):
        """(param, grad, state, step) per parameter with a gradient, step counted."""
        for p, g in self._params_with_grad(group):
            state = self.state[p]
            if not state:
                self._init_state(p, state)
            step_t = state["step"]._data
            step_t += 1
            yield p, (-g if group["maximize"] else g), state, float(step_t)


class RAdam(_Variant):
    _flags = (("foreach", None), ("maximize", False), ("capturable", False),
              ("decoupled_weight_decay", False), ("differentiable", False))

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check(lr, betas, eps, weight_decay)
        super().__init__(params, {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay, "differentiable": differentiable,
        })

    def _init_state(self, p, state):
        state["step"] = step_counter()
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2) = _scalar(group["lr"]), map(_scalar, group["betas"])
            wd, eps = group["weight_decay"], group["eps"]
            rho_inf = 2 / (1 - beta2) - 1
            for p, g, state, step in self._steps(group):
                x = p._data
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                bc1, bc2 = 1 - beta1**step, 1 - beta2**step
                update = m / bc1 * lr
                rho_t = rho_inf - 2 * step * (beta2**step) / bc2
                if rho_t > 5.0:  # variance is tractable: rectified adaptive step
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    denom = sqrt(v)
                    denom += eps
                    update = update * (bc2**0.5 / denom) * rect
                x -= update
                p._version[0] += 1
        return loss


class NAdam(_Variant):
    _flags = (("foreach", None), ("maximize", False), ("capturable", False),
              ("decoupled_weight_decay", False), ("differentiable", False))

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        _check(lr, betas, eps, weight_decay)
        check_nonneg(momentum_decay, "momentum_decay")
        super().__init__(params, {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
            "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "differentiable": differentiable,
        })

    def _init_state(self, p, state):
        state["step"] = step_counter()
        state["mu_product"] = Tensor._make(xp.ones((), dtype=xp.float32))  # float32, as PyTorch
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2) = _scalar(group["lr"]), map(_scalar, group["betas"])
            wd, eps, psi = group["weight_decay"], group["eps"], group["momentum_decay"]
            for p, g, state, step in self._steps(group):
                x = p._data
                bc2 = 1 - beta2**step
                if wd != 0:
                    if group["decoupled_weight_decay"]:
                        x *= 1 - lr * wd
                    else:
                        g = g + wd * x
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
                mu_prod = state["mu_product"]._data
                mu_prod *= mu
                mu_product = float(mu_prod)
                m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                lerp_(m, g, 1 - beta1)
                v *= beta2
                v += (1 - beta2) * g * g
                denom = sqrt(v / bc2)
                denom += eps
                x += g / denom * (-lr * (1.0 - mu) / (1.0 - mu_product))
                x += m / denom * ((-lr * mu_next) / (1.0 - mu_product * mu_next))
                p._version[0] += 1
        return loss


class Adamax(_Variant):
    _flags = (("foreach", None), ("maximize", False), ("differentiable", False), ("capturable", False))

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None,
                 *, maximize=False, differentiable=False, capturable=False):
        _check(lr, betas, eps, weight_decay)
        super().__init__(params, {
            "lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "capturable": capturable,
        })

    def _init_state(self, p, state):
        state["step"] = step_counter()
        state["exp_avg"] = zeros_state(p)
        state["exp_inf"] = zeros_state(p)

    def step(self, closure=None):
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr, (beta1, beta2) = _scalar(group["lr"]), map(_scalar, group["betas"])
            wd, eps = group["weight_decay"], group["eps"]
            for p, g, state, step in self._steps(group):
                x = p._data
                if wd != 0:
                    g = g + wd * x
                m, u = state["exp_avg"]._data, state["exp_inf"]._data
                lerp_(m, g, 1 - beta1)
                u *= beta2
                xp.maximum(u, xp.abs(g) + eps, out=u)
                x += m / u * -(lr / (1 - beta1**step))
                p._version[0] += 1
        return loss
