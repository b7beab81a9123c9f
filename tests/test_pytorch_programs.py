"""Drop-in audit: short, realistic PyTorch programs run unchanged with ``torch`` bound to
PyTorch and to chainrule. Each program returns what it computed and prints what a
tutorial would print; both must agree (printed text exactly, tensors by dtype, shape and
value). Data come from NumPy so the two runs see the same numbers; where a program draws
from the library's own generator (``manual_seed``), only structure is compared."""
import contextlib
import io
import math
import re

import numpy as np
import pytest
import torch as real_torch

import chainrule

LIBS = {"torch": real_torch, "chainrule": chainrule}


def _plain(x, lib):
    """Something comparable across libraries: tensors become (dtype, shape, array)."""
    if isinstance(x, lib.Tensor):
        return ("T", str(x.dtype), tuple(x.shape), x.detach().numpy().copy())
    if isinstance(x, lib.Size):
        return ("Size", tuple(x))
    if isinstance(x, dict):
        return {k: _plain(v, lib) for k, v in x.items()}
    if type(x).__module__ == "torch.return_types":  # (values, indices) named tuples
        return ("NT", type(x).__name__, [_plain(v, lib) for v in x], str(x).split("(")[0])
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v, lib) for v in x)
    if isinstance(x, lib.dtype):
        return ("dtype", str(x))
    return x


def _same(c, t, path="out", rtol=1e-5, atol=1e-6):
    if isinstance(t, tuple) and t[:1] == ("T",):
        assert isinstance(c, tuple) and c[:1] == ("T",), f"{path}: {c!r} is not a tensor"
        assert c[1] == t[1], f"{path}: dtype {c[1]} vs {t[1]}"
        assert c[2] == t[2], f"{path}: shape {c[2]} vs {t[2]}"
        np.testing.assert_allclose(c[3], t[3], rtol=rtol, atol=atol, equal_nan=True, err_msg=path)
    elif isinstance(t, dict):
        assert isinstance(c, dict) and list(c) == list(t), f"{path}: keys {list(c)} vs {list(t)}"
        for k in t:
            _same(c[k], t[k], f"{path}[{k!r}]", rtol, atol)
    elif isinstance(t, (list, tuple)):
        assert type(c) is type(t) and len(c) == len(t), f"{path}: {c!r} vs {t!r}"
        for i, (a, b) in enumerate(zip(c, t)):
            _same(a, b, f"{path}[{i}]", rtol, atol)
    elif isinstance(t, float):
        assert isinstance(c, float), f"{path}: {c!r} ({type(c).__name__}) vs float {t!r}"
        np.testing.assert_allclose(c, t, rtol=rtol, atol=atol, err_msg=path)
    else:
        assert type(c) is type(t) and c == t, f"{path}: {c!r} vs {t!r}"


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def _decimals(number):
    return len(number.split(".")[1].split("e")[0]) if "." in number else 0


def _same_text(c_text, t_text, rtol, atol):
    """Printed text must match character for character, except that a printed number may
    differ from PyTorch's by its rounding: float32 sums round differently on different CPUs
    (BLAS picks its kernel by CPU), and a 6-decimal print can land on either side."""
    msg = f"printed text differs:\n--- chainrule\n{c_text}\n--- torch\n{t_text}"
    c_parts, t_parts = _NUMBER.split(c_text), _NUMBER.split(t_text)
    assert c_parts == t_parts, msg  # the words, spaces and layout are exact
    for a, b in zip(_NUMBER.findall(c_text), _NUMBER.findall(t_text)):
        if a == b:
            continue
        decimals = _decimals(b)
        assert decimals and _decimals(a) == decimals, msg  # integers and formats are exact
        unit = 10.0 ** -decimals * (10.0 ** int(b.split("e")[1]) if "e" in b else 1)
        assert abs(float(a) - float(b)) <= unit + atol + rtol * abs(float(b)), msg


def run_both(program, *args, printed=True, rtol=1e-5, atol=1e-6):
    """Run ``program(lib, *args)`` with each library; compare its results and its stdout."""
    outs = {}
    for name, lib in LIBS.items():
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            res = program(lib, *args)
        outs[name] = (_plain(res, lib), buf.getvalue())
    (c, c_text), (t, t_text) = outs["chainrule"], outs["torch"]
    if printed:
        _same_text(c_text, t_text, rtol, atol)
    _same(c, t, rtol=rtol, atol=atol)
    return outs


def data(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ---- tensor basics tutorial ---------------------------------------------------------------
def prog_tensor_basics(torch):
    d = [[1, 2], [3, 4]]
    x_data = torch.tensor(d)
    np_array = np.array(d)
    x_np = torch.from_numpy(np_array)
    x_ones = torch.ones_like(x_data)
    x_rand = torch.zeros_like(x_data, dtype=torch.float)
    print(f"Ones Tensor: \n {x_ones} \n")
    print(f"Zeros Tensor: \n {x_rand} \n")
    shape = (2, 3,)
    ones = torch.ones(shape)
    zeros = torch.zeros(shape)
    print(f"Ones Tensor: \n {ones} \n")
    print(f"Zeros Tensor: \n {zeros}")
    tensor = torch.tensor(data(3, 4))
    print(f"Shape of tensor: {tensor.shape}")
    print(f"Datatype of tensor: {tensor.dtype}")
    print(f"Device tensor is stored on: {tensor.device}")
    t = torch.ones(4, 4)
    print(f"First row: {t[0]}")
    print(f"First column: {t[:, 0]}")
    print(f"Last column: {t[..., -1]}")
    t[:, 1] = 0
    print(t)
    t1 = torch.cat([t, t, t], dim=1)
    print(t1)
    y1 = t @ t.T
    y2 = t.matmul(t.T)
    y3 = torch.rand_like(y1)
    y3.copy_(torch.matmul(t, t.T))  # (the tutorial's out= form is ignored by chainrule: reported)
    z1 = t * t
    z2 = t.mul(t)
    agg = t.sum()
    agg_item = agg.item()
    print(agg_item, type(agg_item))
    print(f"{t} \n")
    t.add_(5)
    print(t)
    n = t.numpy()
    print(f"n: {n}")
    t.add_(1)
    print(f"t: {t}")
    print(f"n: {n}")
    n2 = np.ones(5)
    t2 = torch.from_numpy(n2)
    np.add(n2, 1, out=n2)
    print(f"t: {t2}")
    return [x_data, x_np, y1, y2, y3, z1, z2, agg, t1, t2, x_np.dtype, tensor]


def test_tensor_basics_tutorial():
    run_both(prog_tensor_basics)


def prog_reprs(torch):
    vals = [
        torch.tensor([1.5, -2.25, 3.0]),
        torch.tensor([1, 2, 3]),
        torch.tensor([True, False]),
        torch.tensor([1.0, 2.0], dtype=torch.float64),
        torch.tensor([0.5, 1.0], dtype=torch.float16),
        torch.tensor([1, 2], dtype=torch.int32),
        torch.tensor([1, 2], dtype=torch.uint8),
        torch.tensor(3.5),
        torch.tensor(7),
        torch.zeros(0),
        torch.zeros(2, 0),
        torch.tensor([[1e-8, 1.0], [100.0, 1e5]]),
        torch.tensor([1e10, 1.0]),
        torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0]),
        torch.arange(2000.0),
        torch.arange(24).reshape(2, 3, 4),
        torch.tensor([1.0, 2.0], requires_grad=True),
        torch.tensor([1.0, 2.0], requires_grad=True) * 2,
        torch.tensor([0.1, 0.25], dtype=torch.float64) + 1,
    ]
    for v in vals:
        print(repr(v))
        print(v)
        print(f"{v}")
        print(str(v.dtype), v.shape, v.size(), v.dim(), v.numel())
    print(f"{torch.tensor(2.5).item():.3f}", f"{torch.tensor(2.5):.2f}")
    print(torch.float32, torch.int64, torch.bool, torch.float, torch.long, torch.double)
    return [str(v) for v in vals]


def test_reprs_of_many_dtypes():
    run_both(prog_reprs)


def prog_indexing_joining(torch):
    x = torch.tensor(data(4, 5))
    idx = torch.tensor([0, 2])
    mask = x > 0
    out = {
        "row": x[1], "col": x[:, 2], "slice": x[1:3, ::2], "neg": x[-1, -2:],
        "idx": x[idx], "idx2": x[idx, 1], "mask": x[mask], "none": x[..., None],
        "none0": x[None], "ell": x[..., 1], "list": x[[0, 3]], "bool_row": x[torch.tensor([True, False, True, False])],
        "stack0": torch.stack([x, x]), "stack1": torch.stack([x[0], x[1]], dim=1),
        "cat": torch.cat((x, x), 0), "chunk": x.chunk(2, dim=1), "split": x.split(2),
        "split_list": torch.split(x, [1, 3]), "unbind": x.unbind(0),
        "where": torch.where(mask, x, torch.zeros_like(x)), "where_s": torch.where(x > 0, x, 0.0),
        "nonzero": mask.nonzero(), "nonzero_t": torch.nonzero(mask, as_tuple=True),
        "gather": x.gather(1, torch.tensor([[0], [1], [2], [3]])),
        "masked_fill": x.masked_fill(~mask, -1.0),
        "and": (x > 0) & (x < 1), "or": (x < -1) | (x > 1), "not": ~mask,
        "xor": mask ^ (x < 0.5),
    }
    x[mask] = 0.0
    x[0, 0] = 10
    x[idx] = 3.0
    out["after_setitem"] = x
    rows = [row.sum() for row in x]
    out["rows"] = rows
    out["len"] = len(x)
    out["shape0"] = x.shape[0]
    print(x.shape, x.size(1), x.shape[-1], len(x))
    return out


def test_indexing_slicing_joining():
    run_both(prog_indexing_joining)


def prog_tensor_methods(torch):
    a = torch.tensor(data(2, 3, 4))
    out = {
        "item": a[0, 0, 0].item(), "tolist": a[0].tolist(), "view": a.view(-1), "view2": a.view(6, -1),
        "permute": a.permute(2, 0, 1), "contig": a.permute(2, 0, 1).contiguous().is_contiguous(),
        "is_contig": a.permute(2, 0, 1).is_contiguous(), "unsq": a.unsqueeze(1).shape,
        "sq": a[:, :1].squeeze(), "sq1": a[:, :1].squeeze(1), "expand": a[:, :1].expand(2, 5, 4),
        "expand_m1": a[:, :1].expand(-1, 3, -1), "repeat": a.repeat(2, 1, 1), "ri": a.repeat_interleave(2, dim=0),
        "where": a.where(a > 0, torch.tensor(0.0)), "clamp": a.clamp(-0.5, 0.5), "clamp_min": a.clamp(min=0),
        "argmax": a.argmax(dim=1), "argmax_all": a.argmax(), "topk": a.topk(2, dim=-1), "sort": a.sort(dim=1, descending=True),
        "cumsum": a.cumsum(dim=2), "norm": a.norm(), "norm_dim": a.norm(dim=1), "norm_p1": a.norm(p=1, dim=-1),
        "to": a.to(torch.float64), "to_int": a.to(dtype=torch.int32), "type_as": torch.tensor([1, 2]).type_as(a),
        "new_zeros": a.new_zeros(2, 2), "new_ones": a.new_ones((3,)), "new_full": a.new_full((2,), 7.0),
        "new_tensor": a.new_tensor([1, 2]),
        "float": torch.tensor([1, 2]).float(), "long": a.long(), "bool": a.bool(), "int": a.int(), "double": a.double(),
        "half": a.half(), "any": (a > 2).any(), "all": (a > -5).all(), "any_dim": (a > 1).any(dim=1),
        "numel": a.numel(), "size": a.size(), "size1": a.size(-1), "dim": a.dim(), "ndim": a.ndim,
        "t": a[0].t(), "T": a[0].T, "mT": a.mT, "flatten": a.flatten(), "flatten1": a.flatten(1),
        "max": a.max(), "max_dim": a.max(dim=1), "min_dim": a.min(1, keepdim=True), "max_ab": torch.max(a, -a),
        "mean": a.mean(), "mean_d": a.mean(dim=(0, 2)), "std": a.std(), "var": a.var(dim=1, unbiased=False),
        "std_corr": a.std(dim=0, correction=0), "lse": torch.logsumexp(a, dim=-1), "sm": torch.softmax(a, dim=-1),
        "sum_kd": a.sum(dim=-1, keepdim=True), "abs": torch.abs(a), "prod": a.prod(dim=2),
        "einsum": torch.einsum("bij,bkj->bik", a, a), "bmm": torch.bmm(a, a.transpose(1, 2)),
        "matmul": a @ a[0].T, "reshape": a.reshape(4, -1), "narrow": a.narrow(2, 1, 2),
        "roll": a.roll(1, dims=2), "flip": a.flip(0), "diag": torch.diag(a[0, :, :3]),
        "eq": a.eq(a).sum(), "ne": (a != 0).sum().item(), "sign": a.sign(), "round": (a * 10).round() / 10,
        "allclose": torch.allclose(a, a + 1e-9), "equal": torch.equal(a, a.clone()), "isclose": torch.isclose(a, a + 1e-3),
        "exp": a.exp(), "log": a.abs().log(), "sqrt": a.abs().sqrt(), "pow": a.pow(2), "rpow": 2 ** a,
        "sigmoid": a.sigmoid(), "tanh": a.tanh(), "relu": a.relu(), "floor": a.floor(), "frac": a.frac(),
        "masked_fill_": a.clone().masked_fill_(a > 0, 1.0), "tril": a[0].tril(), "triu": torch.triu(a[0], 1),
        "count_nonzero": torch.count_nonzero(a > 0), "unique": torch.unique(torch.tensor([3, 1, 3, 2])),
        "argsort": a[0, 0].argsort(), "kth": a.kthvalue(2, dim=-1), "median": a.median(),
        "mean_int_err": _raises(lambda: torch.tensor([1, 2]).mean()),
        "unflatten": a.unflatten(2, (2, 2)), "movedim": a.movedim(0, -1), "swap": a.swapaxes(0, 1),
        "outer": torch.outer(a[0, 0], a[0, 1]), "dot": torch.dot(a[0, 0], a[0, 1]), "mv": a[0].mv(a[0, 0]),
        "mm": a[0].mm(a[0].T), "tile": a[0, 0].tile(2), "index_select": a.index_select(1, torch.tensor([2, 0])),
        "take": a.take(torch.tensor([0, 5, 23])), "cumprod": a[0].cumprod(dim=0), "amax": a.amax(dim=(1, 2)),
    }
    return out


def _raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the class and wording are what is compared
        return (type(e).__name__, str(e).split("\n")[0])
    return "no error"


def test_common_tensor_methods():
    run_both(prog_tensor_methods)


def prog_inplace(torch):
    a = torch.tensor(data(3, 4))
    b = a.clone()
    b.zero_()
    c = torch.empty(3, 4).fill_(2.5)
    d = torch.zeros(3, 4).copy_(a)
    e = a.clone()
    e.mul_(2).add_(1).clamp_(-1, 1).sub_(0.5).div_(2)
    f = a.clone()
    f[f < 0] = 0
    g = a.clone()
    g.masked_fill_(g > 0.5, 9.0)
    h = torch.arange(6).view(2, 3)
    h += 1
    h *= 2
    v = a.clone()
    view = v[0]
    view.fill_(3.0)
    i = torch.zeros(5, dtype=torch.long)
    i.copy_(torch.tensor([1.7, 2.2, 3.9, -1.5, 0.0]))
    u = torch.empty(100).uniform_(-2, 2)
    n = torch.empty(100).normal_(1.0, 0.1)
    bern = torch.full((50,), 0.5).bernoulli()
    return {"b": b, "c": c, "d": d, "e": e, "f": f, "g": g, "h": h, "v": v, "i": i,
            "u": (u.shape, u.dtype, bool(((u >= -2) & (u < 2)).all())),
            "n": (n.shape, n.dtype), "bern": (bern.shape, bern.dtype, bool(((bern == 0) | (bern == 1)).all()))}


def test_inplace_and_random_fills():
    run_both(prog_inplace)


# ---- autograd tutorial ----------------------------------------------------------------------
def prog_autograd(torch):
    x = torch.ones(5)
    y = torch.zeros(3)
    w = torch.tensor(data(5, 3), requires_grad=True)
    b = torch.tensor(data(3, seed=1), requires_grad=True)
    z = torch.matmul(x, w) + b
    loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
    print(f"Gradient function for z = {z.grad_fn}".split(" object")[0])
    print(f"Gradient function for loss = {loss.grad_fn}".split(" object")[0])
    print(z.grad_fn.name(), loss.grad_fn.name(), w.is_leaf, z.is_leaf, z.requires_grad)
    loss.backward()
    g1 = (w.grad.clone(), b.grad.clone())
    z = torch.matmul(x, w) + b
    print(z.requires_grad)
    with torch.no_grad():
        z = torch.matmul(x, w) + b
    print(z.requires_grad)
    z_det = (torch.matmul(x, w) + b).detach()
    print(z_det.requires_grad, z_det.is_leaf, z_det.grad_fn)
    inp = torch.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"First call\n{inp.grad}")
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")
    # vector-Jacobian product, the classic y = x * 2 until norm > 1000
    xs = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    ys = xs * 2
    while ys.data.norm() < 1000:
        ys = ys * 2
    v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
    ys.backward(v)
    print(xs.grad)
    # requires_grad_ / grad of non-leaf with retain_grad
    a = torch.tensor(data(3), requires_grad=False)
    a.requires_grad_()
    h = a.exp()
    h.retain_grad()
    h.sum().backward()
    # torch.autograd.grad with create_graph: second derivative of x^3
    s = torch.tensor(2.0, requires_grad=True)
    (d1,) = torch.autograd.grad(s ** 3, s, create_graph=True)
    (d2,) = torch.autograd.grad(d1, s)
    print(d1, d2)
    return [g1, inp.grad, xs.grad, a.grad, h.grad, d1.detach(), d2]


def test_autograd_tutorial():
    run_both(prog_autograd)


def prog_grad_modes(torch):
    x = torch.tensor(data(3), requires_grad=True)

    @torch.no_grad()
    def infer(t):
        return t * 2

    @torch.enable_grad()
    def train_step(t):
        return t * 2

    with torch.no_grad():
        r1 = train_step(x).requires_grad
    r2 = infer(x).requires_grad
    with torch.set_grad_enabled(False):
        r3 = (x * 2).requires_grad
    torch.set_grad_enabled(True)
    r4 = (x * 2).requires_grad
    is_train = False
    with torch.set_grad_enabled(is_train):
        r5 = (x * 2).requires_grad
    with torch.inference_mode():
        r6 = (x * 2).requires_grad
    print(r1, r2, r3, r4, r5, r6, torch.is_grad_enabled())
    return [r1, r2, r3, r4, r5, r6]


def test_no_grad_decorators_and_grad_modes():
    run_both(prog_grad_modes)


def prog_linear_regression(torch):
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.standard_normal((64, 3)).astype(np.float32))
    true_w = torch.tensor([[2.0], [-3.4], [1.0]])
    y = X @ true_w + 4.2 + 0.01 * torch.tensor(rng.standard_normal((64, 1)).astype(np.float32))
    w = torch.zeros(3, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    lr = 0.1
    losses = []
    for epoch in range(30):
        y_hat = X @ w + b
        loss = ((y_hat - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
        losses.append(loss.item())
        if epoch % 10 == 0:
            print(f"epoch {epoch + 1}, loss {loss.item():.4f}")
    print(f"w: {w.reshape(-1)}, b: {b}")
    return [w, b, losses]


def test_linear_regression_manual_updates():
    run_both(prog_linear_regression, rtol=1e-4, atol=1e-5)


# ---- nn programs ------------------------------------------------------------------------------
def _copy_weights(model, lib, seed=0):
    """Give a freshly built model deterministic weights (the libraries' inits differ)."""
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor((0.3 * rng.standard_normal(tuple(p.shape))).astype(np.float32)))


def prog_mlp_training(torch):
    nn = torch.nn
    DataLoader, Dataset = torch.utils.data.DataLoader, torch.utils.data.Dataset
    TensorDataset = torch.utils.data.TensorDataset

    class Blobs(Dataset):
        def __init__(self, n, seed):
            rng = np.random.default_rng(seed)
            self.y = rng.integers(0, 3, n)
            self.x = (rng.standard_normal((n, 4)) + self.y[:, None] * 1.5).astype(np.float32)

        def __len__(self):
            return len(self.y)

        def __getitem__(self, i):
            return torch.tensor(self.x[i]), torch.tensor(self.y[i])

    class NeuralNetwork(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.linear_relu_stack = nn.Sequential(
                nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3),
            )

        def forward(self, x):
            return self.linear_relu_stack(self.flatten(x))

    model = NeuralNetwork()
    _copy_weights(model, torch)
    print(model)
    for name, param in model.named_parameters():
        print(f"Layer: {name} | Size: {param.size()} | requires_grad: {param.requires_grad}")
    train = DataLoader(Blobs(96, 0), batch_size=16, shuffle=False)
    rng = np.random.default_rng(1)
    test_x = torch.tensor(rng.standard_normal((40, 4)).astype(np.float32))
    test_y = torch.tensor(rng.integers(0, 3, 40))
    test = DataLoader(TensorDataset(test_x, test_y), batch_size=10)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    print(optimizer)
    history = []
    for epoch in range(3):
        model.train()
        for batch, (X, y) in enumerate(train):
            pred = model(X)
            loss = loss_fn(pred, y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            if batch % 3 == 0:
                print(f"loss: {loss.item():>7f}  [{(batch + 1) * len(X):>5d}/{len(train.dataset):>5d}]")
        model.eval()
        test_loss, correct = 0, 0
        with torch.no_grad():
            for X, y in test:
                pred = model(X)
                test_loss += loss_fn(pred, y).item()
                correct += (pred.argmax(1) == y).type(torch.float).sum().item()
        test_loss /= len(test)
        correct /= len(test.dataset)
        print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
        history.append((test_loss, correct))
    print(len(train), len(test), model.training)
    return [history, dict(model.state_dict())]


def test_mlp_module_optim_dataloader_loop():
    run_both(prog_mlp_training, rtol=1e-4, atol=1e-5)


def prog_cnn_forward(torch):
    nn = torch.nn
    F = nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 6, 5)
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 5 * 5, 32)
            self.fc2 = nn.Linear(32, 10)
            self.bn = nn.BatchNorm1d(32)
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            x = self.pool(F.relu(self.conv1(x)))
            x = self.pool(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            x = self.drop(F.relu(self.bn(self.fc1(x))))
            return self.fc2(x)

    net = Net()
    _copy_weights(net, torch)
    print(net)
    images = torch.tensor(data(4, 3, 32, 32))
    labels = torch.tensor([1, 0, 9, 3])
    net.eval()
    out_eval = net(images)
    net.train()
    net.drop.eval()  # batch statistics on, dropout's random mask off
    out = net(images)
    loss = F.cross_entropy(out, labels)
    loss.backward()
    v = net.conv2(net.pool(F.relu(net.conv1(images)))).view(4, -1)
    _, predicted = torch.max(out_eval, 1)
    print(predicted, out.shape, v.shape, net.bn.running_mean.shape, net.bn.num_batches_tracked)
    n_params = sum(p.numel() for p in net.parameters() if p.requires_grad)
    print(n_params)
    return [out_eval, loss, net.conv1.weight.grad, net.fc1.bias.grad, net.bn.running_var, predicted]


def test_cnn_forward_backward_with_view_flatten():
    run_both(prog_cnn_forward, rtol=1e-4, atol=1e-5)


def prog_lstm_classifier(torch):
    nn = torch.nn

    class SeqClassifier(nn.Module):
        def __init__(self, vocab, emb, hidden, classes):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
            self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True, bidirectional=True)
            self.rnn = nn.GRU(emb, hidden, batch_first=True)
            self.fc = nn.Linear(2 * hidden + hidden, classes)

        def forward(self, tokens):
            e = self.embedding(tokens)
            out, (h, c) = self.lstm(e)
            _, h_gru = self.rnn(e)
            feats = torch.cat([out[:, -1, :], h_gru[-1]], dim=1)
            return self.fc(feats), h.shape, c.shape

    model = SeqClassifier(20, 8, 6, 3)
    _copy_weights(model, torch)
    print(model)
    tokens = torch.tensor(np.random.default_rng(0).integers(0, 20, (5, 7)))
    logits, hs, cs = model(tokens)
    loss = nn.CrossEntropyLoss()(logits, torch.tensor([0, 1, 2, 1, 0]))
    loss.backward()
    rnn = nn.RNN(4, 5, nonlinearity="tanh")
    _copy_weights(rnn, torch)
    seq = torch.tensor(data(6, 2, 4))
    h0 = torch.zeros(1, 2, 5)
    ro, rh = rnn(seq, h0)
    lstm = nn.LSTM(4, 5)  # step by step, as a cell loop would (nn.LSTMCell is missing: reported)
    _copy_weights(lstm, torch)
    hx, cx = torch.zeros(1, 2, 5), torch.zeros(1, 2, 5)
    outs = []
    for t in range(seq.size(0)):
        o, (hx, cx) = lstm(seq[t:t + 1], (hx, cx))
        outs.append(o[0])
    print(hs, cs, ro.shape, len(outs))
    return [logits, loss, model.lstm.weight_hh_l1_reverse.grad, model.embedding.weight.grad, ro, rh,
            torch.stack(outs, dim=0)]


def test_rnn_lstm_sequence_classifier():
    run_both(prog_lstm_classifier, rtol=1e-4, atol=1e-5)


def prog_attention_by_hand(torch):
    F = torch.nn.functional
    B, T, C, H = 2, 5, 8, 2
    x = torch.tensor(data(B, T, C), requires_grad=True)
    Wqkv = torch.tensor(data(C, 3 * C, seed=1) * 0.3, requires_grad=True)
    q, k, v = (x @ Wqkv).split(C, dim=2)
    q = q.view(B, T, H, C // H).transpose(1, 2)
    k = k.view(B, T, H, C // H).transpose(1, 2)
    v = v.view(B, T, H, C // H).transpose(1, 2)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
    mask = torch.tril(torch.ones(T, T)).view(1, 1, T, T)
    att = att.masked_fill(mask[:, :, :T, :T] == 0, float("-inf"))
    att = F.softmax(att, dim=-1)
    y = att @ v
    y = y.transpose(1, 2).contiguous().view(B, T, C)
    sdpa = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
    y.pow(2).sum().backward()
    print(att.shape, y.grad_fn.name(), torch.allclose(y, sdpa, atol=1e-6))
    return [y, att, x.grad, Wqkv.grad, sdpa]


def test_hand_written_causal_attention():
    run_both(prog_attention_by_hand, rtol=1e-4, atol=1e-5)


def prog_checkpoint_roundtrip(torch, tmp_path):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    _copy_weights(model, torch)
    model.train()
    model(torch.tensor(data(8, 3)))  # move the running statistics
    sd = model.state_dict()
    print(list(sd.keys()))
    path = str(tmp_path / f"{torch.__name__}.ckpt")
    if torch.__name__ == "torch":  # torch.save pickles; the portable format is safetensors
        from safetensors.torch import load_file, save_file

        save_file({k: v.contiguous() for k, v in sd.items()}, path)
        loaded = load_file(path)
    else:
        torch.save({"model": sd, "epoch": 3}, path)
        ckpt = torch.load(path)
        print(ckpt["epoch"])
        loaded = ckpt["model"]
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    res = fresh.load_state_dict(loaded)
    print(res)
    fresh.eval()
    x = torch.tensor(data(5, 3, seed=2))
    bad = _raises(lambda: fresh.load_state_dict({"0.weight": torch.zeros(4, 3)}))
    return [fresh(x), dict(fresh.state_dict()), bad]


def test_state_dict_save_load_roundtrip(tmp_path):
    outs = run_both(prog_checkpoint_roundtrip, tmp_path, printed=False)
    c_text, t_text = outs["chainrule"][1], outs["torch"][1]
    assert c_text.replace("3\n", "", 1) == t_text  # chainrule also printed the saved epoch


def prog_schedulers(torch):
    nn, optim = torch.nn, torch.optim
    lr_sched = optim.lr_scheduler
    p = nn.Parameter(torch.tensor(data(3)))
    made = {
        "step": lambda o: lr_sched.StepLR(o, step_size=3, gamma=0.5),
        "multistep": lambda o: lr_sched.MultiStepLR(o, milestones=[2, 5], gamma=0.1),
        "exp": lambda o: lr_sched.ExponentialLR(o, gamma=0.9),
        "cosine": lambda o: lr_sched.CosineAnnealingLR(o, T_max=5, eta_min=0.001),
        "lambda": lambda o: lr_sched.LambdaLR(o, lambda epoch: 0.95 ** epoch),
        "onecycle": lambda o: lr_sched.OneCycleLR(o, max_lr=0.5, total_steps=10),
        "linear": lambda o: lr_sched.LinearLR(o, start_factor=0.25, total_iters=4),
        "warm_restarts": lambda o: lr_sched.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3),
    }
    lrs = {}
    for name, make in made.items():
        opt = optim.SGD([p], lr=0.1, momentum=0.9)
        sched = make(opt)
        seen = []
        for _ in range(8):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr()[0])
        lrs[name] = seen
        print(name, [f"{v:.5f}" for v in seen], opt.param_groups[0]["lr"] == seen[-1])
    opt = optim.Adam([p], lr=0.1)
    plateau = lr_sched.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
    for val_loss in [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7]:
        plateau.step(val_loss)
    lrs["plateau"] = opt.param_groups[0]["lr"]
    warm = optim.SGD([p], lr=0.1)
    seq = lr_sched.SequentialLR(warm, [lr_sched.LinearLR(warm, 0.1, total_iters=2),
                                       lr_sched.ExponentialLR(warm, 0.5)], milestones=[2])
    seen = []
    for _ in range(5):
        warm.step()
        seq.step()
        seen.append(warm.param_groups[0]["lr"])
    lrs["sequential"] = seen
    sgdr_opt = optim.SGD([p], lr=0.1)
    sgdr = lr_sched.CosineAnnealingWarmRestarts(sgdr_opt, T_0=2, T_mult=3)
    iters = 4
    seen = []
    for epoch in range(4):  # the documented per-iteration form: fractional epochs
        for i in range(iters):
            sgdr_opt.step()
            sgdr.step(epoch + i / iters)
            seen.append(sgdr.get_last_lr()[0])
    lrs["sgdr_fractional"] = seen
    for mode, make_opt in (("triangular", lambda: optim.SGD([p], lr=0.1, momentum=0.9)),
                           ("triangular2", lambda: optim.SGD([p], lr=0.1, momentum=0.9)),
                           ("exp_range", lambda: optim.Adam([p], lr=0.1))):
        opt = make_opt()
        cyc = lr_sched.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=2,
                                mode=mode, gamma=0.9)
        seen = []
        for _ in range(12):
            opt.step()
            cyc.step()
            g = opt.param_groups[0]
            seen.append((cyc.get_last_lr()[0], g["momentum"] if "momentum" in g else g["betas"][0]))
        lrs[f"cyclic_{mode}"] = seen
        lrs[f"cyclic_{mode}_state"] = sorted(k for k in cyc.state_dict() if not k.startswith("_"))
    lrs["cyclic_errors"] = [
        _raises(lambda: lr_sched.CyclicLR(optim.SGD([p], lr=0.1), 0.01, 0.1)),
        _raises(lambda: lr_sched.CyclicLR(optim.SGD([p], lr=0.1, momentum=0.9), 0.01, 0.1, mode="x"))]
    return [lrs, p]


def test_lr_schedulers_in_a_loop():
    run_both(prog_schedulers)


def prog_clip_and_init(torch):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 2))
    _copy_weights(model, torch)
    x = torch.tensor(data(10, 5)) * 10
    loss = model(x).pow(2).mean()
    loss.backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    clipped = [p.grad.clone() for p in model.parameters()]
    nn.utils.clip_grad_value_(model.parameters(), clip_value=0.01)
    valued = [p.grad.clone() for p in model.parameters()]
    print(f"{total.item():.4f}", total.dtype, total.shape)

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.constant_(m.weight, 0.5)
            nn.init.zeros_(m.bias)

    model.apply(init_weights)
    w = torch.empty(3, 5)
    nn.init.eye_(w)
    structural = []
    for init in (nn.init.xavier_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_,
                 lambda t: nn.init.normal_(t, 0, 0.02), lambda t: nn.init.uniform_(t, -0.1, 0.1),
                 lambda t: nn.init.trunc_normal_(t, std=0.02), nn.init.kaiming_uniform_, nn.init.xavier_normal_):
        t = torch.empty(64, 32)
        r = init(t)
        structural.append((r is t, t.shape, t.dtype, bool(t.abs().max() > 0)))
    gain = nn.init.calculate_gain("relu"), nn.init.calculate_gain("leaky_relu", 0.2)
    return [total, clipped, valued, dict(model.state_dict()), w, structural, gain]


def test_gradient_clipping_and_init():
    run_both(prog_clip_and_init, rtol=1e-4)


def prog_seeded(torch):
    torch.manual_seed(42)
    a = torch.randn(3, 4)
    b = torch.rand(2)
    c = torch.randint(0, 10, (5,))
    d = torch.randperm(6)
    e = torch.randint(3, 7, size=(2, 2), dtype=torch.int32)
    torch.manual_seed(42)
    a2 = torch.randn(3, 4)
    g = torch.Generator().manual_seed(0)
    f = torch.randn(2, generator=g)
    drop = torch.nn.functional.dropout(torch.ones(1000), p=0.5, training=True)
    perm_ok = sorted(d.tolist()) == list(range(6))
    in_range = bool(((c >= 0) & (c < 10)).all() and ((e >= 3) & (e < 7)).all())
    kept = set(drop.unique().tolist()) <= {0.0, 2.0}
    return [(x.shape, x.dtype) for x in (a, b, c, d, e, f)] + [
        torch.equal(a, a2), perm_ok, in_range, kept, torch.initial_seed()]


def test_manual_seed_structure():
    run_both(prog_seeded)


def prog_functional_and_misc(torch):
    F = torch.nn.functional
    x = torch.tensor(data(4, 5))
    y = torch.tensor([1, 0, 4, 2])
    out = {
        "one_hot": F.one_hot(y), "one_hot5": F.one_hot(y, num_classes=6), "ce": F.cross_entropy(x, y),
        "ce_ls": F.cross_entropy(x, y, label_smoothing=0.1), "ce_sum": F.cross_entropy(x, y, reduction="sum"),
        "mse": F.mse_loss(x, x.flip(0)), "relu": F.relu(x), "drop_eval": F.dropout(x, p=0.3, training=False),
        "lsm": F.log_softmax(x, dim=1), "sm": F.softmax(x, dim=0), "gelu": F.gelu(x), "silu": F.silu(x),
        "leaky": F.leaky_relu(x, 0.1), "nll": F.nll_loss(F.log_softmax(x, 1), y), "l1": F.l1_loss(x, 2 * x),
        "bce": F.binary_cross_entropy(torch.sigmoid(x), (x > 0).float()), "norm": F.normalize(x, dim=1),
        "pad": F.pad(x, (1, 2)), "linear": F.linear(x, x[:2], x[0, :2]), "cos": F.cosine_similarity(x, x.flip(1)),
        "where": torch.where(x > 0), "clamp": torch.clamp(x, max=0.2), "abs": torch.abs(x),
        "max": torch.max(x), "min_dim": torch.min(x, dim=0), "sum": torch.sum(x, 1), "mean": torch.mean(x, dim=-1),
        "std": torch.std(x), "var": torch.var(x, 0), "lse": torch.logsumexp(x, 1), "softmax": torch.softmax(x, -1),
        "arange": torch.arange(5), "arange_f": torch.arange(0, 1, 0.25), "linspace": torch.linspace(0, 1, 5),
        "eye": torch.eye(3), "full": torch.full((2, 2), 7), "full_f": torch.full((2,), 1.5),
        "zl": torch.zeros_like(y), "ol": torch.ones_like(x, dtype=torch.int64), "tensor_of_tensors":
        torch.tensor([torch.tensor(1.0), torch.tensor(2.0)]),
        "tensor_of_vectors": _raises(lambda: torch.tensor([torch.ones(2), torch.ones(2)])),
        "stack_list": torch.stack([torch.tensor(1.0), torch.tensor(2.0)]),
        "chain": ((0 < x) & (x < 1)).sum().item(), "float_cmp": bool((x == x.clone()).all()),
        "allclose": torch.allclose(x, x + 1e-7), "isclose": torch.isclose(x, x * 1.001, rtol=1e-2),
        "equal": torch.equal(x, x), "equal_shape": torch.equal(x, x[:2]),
    }
    print(f"{x[0, 0]:.3f} {x.sum():.2f}", f"{y}", f"{torch.tensor(True)}")
    return out


def test_functional_and_torch_namespace():
    run_both(prog_functional_and_misc)


def prog_size_and_shapes(torch):
    x = torch.zeros(2, 3, 4)
    s = x.shape
    out = [
        s == (2, 3, 4), s == torch.Size([2, 3, 4]), s != (2, 3), s[1:], s[-1], s + (5,), (1,) + s,
        s.numel(), list(s), tuple(s), len(s), s[0] * s[1], x.size() == s, torch.Size([2, 3]),
        isinstance(s, tuple), x.view(s[0], -1).shape, x.reshape(*s[:2], 2, 2).shape,
        torch.zeros(s).shape, torch.ones(*s).shape, x.new_zeros(s).shape, s.index(3), s.count(2),
        torch.zeros((0, 3)).shape, x.unsqueeze(-1).size(), x.expand(5, 2, 3, 4).shape,
        torch.Size([]) == (), torch.tensor(1.0).shape, x[0].size(), s * 2, 2 * s,
        _raises(lambda: s + [1]),
    ]
    print(s, repr(s), str(s), s[1:], torch.Size([]), torch.Size((3,)), x.stride(), x[:, 1].stride())
    print(f"shape {s} size {x.size()} numel {x.numel()}")
    return out


def test_torch_size_comparisons_and_arithmetic():
    run_both(prog_size_and_shapes)


def prog_print_modules(torch):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
        nn.MaxPool2d(2), nn.Dropout(p=0.25), nn.Flatten(), nn.Linear(16, 10), nn.LogSoftmax(dim=1),
    )
    print(model)
    print(nn.ModuleDict({"enc": nn.Linear(2, 3), "act": nn.GELU()}))
    print(nn.ModuleList([nn.Embedding(10, 3), nn.LayerNorm(3), nn.Identity()]))
    print(nn.LSTM(4, 8, num_layers=2, batch_first=True, dropout=0.1))
    print(nn.MultiheadAttention(8, 2, batch_first=True))
    print(nn.CrossEntropyLoss(), nn.MSELoss(reduction="sum"), nn.Softmax(dim=-1), nn.LeakyReLU(0.2))
    p = [nn.Parameter(torch.zeros(2))]
    for opt in (torch.optim.SGD(p, lr=0.01, momentum=0.9), torch.optim.Adam(p, lr=1e-3, weight_decay=1e-4),
                torch.optim.AdamW(p), torch.optim.RMSprop(p, lr=0.01), torch.optim.Adagrad(p)):
        print(opt)
    print(p[0])
    model.eval()
    flags = [m.training for m in model.modules()]
    model.train()
    flags += [m.training for m in model.modules()]
    print(sum(1 for _ in model.parameters()), len(list(model.children())), len(model), model[0])
    print(model[-2:])
    return flags


def test_printing_models_and_optimizers():
    run_both(prog_print_modules)


def test_harness_notices_differences():
    """The comparison itself can fail: a program that prints or returns its library's name."""
    import pytest

    with pytest.raises(AssertionError, match="printed text differs"):
        run_both(lambda lib: print(lib.__name__))
    with pytest.raises(AssertionError):
        run_both(lambda lib: lib.zeros(2) if lib is chainrule else lib.zeros(3), printed=False)
    with pytest.raises(AssertionError, match="dtype"):
        run_both(lambda lib: lib.zeros(2, dtype=lib.float64 if lib is chainrule else lib.float32))


def prog_knn_and_histograms(torch):
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rng = np.random.default_rng(3)
    train_x = torch.tensor(rng.standard_normal((30, 2)).astype(np.float32), device=device)
    train_y = torch.tensor(rng.integers(0, 3, 30))
    query = torch.tensor(rng.standard_normal((6, 2)).astype(np.float32)).to(device)
    dists = torch.cdist(query, train_x)
    knn = dists.topk(5, largest=False)
    votes = torch.stack([torch.bincount(train_y[i], minlength=3) for i in knn.indices])
    pred = votes.argmax(dim=1)
    hist = torch.histc(train_x[:, 0], bins=5, min=-2, max=2)
    edges = torch.linspace(-2, 2, 6)
    buckets = torch.bucketize(train_x[:, 0].contiguous(), edges)
    xs, ys = torch.meshgrid(torch.linspace(-1, 1, 3), torch.linspace(0, 1, 2), indexing="ij")
    grid = torch.stack([xs.flatten(), ys.flatten()], dim=1)
    pairs = torch.cartesian_prod(torch.arange(3), torch.arange(2))
    rows, cols = torch.tril_indices(4, 4, offset=-1)
    print(device, pred, hist, votes.sum(1), f"{torch.finfo(torch.float32).eps:.3e}")
    print(torch.diff(torch.tensor([1, 4, 9, 16])), torch.cumsum(torch.arange(5), 0))
    return [dists, knn, votes, pred, hist, buckets, grid, pairs, rows, cols,
            torch.cross(grid[:3].new_ones(3, 3), torch.eye(3), dim=1)]


def test_knn_histograms_grids_with_new_ops():
    run_both(prog_knn_and_histograms)


def prog_custom_function_and_hooks(torch):
    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, i):
            result = i.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_output):
            (result,) = ctx.saved_tensors
            return grad_output * result

    class ClampGrad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, limit):
            ctx.limit = limit
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g.clamp(-ctx.limit, ctx.limit), None

    x = torch.tensor(data(4), requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.clone()))
    y = Exp.apply(x)
    z = ClampGrad.apply(y * 3, 0.5)
    z.register_hook(lambda g: g * 2)
    z.sum().backward()
    handle.remove()
    lin = torch.nn.Linear(3, 2)
    _copy_weights(lin, torch)
    acts = {}
    lin.register_forward_hook(lambda m, inp, out: acts.setdefault("out", out.detach()))
    lin(torch.tensor(data(5, 3)))
    print(y.grad_fn.name() if hasattr(y.grad_fn, "name") else "", len(seen), x.grad.shape)
    return [x.grad, seen, acts]


def test_custom_autograd_function_and_hooks():
    run_both(prog_custom_function_and_hooks, printed=False)


def prog_transformer_block(torch):
    nn = torch.nn
    d_model, T, B = 8, 6, 2
    position = torch.arange(T).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(T, 1, d_model)
    pe[:, 0, 0::2] = torch.sin(position * div_term)
    pe[:, 0, 1::2] = torch.cos(position * div_term)
    emb = nn.Embedding(11, d_model)
    layer = nn.TransformerEncoderLayer(d_model, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=False)
    encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
    head = nn.Linear(d_model, 11)
    for m in (emb, encoder, head):
        _copy_weights(m, torch)
    tokens = torch.tensor(np.random.default_rng(0).integers(0, 11, (T, B)))
    src = emb(tokens) * math.sqrt(d_model) + pe
    mask = nn.Transformer.generate_square_subsequent_mask(T) if hasattr(nn, "Transformer") else \
        torch.triu(torch.full((T, T), float("-inf")), diagonal=1)
    out = head(encoder(src, mask=mask))
    loss = nn.functional.cross_entropy(out.view(-1, 11), tokens.view(-1))
    loss.backward()
    print(out.shape, f"{loss.item():.4f}")
    return [pe, out, loss, emb.weight.grad, head.bias.grad]


def test_transformer_encoder_with_positional_encoding():
    run_both(prog_transformer_block, rtol=1e-4, atol=1e-5)


def prog_common_mistakes(torch):
    nn = torch.nn
    x = torch.tensor(data(2, 3), requires_grad=True)
    errors = [
        _raises(lambda: torch.ones(2, 3) @ torch.ones(2, 3)),
        _raises(lambda: torch.ones(2, 3) + torch.ones(3, 2)),
        _raises(lambda: torch.ones(2, 3).item()),
        _raises(lambda: torch.ones(2, 3).t().view(-1)),
        _raises(lambda: torch.ones(4).view(3)),
        _raises(lambda: x.add_(1)),
        _raises(lambda: x.numpy()),
        _raises(lambda: nn.Linear(3, 2)(torch.ones(4, 5))),
        _raises(lambda: nn.functional.cross_entropy(torch.ones(2, 3), torch.tensor([0.0, 1.0]))),
        _raises(lambda: nn.functional.cross_entropy(torch.ones(2, 3), torch.tensor([0, 5]))),
        _raises(lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)])),
        _raises(lambda: torch.stack([torch.ones(2), torch.ones(3)])),
        _raises(lambda: torch.ones(2)[5]),
        _raises(lambda: torch.ones(2, 3).sum(dim=2)),
        _raises(lambda: torch.tensor([1, 2]).requires_grad_()),
        _raises(lambda: torch.tensor([1.0, 2.0], requires_grad=True).sum().backward() or
                torch.tensor([1.0]).backward()),
        _raises(lambda: bool(torch.ones(2))),
        _raises(lambda: torch.zeros(2, dtype=torch.long).mean()),
        _raises(lambda: torch.ones(3).reshape(2, 2)),
        _raises(lambda: torch.ones(2, 2).squeeze(3)),
    ]
    y = (x * 2).sum()
    y.backward()
    errors.append(_raises(y.backward))
    return errors


def test_common_mistakes_raise_like_torch():
    run_both(prog_common_mistakes)


def prog_data_utilities(torch):
    data_mod = torch.utils.data
    xs = torch.arange(20.0).view(10, 2)
    ys = torch.arange(10)
    ds = data_mod.TensorDataset(xs, ys)
    sub = data_mod.Subset(ds, [1, 3, 5])
    both = data_mod.ConcatDataset([sub, sub])
    gen = torch.Generator().manual_seed(0)
    train, val = data_mod.random_split(ds, [0.8, 0.2], generator=gen)

    def collate(batch):
        feats = torch.stack([b[0] for b in batch])
        return feats.sum(1), torch.tensor([int(b[1]) for b in batch])

    loader = data_mod.DataLoader(both, batch_size=4, collate_fn=collate)
    dropped = data_mod.DataLoader(ds, batch_size=3, drop_last=True)
    shuffled = data_mod.DataLoader(ds, batch_size=4, shuffle=True)
    sampler = data_mod.WeightedRandomSampler([0.1] * 10, num_samples=5, replacement=True)
    seen = sorted(int(i) for _, y in shuffled for i in y)
    batches = [(a, b) for a, b in loader]
    stacked = data_mod.StackDataset(xs, ys)
    named = data_mod.DataLoader(data_mod.StackDataset(x=xs, y=ys), batch_size=4)
    extras = [stacked[2], next(iter(named)), len(stacked), data_mod.get_worker_info(),
              _raises(lambda: data_mod.StackDataset(xs, ys[:3])), _raises(lambda: data_mod.StackDataset())]
    print(len(sub), len(both), len(train), len(val), len(loader), len(dropped), len(list(sampler)))
    print(sub[0], both[4])
    return [batches, [b for b in dropped][-1], seen, [len(b[1]) for b in shuffled], extras]


def test_data_utilities():
    run_both(prog_data_utilities)


def prog_warm_restarts_checks(torch):
    p = torch.nn.Parameter(torch.zeros(1))
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts
    opt = torch.optim.SGD([p], lr=1.0)
    s = sched(opt, T_0=5)
    closed = []
    for e in (7, 12.5, 3, 0):
        s.step(e)
        closed.append((s.get_last_lr()[0], s.last_epoch, s.T_cur, s.T_i))
    return [closed, _raises(lambda: sched(opt, T_0=0)), _raises(lambda: sched(opt, T_0=2, T_mult=0)),
            _raises(lambda: sched(opt, T_0=2, eta_min="x")), _raises(lambda: s.step(-1))]


def test_cosine_warm_restarts_closed_form_and_errors():
    run_both(prog_warm_restarts_checks)


def prog_numpy_interop(torch):
    """Notebook habits: NumPy scalars and arrays mixed into tensor arithmetic."""
    x = torch.tensor(data(3))
    mean, std = np.mean(data(3)), np.float64(2.0)
    scaled = (x - mean) / std
    out = [scaled, x * np.int64(3), np.float32(2) * x, x ** np.float64(2), x > np.float64(0.1),
           torch.ones(2, dtype=torch.int32) + np.int64(3), torch.ones(2, dtype=torch.int32) * np.float64(1.5),
           x.add(np.float64(1)), torch.from_numpy(np.arange(3.0)) * 2, x.numpy().dtype.name, x.tolist(),
           torch.tensor(np.float32(2.5)), torch.tensor([np.int64(2)]), torch.tensor(np.arange(3)).dtype,
           torch.as_tensor(np.ones((2, 2), dtype=np.float16)) + 1, float(x.sum()), int(torch.tensor([7]))]
    print(scaled.dtype, f"{float(scaled.mean()):.4f}")
    return out


def test_numpy_scalars_and_arrays_mixed_in():
    run_both(prog_numpy_interop)


def prog_script_preamble(torch):
    """What training scripts do before anything else, and legacy tensor types."""
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True)
    det = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.random.manual_seed(0)
    torch.cuda.manual_seed_all(0)
    with torch.random.fork_rng():
        torch.rand(3)
    use_cuda = torch.cuda.is_available()
    use_mps = torch.backends.mps.is_available()
    device = torch.device("cuda" if use_cuda else "mps" if use_mps else "cpu")
    model = torch.compile(torch.nn.Linear(2, 1))
    _copy_weights(model, torch)

    @torch.compile
    def f(x):
        return x * 2

    x = torch.FloatTensor([[1, 2], [3, 4]]).to(device)
    idx = torch.LongTensor([1, 0])
    out = [det, threads == torch.get_num_threads(), str(device), model(x), f(x), idx, (torch.ByteTensor(3).shape, torch.ByteTensor(3).dtype),
           isinstance(x, torch.FloatTensor), isinstance(idx, torch.FloatTensor), x.type(torch.DoubleTensor),
           x.type(), torch.DoubleTensor(2, 2).shape, torch.BoolTensor([1, 0]), torch.FloatTensor().shape,
           _raises(lambda: torch.set_num_threads(0)), _raises(lambda: torch.use_deterministic_algorithms("x")),
           _raises(lambda: torch.FloatTensor(torch.tensor([1, 2])))]
    print(torch.FloatTensor, torch.backends.cudnn.is_available(), torch.cuda.device_count())
    return out


def test_script_preamble_backends_threads_compile_legacy_types():
    run_both(prog_script_preamble)


def prog_more_optimizers(torch):
    """Adam's relatives in a training loop: same trajectories as PyTorch's CPU updates."""
    nn = torch.nn
    X = torch.tensor(data(32, 4))
    y = torch.tensor(data(32, 1, seed=5))
    results = {}
    for name, kw in (("RAdam", {"lr": 0.05}), ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
                     ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
                     ("NAdam", {"lr": 0.05}), ("NAdam", {"lr": 0.05, "weight_decay": 0.01, "maximize": False}),
                     ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
                     ("Adamax", {"lr": 0.05}), ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "maximize": True})):
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))
        _copy_weights(model, torch)
        opt = getattr(torch.optim, name)(model.parameters(), **kw)
        losses = []
        for _ in range(12):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(X), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        key = f"{name}{sorted(kw.items())}"
        results[key] = [losses, dict(model.state_dict()),
                        {k: v for k, v in opt.state_dict()["state"][0].items()}]
        print(opt)
    p = [nn.Parameter(torch.zeros(1))]
    results["errors"] = [_raises(lambda: torch.optim.NAdam(p, momentum_decay=-1)),
                         _raises(lambda: torch.optim.RAdam(p, betas=(1.0, 0.9))),
                         _raises(lambda: torch.optim.Adamax(p, eps=-1)),
                         _raises(lambda: torch.optim.RAdam(p, weight_decay=-1))]
    return results


def test_radam_nadam_adamax_match_torch():
    run_both(prog_more_optimizers, rtol=1e-5, atol=1e-6)


# ---- a small model zoo: VAE, GAN, conv layers, GRU seq2seq ----------------------------------
def prog_vae(torch):
    nn, F = torch.nn, torch.nn.functional
    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(16, 8)
            self.fc21 = nn.Linear(8, 2)
            self.fc22 = nn.Linear(8, 2)
            self.fc3 = nn.Linear(2, 8)
            self.fc4 = nn.Linear(8, 16)
        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)
        def decode(self, z):
            return torch.sigmoid(self.fc4(F.relu(self.fc3(z))))
        def forward(self, x, eps):
            mu, logvar = self.encode(x.view(-1, 16))
            std = torch.exp(0.5 * logvar)
            return self.decode(mu + eps * std), mu, logvar
    m = VAE()
    _copy_weights(m, torch)
    x = torch.sigmoid(torch.tensor(data(4, 4, 4)))
    eps = torch.tensor(data(4, 2, seed=9))
    recon, mu, logvar = m(x, eps)
    BCE = F.binary_cross_entropy(recon, x.view(-1, 16), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    (BCE + KLD).backward()
    return [BCE, KLD, m.fc1.weight.grad]

def prog_gan(torch):
    nn = torch.nn
    G = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 4), nn.Tanh())
    D = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1), nn.Sigmoid())
    _copy_weights(G, torch)
    _copy_weights(D, torch, 1)
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    crit = nn.BCELoss()
    real = torch.tensor(data(8, 4))
    z = torch.tensor(data(8, 2, seed=2))
    out = []
    for _ in range(3):
        optD.zero_grad()
        fake = G(z)
        lossD = crit(D(real), torch.ones(8, 1)) + crit(D(fake.detach()), torch.zeros(8, 1))
        lossD.backward()
        optD.step()
        optG.zero_grad()
        lossG = crit(D(fake), torch.full((8, 1), 1.0))
        lossG.backward()
        optG.step()
        out.append((lossD.item(), lossG.item()))
    return out

def prog_convnet_layers(torch):
    nn, F = torch.nn, torch.nn.functional
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding='same'), nn.BatchNorm2d(4), nn.GELU(), nn.AvgPool2d(2),
                      nn.ConvTranspose2d(4, 2, 2, stride=2), nn.GroupNorm(1, 2), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.LayerNorm(2))
    _copy_weights(m, torch)
    x = torch.tensor(data(2, 3, 8, 8))
    y = m(x)
    y.sum().backward()
    return [y, m[0].weight.grad, F.max_pool2d(x, 2).shape, F.conv1d(torch.tensor(data(1, 2, 5)), torch.tensor(data(3, 2, 2))) ]

def prog_seq2seq(torch):
    nn = torch.nn
    enc = nn.GRU(3, 5, batch_first=True)
    dec = nn.GRU(3, 5, batch_first=True)
    out = nn.Linear(5, 3)
    for mm in (enc, dec, out): _copy_weights(mm, torch)
    src = torch.tensor(data(2, 4, 3))
    tgt = torch.tensor(data(2, 3, 3, seed=1))
    _, h = enc(src)
    inp = tgt[:, :1]
    outs = []
    for t in range(3):
        o, h = dec(inp, h)
        step = out(o)
        outs.append(step)
        inp = step.detach()
    logits = torch.cat(outs, 1)
    loss = nn.functional.mse_loss(logits, tgt)
    loss.backward()
    nn.utils.clip_grad_norm_(list(enc.parameters()) + list(dec.parameters()), 0.5)
    return [logits, loss, enc.weight_ih_l0.grad]


@pytest.mark.parametrize("program", [prog_vae, prog_gan, prog_convnet_layers, prog_seq2seq],
                         ids=["vae", "gan", "convnet-layers", "gru-seq2seq"])
def test_model_zoo_programs(program):
    run_both(program, printed=False, rtol=1e-4, atol=1e-5)
