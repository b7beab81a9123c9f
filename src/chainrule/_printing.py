"""repr/str of tensors, exactly as PyTorch prints them (placeholder: scalars only)."""


def type_name(t):
    return "torch." + t.dtype._short + "Tensor"


def _fmt_scalar(v, kind):
    if kind == "f":
        if v == int(v) and abs(v) < 1e8:
            return f"{int(v)}."
        return f"{v:.4f}"
    if kind == "b":
        return "True" if v else "False"
    return str(v)


def tensor_repr(t):
    a = t._data
    body = _fmt_scalar(a.item(), a.dtype.kind) if a.ndim == 0 else str(a.tolist())
    suffix = ""
    if t.grad_fn is not None:
        suffix = f", grad_fn=<{t.grad_fn.name()}>"
    elif t._requires_grad:
        suffix = ", requires_grad=True"
    return f"tensor({body}{suffix})"
