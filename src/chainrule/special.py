"""chainrule.special: the torch.special functions chainrule has (aliases of its ops)."""
from .ops import (
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    polygamma,
    round,
    sigmoid,
    sinc,
    softmax,
    xlogy,
)
from .ops import lgamma as gammaln

__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p",
           "log_softmax", "logit", "logsumexp", "polygamma", "psi", "round", "sinc", "softmax",
           "xlogy"]

expit = sigmoid
psi = digamma
