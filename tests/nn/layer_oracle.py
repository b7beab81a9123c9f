"""Module-level oracle for the nn layer tests: twin modules with the same weights, and a
forward + backward comparison over outputs, input gradients and every parameter gradient."""
import numpy as np
import torch
from oracle import assert_same

import chainrule


def twin(name, *args, **kwargs):
    """(chainrule module, torch module) of nn.<name>(*args, **kwargs), torch's weights copied."""
    torch.manual_seed(0)
    t = getattr(torch.nn, name)(*args, **kwargs)
    c = getattr(chainrule.nn, name)(*args, **kwargs)
    sd = {k: chainrule.tensor(v.detach().numpy().copy()) for k, v in t.state_dict().items()}
    c.load_state_dict(sd)
    return c, t


def _flat(out):
    """Nested tuples of results -> a flat list (None kept, e.g. MHA without weights)."""
    if isinstance(out, (tuple, list)):
        return [x for o in out for x in _flat(o)]
    return [out]


def _outputs(out):
    return [o for o in _flat(out) if o is not None]


def compare(c, t, *arrays, rtol=1e-4, atol=1e-5, grad=True, seed=0, call=None, **kwargs):
    """Run both modules on the same inputs; compare outputs, input and parameter grads."""
    rng = np.random.default_rng(seed)
    cin = [chainrule.tensor(a, requires_grad=a.dtype.kind == "f" and grad) for a in arrays]
    tin = [torch.tensor(a, requires_grad=a.dtype.kind == "f" and grad) for a in arrays]
    call = call or (lambda m, *xs: m(*xs, **kwargs))
    cout, tout = call(c, *cin), call(t, *tin)
    cflat, tflat = _flat(cout), _flat(tout)
    assert len(cflat) == len(tflat), f"{len(cflat)} outputs vs torch's {len(tflat)}"
    for i, (a, b) in enumerate(zip(cflat, tflat)):
        assert (a is None) == (b is None), f"output {i}: {a!r} vs {b!r}"
        if b is not None:
            assert_same(a, b, rtol, atol, f"forward[{i}]")
    if not grad:
        return cout, tout
    c_outs = [o for o in _outputs(cout) if o.requires_grad]
    t_outs = [o for o in _outputs(tout) if o.requires_grad]
    assert len(c_outs) == len(t_outs)
    ups = [rng.standard_normal(tuple(o.shape)).astype(np.float32) for o in t_outs]
    loss_c = sum((o * chainrule.tensor(u)).sum() for o, u in zip(c_outs, ups))
    loss_t = sum((o * torch.tensor(u)).sum() for o, u in zip(t_outs, ups))
    loss_c.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(zip(cin, tin)):
        if b.grad is not None:
            assert_same(a.grad, b.grad, rtol * 10, atol * 10, f"input grad {i}")
    cp = dict(c.named_parameters())
    for name, p in t.named_parameters():
        if p.grad is None:
            assert cp[name].grad is None or np.allclose(cp[name].grad.numpy(), 0), name
            continue
        assert cp[name].grad is not None, f"{name}: no gradient"
        assert_same(cp[name].grad, p.grad, rtol * 10, atol * 10, f"grad of {name}")
    return cout, tout
