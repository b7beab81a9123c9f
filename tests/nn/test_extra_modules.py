"""nn modules added by the compatibility audit, each against PyTorch with copied weights."""
import numpy as np
import pytest
import torch
from layer_oracle import compare, twin
from oracle import assert_same, check, fd_check, raises_like

import chainrule

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---- recurrent cells ----------------------------------------------------------------------
CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu", "bias": False}),
         ("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}),
         ("GRUCell", {"bias": False})]


@pytest.mark.parametrize(("name", "kw"), CELLS)
def test_cell_repr_params_and_init(name, kw):
    c, t = twin(name, 3, 5, **kw)
    assert repr(c) == repr(t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    fresh = getattr(chainrule.nn, name)(3, 5, **kw)
    for p in fresh.parameters():  # uniform(-1/sqrt(H), 1/sqrt(H)) as PyTorch
        assert p.abs().max().item() <= 1 / np.sqrt(5)


def _hidden(name, n):
    h = rand(*n, 5)
    return (h, rand(*n, 5)) if name == "LSTMCell" else (h,)


@pytest.mark.parametrize(("name", "kw"), CELLS)
@pytest.mark.parametrize("batch", [(4,), (), (0,)])
def test_cell_matches_torch(name, kw, batch):
    c, t = twin(name, 3, 5, **kw)
    x = rand(*batch, 3)
    compare(c, t, x)  # hx omitted: zeros
    hs = _hidden(name, batch)
    if name == "LSTMCell":
        compare(c, t, x, *hs, call=lambda m, x, h, cc: m(x, (h, cc)))
    else:
        compare(c, t, x, *hs)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_in_a_loop_backprops_through_time(name):
    c, t = twin(name, 3, 5)
    xs = rand(6, 2, 3)

    def run(m, seq):
        h = None
        outs = []
        for x in seq.unbind(0):
            h = m(x, h)
            outs.append(h[0] if isinstance(h, tuple) else h)
        return outs[-1], outs[2]

    compare(c, t, xs, call=run)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_double_backward(name):
    c, t = twin(name, 3, 4)
    x = rand(2, 3)
    res = []
    for lib, m in ((chainrule, c), (torch, t)):
        xi = lib.tensor(x, requires_grad=True)
        out = m(xi, m(xi))  # the hidden state depends on x too
        out = out[0] * out[1] if isinstance(out, tuple) else out
        (g,) = lib.autograd.grad((out * out).sum(), xi, create_graph=True)
        (g2,) = lib.autograd.grad(g.pow(2).sum(), xi)
        res.append((g, g2))
    assert_same(res[0], res[1], 1e-4, 1e-5)


def test_cell_errors_match_torch():
    c, t = twin("LSTMCell", 3, 4)
    raises_like(RuntimeError, lambda: c(chainrule.randn(2, 5)), lambda: t(torch.randn(2, 5)))
    raises_like(ValueError, lambda: c(chainrule.randn(2, 2, 3)), lambda: t(torch.randn(2, 2, 3)))
    raises_like(ValueError, lambda: c(chainrule.randn(2, 3), (chainrule.randn(1, 2, 4),) * 2),
                lambda: t(torch.randn(2, 3), (torch.randn(1, 2, 4),) * 2))
    c, t = twin("GRUCell", 3, 4)
    raises_like(RuntimeError, lambda: c(chainrule.randn(2, 3), chainrule.randn(3, 4)),
                lambda: t(torch.randn(2, 3), torch.randn(3, 4)))
    raises_like(RuntimeError, lambda: c(chainrule.randn(2, 3), chainrule.randn(2, 5)),
                lambda: t(torch.randn(2, 3), torch.randn(2, 5)))
    raises_like(ValueError, lambda: c(chainrule.randn(2, 3), chainrule.randn(1, 2, 4)),
                lambda: t(torch.randn(2, 3), torch.randn(1, 2, 4)))
    c = chainrule.nn.RNNCell(3, 4, nonlinearity="x")
    t = torch.nn.RNNCell(3, 4, nonlinearity="x")
    raises_like(RuntimeError, lambda: c(chainrule.randn(2, 3)), lambda: t(torch.randn(2, 3)))


# ---- padding modules ------------------------------------------------------------------------
PADS = [("ZeroPad1d", (2,), (2, 3, 5)), ("ZeroPad2d", ((1, 0, 2, 3),), (2, 3, 4, 5)),
        ("ZeroPad3d", (1,), (1, 2, 3, 3, 3)), ("ConstantPad1d", ((2, 1), 3.5), (3, 4)),
        ("ConstantPad2d", (1, -1.0), (2, 3, 4, 5)), ("ConstantPad3d", (1, 2.0), (1, 2, 2, 2, 2)),
        ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad2d", ((1, 2, 0, 1),), (2, 3, 4, 5)),
        ("ReplicationPad1d", ((0, 3),), (2, 3, 5)), ("ReplicationPad2d", (2,), (2, 3, 4, 5)),
        ("ReplicationPad3d", (1,), (1, 2, 3, 3, 3)), ("CircularPad2d", (1,), (2, 3, 4, 5)),
        ("ReflectionPad3d", (1,), (1, 2, 3, 3, 3))]


@pytest.mark.parametrize(("name", "args", "shape"), PADS)
def test_pad_modules_match_torch(name, args, shape):
    c, t = twin(name, *args)
    assert repr(c) == repr(t)
    compare(c, t, rand(*shape))


def test_pad_module_attributes():
    for name in ("ConstantPad2d", "ZeroPad2d"):
        args = (1, 2.5) if name == "ConstantPad2d" else (1,)
        c, t = twin(name, *args)
        assert (c.padding, c.value) == (t.padding, t.value)


# ---- GLU, similarity, distance, pixel shuffle, RMSNorm ---------------------------------------
@pytest.mark.parametrize(("shape", "dim"), [((2, 6), -1), ((4, 3, 2), 0), ((2, 0, 4), 2)])
def test_glu_matches_torch(shape, dim):
    c, t = check(lambda lib, x: lib.nn.functional.glu(x, dim), rand(*shape))
    assert c.grad_fn.name() == t.grad_fn.name()
    if 0 not in shape:
        fd_check(lambda lib, x: lib.nn.functional.glu(x, dim), rand(*shape).astype(np.float64))
    compare(*twin("GLU", dim), rand(*shape))
    assert repr(chainrule.nn.GLU(dim)) == repr(torch.nn.GLU(dim))


def test_glu_non_contiguous_and_errors():
    check(lambda lib, x: lib.nn.functional.glu(x.t(), 0), rand(3, 4))
    F, G = chainrule.nn.functional, torch.nn.functional
    raises_like(RuntimeError, lambda: F.glu(chainrule.randn(2, 3)), lambda: G.glu(torch.randn(2, 3)))
    raises_like(RuntimeError, lambda: F.glu(chainrule.tensor(1.0)), lambda: G.glu(torch.tensor(1.0)))
    raises_like(NotImplementedError, lambda: F.glu(chainrule.arange(4)),
                lambda: G.glu(torch.arange(4)))


@pytest.mark.parametrize(("name", "kw"), [("CosineSimilarity", {}),
                                          ("CosineSimilarity", {"dim": 0, "eps": 1e-3}),
                                          ("PairwiseDistance", {}),
                                          ("PairwiseDistance", {"p": 1.0, "keepdim": True})])
def test_similarity_distance_modules(name, kw):
    c, t = twin(name, **kw)
    assert repr(c) == repr(t)
    compare(c, t, rand(4, 5), rand(4, 5))
    compare(c, t, rand(4, 5), rand(4, 1) if kw.get("dim") == 0 else rand(1, 5))
    compare(c, t, rand(4, 5), rand(1, 5))  # broadcast along the reduced dim too


@pytest.mark.parametrize(("shape", "r"), [((1, 8, 2, 3), 2), ((3, 2, 9, 1, 2), 3), ((4, 2, 2), 1)])
def test_pixel_shuffle_roundtrip_matches_torch(shape, r):
    c, t = check(lambda lib, x: lib.nn.functional.pixel_shuffle(x, r), rand(*shape))
    assert c.grad_fn.name() == t.grad_fn.name()
    out_shape = tuple(t.shape)
    c, t = check(lambda lib, x: lib.nn.functional.pixel_unshuffle(x, r), rand(*out_shape))
    assert c.grad_fn.name() == t.grad_fn.name()
    check(lambda lib, x: lib.nn.functional.pixel_shuffle(x.transpose(-1, -2), r),
          rand(*shape[:-2], shape[-1], shape[-2]))
    for name, arg, s in (("PixelShuffle", r, shape), ("PixelUnshuffle", r, out_shape)):
        cm, tm = twin(name, arg)
        assert repr(cm) == repr(tm)
        compare(cm, tm, rand(*s))


def test_pixel_shuffle_empty_and_errors_match_torch():
    F, G = chainrule.nn.functional, torch.nn.functional
    # empty batch: forward only (torch 2.13's own PixelShuffleBackward0 rejects it)
    check(lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), rand(0, 4, 2, 2), grad=False)
    x = chainrule.randn(0, 4, 2, 2, requires_grad=True)
    F.pixel_shuffle(x, 2).sum().backward()
    assert x.grad.shape == x.shape
    for fc, ft, shape, r in ((F.pixel_shuffle, G.pixel_shuffle, (1, 3, 2, 2), 2),
                             (F.pixel_unshuffle, G.pixel_unshuffle, (1, 1, 3, 4), 2),
                             (F.pixel_unshuffle, G.pixel_unshuffle, (1, 1, 4, 3), 2),
                             (F.pixel_shuffle, G.pixel_shuffle, (3, 2), 2),
                             (F.pixel_shuffle, G.pixel_shuffle, (1, 4, 2, 2), 0)):
        a = rand(*shape)
        raises_like(RuntimeError, lambda fc=fc, a=a, r=r: fc(chainrule.tensor(a), r),
                    lambda ft=ft, a=a, r=r: ft(torch.tensor(a), r))


@pytest.mark.parametrize(("shape", "norm"), [((2, 3, 6), (6,)), ((2, 3, 6), (3, 6)), ((6,), 6),
                                             ((0, 4), (4,))])
@pytest.mark.parametrize("eps", [None, 1e-5])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm_matches_torch(shape, norm, eps, affine):
    ns = (norm,) if isinstance(norm, int) else norm  # the functional form takes no int
    w = rand(*ns)
    if affine:
        check(lambda lib, x, w: lib.nn.functional.rms_norm(x, ns, w, eps), rand(*shape), w)
    else:
        check(lambda lib, x: lib.nn.functional.rms_norm(x, ns, eps=eps), rand(*shape))
    c, t = twin("RMSNorm", norm, eps=eps, elementwise_affine=affine)
    assert repr(c) == repr(t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    compare(c, t, rand(*shape))


def test_rms_norm_half_and_errors():
    check(lambda lib, x: lib.nn.functional.rms_norm(x, (4,)), rand(3, 4).astype(np.float16),
          second=False)
    F, G = chainrule.nn.functional, torch.nn.functional
    raises_like(TypeError, lambda: F.rms_norm(chainrule.randn(2, 6), 6),
                lambda: G.rms_norm(torch.randn(2, 6), 6))
    raises_like(RuntimeError, lambda: F.rms_norm(chainrule.randn(2, 6), (5,)),
                lambda: G.rms_norm(torch.randn(2, 6), (5,)))
    raises_like(RuntimeError, lambda: F.rms_norm(chainrule.randn(2, 4), (4,), chainrule.ones(3)),
                lambda: G.rms_norm(torch.randn(2, 4), (4,), torch.ones(3)))


# ---- transformer decoder ----------------------------------------------------------------------
def _masks(lib, t_len, s_len, n):
    causal = lib.nn.Transformer.generate_square_subsequent_mask(t_len)
    kpm = np.zeros((n, s_len), bool)
    kpm[0, -1] = True
    return causal, lib.tensor(kpm)


@pytest.mark.parametrize("kw", [{}, {"activation": "gelu", "norm_first": True,
                                     "batch_first": True}, {"layer_norm_eps": 1e-3, "bias": False}])
def test_decoder_layer_matches_torch(kw):
    c, t = twin("TransformerDecoderLayer", 8, 2, 16, dropout=0.0, **kw)
    assert repr(c) == repr(t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]
    bf = kw.get("batch_first")
    tgt, mem = (rand(2, 4, 8), rand(2, 5, 8)) if bf else (rand(4, 2, 8), rand(5, 2, 8))

    def call(m, x, memory):
        lib = chainrule if isinstance(m, chainrule.nn.Module) else torch
        causal, kpm = _masks(lib, 4, 5, 2)
        return m(x, memory, tgt_mask=causal, memory_key_padding_mask=kpm)

    compare(c, t, tgt, mem, rtol=1e-4, atol=1e-4)
    compare(c, t, tgt, mem, call=call, rtol=1e-4, atol=1e-4)
    c.eval()
    t.eval()
    compare(c, t, rand(4, 8), rand(5, 8), rtol=1e-4, atol=1e-4)  # unbatched


def test_transformer_matches_torch_and_mask():
    c, t = twin("Transformer", 8, 2, 2, 1, 16, dropout=0.0)
    assert repr(c) == repr(t)
    assert [n for n, _ in c.named_parameters()] == [n for n, _ in t.named_parameters()]

    def call(m, src, tgt):
        lib = chainrule if isinstance(m, chainrule.nn.Module) else torch
        causal, kpm = _masks(lib, 3, 5, 2)
        return m(src, tgt, tgt_mask=causal, src_key_padding_mask=kpm,
                 memory_key_padding_mask=kpm)

    compare(c, t, rand(5, 2, 8), rand(3, 2, 8), call=call, rtol=1e-4, atol=1e-4)
    for dtype in (None, torch.float64):
        cd = None if dtype is None else chainrule.float64
        assert_same(chainrule.nn.Transformer.generate_square_subsequent_mask(4, dtype=cd),
                    torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype))
    # default init: xavier_uniform_ on every matrix, as PyTorch
    fresh = chainrule.nn.Transformer(8, 2, 1, 1, 16)
    w = fresh.encoder.layers[0].linear1.weight
    assert w.abs().max().item() <= np.sqrt(6 / (8 + 16))
    raises_like(RuntimeError, lambda: c(chainrule.randn(5, 2, 8), chainrule.randn(3, 3, 8)),
                lambda: t(torch.randn(5, 2, 8), torch.randn(3, 3, 8)))
    raises_like(RuntimeError, lambda: c(chainrule.randn(5, 2, 8), chainrule.randn(3, 2, 4)),
                lambda: t(torch.randn(5, 2, 8), torch.randn(3, 2, 4)))


def test_decoder_stack_copies_layers():
    layer = chainrule.nn.TransformerDecoderLayer(8, 2, 16)
    dec = chainrule.nn.TransformerDecoder(layer, 2, norm=chainrule.nn.LayerNorm(8))
    assert dec.layers[0].linear1.weight is not dec.layers[1].linear1.weight
    tl = torch.nn.TransformerDecoderLayer(8, 2, 16)
    assert repr(dec) == repr(torch.nn.TransformerDecoder(tl, 2, norm=torch.nn.LayerNorm(8)))


# ---- deprecated init aliases ------------------------------------------------------------------
@pytest.mark.parametrize(("name", "args"), [("uniform", (-1, 1)), ("normal", ()), ("constant", (2.0,)),
                                            ("eye", ()), ("dirac", ()), ("xavier_uniform", ()),
                                            ("xavier_normal", ()), ("kaiming_uniform", ()),
                                            ("kaiming_normal", ()), ("orthogonal", ()),
                                            ("sparse", (0.5,))])
def test_deprecated_init_aliases_warn_like_torch(name, args):
    shape = (3, 4, 3) if name == "dirac" else (4, 3)
    with pytest.warns(FutureWarning) as wt:
        getattr(torch.nn.init, name)(torch.empty(shape), *args)
    x = chainrule.empty(shape)
    with pytest.warns(FutureWarning) as wc:
        out = getattr(chainrule.nn.init, name)(x, *args)
    assert str(wc[0].message) == str(wt[0].message)
    assert wc[0].filename == __file__  # attributed to the caller
    assert out is x
    if name == "constant":
        assert (x == 2.0).all().item()
