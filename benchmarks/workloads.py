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


def _unmarked(section):
    """numpy_transformer's default section mark: nothing."""


def numpy_transformer(quick):
    """tiny_transformer_step's arithmetic in plain NumPy with its backward written out by hand:
    no autograd, no Tensors, no per-op dispatch; a floor for a NumPy library's step, as
    ``numpy_matmul`` is for the products. The same weights, data and formulas as chainrule
    (row statistics as BLAS products, softmax unshifted where that is safe, cross-entropy
    shifted by the row maximum, AdamW on one flat buffer); GELU's Φ is chainrule's fitted
    kernel, NumPy having no erf. ``step.forward_backward()`` gives the loss and fills
    ``step.grads`` (views of one flat buffer, in the model's parameters() order);
    ``step.adamw()`` updates ``step.params`` from them. ``forward_backward(mark)`` calls
    ``mark(section)`` where each section of it ends, for ``--ops``'s NumPy sections
    (ops.numpy_sections); by default a no-op, ~1 µs a step. (Its sizes are the workload's in
    quick mode too, as the workload's own are.)"""
    from chainrule.ops.pointwise import _INV_SQRT_2PI, _gelu_parts

    B, T, d, H, V = 16, 32, 64, 2, 64
    hd, n = d // H, B * T
    shapes = [(T, d), (V, d)] + [(d,)] * 6 + [(3 * d, d), (3 * d,), (d, d), (d,),
                                             (4 * d, d), (4 * d,), (d, 4 * d), (d,), (V, d), (V,)]
    rng = np.random.default_rng(0)  # drawn in the workload's order
    sizes = [int(np.prod(sh)) for sh in shapes]
    ends = np.cumsum(sizes)
    flat = np.empty(int(ends[-1]), np.float32)
    gflat = np.empty_like(flat)
    params = [flat[e - k:e].reshape(sh) for e, k, sh in zip(ends, sizes, shapes)]
    grads = [gflat[e - k:e].reshape(sh) for e, k, sh in zip(ends, sizes, shapes)]
    for p in params:
        p[...] = rng.standard_normal(p.shape).astype(np.float32) * 0.05
    idx = rng.integers(0, V, (B, T))
    tgt = rng.integers(0, V, (B, T)).reshape(-1)
    pos, emb, w1, b1, w2, b2, wf, bf, Wqkv, bqkv, Wp, bp, W1, c1, W2, c2, Wh, bh = params
    g_pos, g_emb, gw1, gb1, gw2, gb2, gwf, gbf, gWqkv, gbqkv, gWp, gbp, gW1, gc1, gW2, gc2, gWh, gbh = grads
    mask = np.triu(np.ones((T, T), bool), 1)
    inv_d = np.full(d, 1 / d, np.float32)
    ones_n, ones_t, ones_v = (np.ones(k, np.float32) for k in (n, T, V))
    rows = np.arange(n)
    cols = np.arange(d)
    scale = hd ** 0.5
    adam = {"m": np.zeros_like(flat), "v": np.zeros_like(flat), "t": 0}

    def layer_norm(x, w, b):
        xc = x - (x @ inv_d)[:, None]
        r = (xc * xc) @ inv_d
        r += 1e-5
        np.sqrt(r, out=r)
        np.divide(1, r, out=r)
        xc *= r[:, None]
        y = xc * w
        y += b
        return y, xc, r

    def layer_norm_back(g, w, xh, r, gw, gb):
        p = g * xh
        np.matmul(ones_n, p, out=gw)
        np.matmul(ones_n, g, out=gb)
        gg = g * w
        p *= w  # ĝ·x̂
        gg -= (gg @ inv_d)[:, None]
        gg -= xh * (p @ inv_d)[:, None]
        gg *= r[:, None]
        return gg

    def linear(x, W, b):
        y = x @ W.T
        y += b
        return y

    def linear_back(g, x, W, gW, gb):
        np.matmul(g.T, x, out=gW)
        np.matmul(ones_n, g, out=gb)
        return g @ W

    def forward_backward(mark=_unmarked):
        x0 = emb[idx]
        x0 += pos
        x0 = x0.reshape(n, d)
        mark("embedding + positions")
        h1, xh1, r1 = layer_norm(x0, w1, b1)
        mark("layer norm 1")
        qkv = linear(h1, Wqkv, bqkv).reshape(B, T, 3, H, hd)
        q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))
        mark("qkv linear + split")
        att = q @ k.transpose(0, 1, 3, 2)
        att /= scale
        np.copyto(att, -np.inf, where=mask)
        mark("scores + mask")
        with np.errstate(over="ignore", under="ignore"):
            p = np.exp(att)
        s = p @ ones_t
        if not (s.min() >= 2.0 ** -20 and s.max() < np.inf):  # (as chainrule: then shifted)
            np.exp(att - att.max(-1, keepdims=True), out=p)
            s = p @ ones_t
        p /= s[..., None]
        mark("softmax")
        y = (p @ v).transpose(0, 2, 1, 3).reshape(n, d)
        mark("p @ v")
        x1 = x0 + linear(y, Wp, bp)
        mark("proj linear + residual")
        h2, xh2, r2 = layer_norm(x1, w2, b2)
        mark("layer norm 2")
        f1 = linear(h2, W1, c1)
        mark("fc1 linear")
        cdf, e = _gelu_parts(f1, True)
        act = f1 * cdf
        e *= f1
        e *= _INV_SQRT_2PI
        e += cdf  # GELU's slope
        mark("gelu (+ slope)")
        x2 = x1 + linear(act, W2, c2)
        mark("fc2 linear + residual")
        h3, xh3, r3 = layer_norm(x2, wf, bf)
        mark("layer norm f")
        z = linear(h3, Wh, bh)
        mark("head linear")
        z -= z.max(1, keepdims=True)
        ez = np.exp(z)
        se = ez @ ones_v
        loss = float(np.mean(np.log(se) - z[rows, tgt]))
        mark("loss")
        # backward
        ez /= (se * n)[:, None]
        ez[rows, tgt] -= 1 / n
        mark("backward: loss")
        dx2 = layer_norm_back(linear_back(ez, h3, Wh, gWh, gbh), wf, xh3, r3, gwf, gbf)
        mark("backward: head + layer norm f")
        df1 = linear_back(dx2, act, W2, gW2, gc2)
        df1 *= e
        mark("backward: fc2 + gelu")
        dx1 = layer_norm_back(linear_back(df1, h2, W1, gW1, gc1), w2, xh2, r2, gw2, gb2)
        dx1 += dx2
        mark("backward: fc1 + layer norm 2")
        dy = linear_back(dx1, y, Wp, gWp, gbp).reshape(B, T, H, hd).transpose(0, 2, 1, 3)
        mark("backward: proj")
        datt = dy @ v.transpose(0, 1, 3, 2)
        dv = p.transpose(0, 1, 3, 2) @ dy
        mark("backward: p @ v")
        datt -= ((datt * p) @ ones_t)[..., None]
        datt *= p
        datt /= scale
        mark("backward: softmax + mask + scale")
        dqkv = np.empty((B, T, 3, H, hd), np.float32)
        for i, g in enumerate((datt @ k, datt.transpose(0, 1, 3, 2) @ q, dv)):
            dqkv[:, :, i] = g.transpose(0, 2, 1, 3)
        mark("backward: q k + qkv gather")
        dx0 = layer_norm_back(linear_back(dqkv.reshape(n, 3 * d), h1, Wqkv, gWqkv, gbqkv),
                              w1, xh1, r1, gw1, gb1)
        dx0 += dx1
        mark("backward: qkv + layer norm 1")
        np.matmul(ones_n[:B], dx0.reshape(B, T * d), out=g_pos.reshape(-1))
        g_emb[...] = 0  # (each index's rows in order, as PyTorch: flat element indices)
        np.add.at(g_emb.reshape(-1), (idx.reshape(-1, 1) * d + cols).reshape(-1), dx0.reshape(-1))
        mark("backward: embedding + positions")
        return loss

    def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, wd=1e-2):
        m, v = adam["m"], adam["v"]
        adam["t"] += 1
        t = adam["t"]
        np.multiply(flat, 1 - lr * wd, out=flat)
        m += (gflat - m) * (1 - betas[0])
        v *= betas[1]
        v += (1 - betas[1]) * gflat * gflat
        denom = np.sqrt(v)
        denom /= (1 - betas[1] ** t) ** 0.5
        denom += eps
        np.divide(m, denom, out=denom)
        denom *= -(lr / (1 - betas[0] ** t))
        np.add(flat, denom, out=flat)

    def step():
        forward_backward()
        adamw()

    step.forward_backward, step.adamw = forward_backward, adamw
    step.params, step.grads = params, grads
    return step


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
