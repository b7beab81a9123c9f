"""The workloads, each written once against the PyTorch API.

``make(lib, quick)`` returns a zero-argument ``step`` that runs one unit of work with
``lib`` (``chainrule`` or ``torch``). Inputs and initial weights come from one NumPy seed,
so both libraries do exactly the same arithmetic. ``step.phases`` names its parts in order
(zero_grad, forward, loss, backward, step), for ``--phases``'s breakdown.
"""
import numpy as np

WORKLOADS = {}


def workload(name, unit="ms"):
    def deco(fn):
        WORKLOADS[name] = (fn, unit)
        return fn

    return deco


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.asarray(a), requires_grad=requires_grad)


def _phased(*phases):
    """A step made of named phases run in order; they pass values through a shared dict."""
    fns = [f for _, f in phases]

    def step():
        for f in fns:
            f()

    step.phases = phases
    return step


def _training(opt, forward, loss):
    """zero_grad, forward (returns the model's output), loss (of that output), backward, step.
    The output and the loss are dropped as soon as used, as a plain loop would."""
    st = {}

    def zero():
        opt.zero_grad()

    def fwd():
        st["out"] = forward()

    def los():
        st["loss"] = loss(st.pop("out"))

    def bwd():
        st.pop("loss").backward()

    return _phased(("zero_grad", zero), ("forward", fwd), ("loss", los), ("backward", bwd),
                   ("step", opt.step))


def _copy_weights(lib, model, rng):
    """Same initial weights for both libraries: fill every parameter from one seed."""
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.1))


@workload("scalar_chain")
def scalar_chain(lib, quick):
    """3,000 tiny ops (mul, add, tanh on 0-d tensors), forward + backward: per-op overhead."""
    n = 300 if quick else 1000
    w = _t(lib, np.float32(0.5), True)
    c = _t(lib, np.float32(0.1))
    st = {}

    def forward():
        x = w
        for _ in range(n):
            x = (x * c + w).tanh()
        st["x"] = x

    def backward():
        st.pop("x").backward()
        w.grad = None

    return _phased(("forward", forward), ("backward", backward))


def _digits(rng, n=512):
    x = rng.random((n, 64), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return x, y


@workload("small_mlp_step")
def small_mlp_step(lib, quick):
    """64-128-10 MLP, batch 64, cross-entropy, SGD: zero_grad + forward + backward + step."""
    rng = np.random.default_rng(0)
    xs, ys = _digits(rng)
    model = lib.nn.Sequential(lib.nn.Linear(64, 128), lib.nn.ReLU(), lib.nn.Linear(128, 10))
    _copy_weights(lib, model, rng)
    loss_fn = lib.nn.CrossEntropyLoss()
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    batches = [(_t(lib, xs[i:i + 64]), _t(lib, ys[i:i + 64])) for i in range(0, 512, 64)]
    state = {"i": 0}

    def forward():
        state["i"] += 1
        return model(batches[state["i"] % len(batches)][0])

    def loss(out):
        return loss_fn(out, batches[state["i"] % len(batches)][1])

    return _training(opt, forward, loss)


def _cnn(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 10),
    )


@workload("cnn_step")
def cnn_step(lib, quick):
    """conv(1→8,3×3) ReLU maxpool, conv(8→16,3×3) ReLU maxpool, Linear→10; batch 32 of 1×28×28; Adam."""
    rng = np.random.default_rng(0)
    model = _cnn(lib)
    _copy_weights(lib, model, rng)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    x = _t(lib, rng.standard_normal((32, 1, 28, 28)).astype(np.float32))
    y = _t(lib, rng.integers(0, 10, 32))
    loss_fn = lib.nn.CrossEntropyLoss()
    return _training(opt, lambda: model(x), lambda out: loss_fn(out, y))


@workload("matmul_backward", unit="GFLOP/s")
def matmul_backward(lib, quick):
    """n×n @ n×n forward + backward (3 matmuls: 6n³ flops)."""
    n = 256 if quick else 1024
    rng = np.random.default_rng(0)
    a = _t(lib, rng.standard_normal((n, n)).astype(np.float32), True)
    b = _t(lib, rng.standard_normal((n, n)).astype(np.float32), True)
    g = _t(lib, np.ones((n, n), np.float32))
    st = {}

    def forward():
        st["c"] = a @ b

    def backward():
        st.pop("c").backward(g)
        a.grad = None
        b.grad = None

    step = _phased(("forward", forward), ("backward", backward))
    step.flops = 6 * n ** 3
    return step


def numpy_matmul(quick):
    """The limit for a NumPy library: the same three products in plain NumPy."""
    n = 256 if quick else 1024
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    g = np.ones((n, n), np.float32)

    def step():
        a @ b
        g @ b.T
        a.T @ g

    step.flops = 6 * n ** 3
    return step


class TinyTransformer:
    """Embedding, causal self-attention written with matmul/softmax/masked_fill, LayerNorm, GELU MLP."""

    def __init__(self, lib, vocab=64, d=64, heads=2, seq=32):
        nn = lib.nn
        self.lib, self.h, self.d = lib, heads, d
        self.emb = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(lib.zeros(seq, d))
        self.ln1, self.ln2, self.lnf = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.head = nn.Linear(d, vocab)
        self.mask = lib.triu(lib.ones(seq, seq, dtype=lib.bool), diagonal=1)
        self.modules = [self.emb, self.ln1, self.ln2, self.lnf, self.qkv, self.proj, self.fc1, self.fc2, self.head]

    def parameters(self):
        ps = [self.pos]
        for m in self.modules:
            ps.extend(m.parameters())
        return ps

    def __call__(self, idx):
        F = self.lib.nn.functional
        B, T = idx.shape
        x = self.emb(idx) + self.pos[:T]
        q, k, v = self.qkv(self.ln1(x)).split(self.d, dim=-1)
        hd = self.d // self.h
        q = q.reshape(B, T, self.h, hd).transpose(1, 2)
        k = k.reshape(B, T, self.h, hd).transpose(1, 2)
        v = v.reshape(B, T, self.h, hd).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / hd ** 0.5
        att = att.masked_fill(self.mask[:T, :T], float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, self.d)
        x = x + self.proj(y)
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x))))
        return self.head(self.lnf(x))


@workload("tiny_transformer_step")
def tiny_transformer_step(lib, quick):
    """vocab 64, d 64, 2 heads, seq 32, batch 16; cross-entropy; AdamW."""
    rng = np.random.default_rng(0)
    model = TinyTransformer(lib)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.05))
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
    idx = _t(lib, rng.integers(0, 64, (16, 32)))
    tgt = _t(lib, rng.integers(0, 64, (16, 32)))
    F = lib.nn.functional
    return _training(opt, lambda: model(idx),
                     lambda logits: F.cross_entropy(logits.reshape(-1, 64), tgt.reshape(-1)))
