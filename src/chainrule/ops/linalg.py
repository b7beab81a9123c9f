"""Linear algebra: matmul and its rank-specific forms, linear/addmm, einsum, tensordot.

Every product is one op, ``MatMul``, with two flags that read an operand transposed (a
strided view, which BLAS takes as-is). Its backward is again ``MatMul`` with flags chosen
so each gradient is one BLAS call on the original buffers (no transposed copies), and the
rule differentiates again (double backward). The subclasses differ only in the grad_fn
name PyTorch shows for each rank combination.
"""
from .. import _dtype
from .._backend import ndarray, xp
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad_state
from ..autograd.graph import apply, array_of, call, like
from ._core import Op, constant_array, method

__all__ = [
    "addmm",
    "baddbmm",
    "bmm",
    "dot",
    "einsum",
    "ger",
    "inner",
    "matmul",
    "mm",
    "mv",
    "outer",
    "tensordot",
    "vdot",
]
__all_functional__ = ["linear", "bilinear"]


def _T(a):
    return a.swapaxes(-1, -2)


def _blas(a):
    """``a`` itself when BLAS can read it (each matrix has a unit stride, no zero stride);
    else a contiguous copy. Upstream gradients are often broadcast views (the gradient of
    a sum) whose zero strides push NumPy's matmul off BLAS onto a loop ~40x slower."""
    f = a.flags
    if f.c_contiguous or f.f_contiguous:
        return a
    st = a.strides
    if 0 in st or a.itemsize not in st[-2:]:
        return xp.ascontiguousarray(a)
    return a


def _mm_arrays(a, b, ta, tb):
    """The product of the (optionally transposed) arrays, as one BLAS call where it can be:
    a stack of matrices times one matrix is folded into one big matrix product."""
    a, b = _blas(a), _blas(b)
    if ta:
        a = _T(a)
    if tb:
        b = _T(b)
    if b.ndim == 2 and a.ndim > 2 and not ta:
        m = a.shape[-1]
        flat = a.reshape(-1, m)  # a view when a is contiguous
        return (flat @ b).reshape(a.shape[:-1] + (b.shape[-1],))
    return xp.matmul(a, b)


class MatMul(Op):
    """``(aᵀ if ta else a) @ (bᵀ if tb else b)`` with NumPy/PyTorch matmul semantics."""

    node_name = "MatmulBackward0"  # PyTorch decomposes these cases into expand/bmm/view nodes
    operands = ("self", "other")
    formulas = {"self": "grad @ otherᵀ", "other": "selfᵀ @ grad"}
    saves = (0, 1)
    array_backward = True  # (_mm takes arrays too; the rest is reshape and *)

    def forward(ctx, a, b, ta=False, tb=False):
        return _mm_arrays(a, b, ta, tb)

    def backward(ctx, grad):
        a, b = ctx.saved
        ta, tb = ctx.args if ctx.args else (False, False)
        na, nb = len(ctx.metas[0][0]) if ctx.metas[0] else a.ndim, b.ndim
        need_a = ctx.edges[0] is not None
        need_b = ctx.edges[1] is not None
        ga = gb = None
        if na == 1 and nb == 1:  # dot
            return (grad * b if need_a else None), (grad * a if need_b else None)
        if nb == 1:  # (..., n, k) @ (k,) -> (..., n)
            if need_a:
                gcol = grad.reshape(grad.shape + (1,))
                ga = b.reshape((-1, 1)) * grad.reshape(grad.shape[:-1] + (1, grad.shape[-1])) \
                    if ta else gcol * b
            if need_b:
                if na == 2:
                    gb = _mm(a, grad, not ta, False)  # Aᵀ g
                elif ta:  # Σ_batch a[b] @ g[b] as a batched matrix @ column
                    gb = _mv_batched(a, grad, False)
                else:
                    k = a.shape[-1]
                    gb = _mm(a.reshape(-1, k), grad.reshape(-1), True, False)
            return ga, gb
        if na == 1:  # (k,) @ (..., k, m) -> (..., m)
            if need_a:
                # B g (batched: a matrix @ column per batch, summed by the engine)
                ga = _mm(b, grad, tb, False) if nb == 2 else _mv_batched(b, grad, tb)
            if need_b:
                m = grad.shape[-1]
                gb = grad.reshape(grad.shape[:-1] + (m, 1)) * a if tb else \
                    a.reshape((-1, 1)) * grad.reshape(grad.shape[:-1] + (1, m))
            return ga, gb
        if need_a:
            if ta:
                ga = _mm(b, grad, tb, True)  # (g Bᵀ)ᵀ = B gᵀ
            else:  # a 2-D left operand of a batch gets (..., n, k), summed by the engine
                ga = _mm(grad, b, False, not tb)
        if need_b:
            if tb:
                gb = _mm(grad, a, True, ta)  # (Aᵀ g)ᵀ = gᵀ A
            elif nb == 2 and na > 2 and not ta:
                # a weight shared across a batch: one GEMM over the flattened batch
                k, m = a.shape[-1], grad.shape[-1]
                gb = _mm(a.reshape(-1, k), grad.reshape(-1, m), True, False)
            else:
                gb = _mm(a, grad, not ta, False)
        return ga, gb


def _mv_batched(m, v, tm):
    """(mᵀ if tm else m)[..., i, j] · v[..., j] → [..., i] for batched m and v."""
    col = _mm(m, v.reshape(v.shape + (1,)), tm, False)
    return col.reshape(col.shape[:-1])


class Dot(MatMul):
    node_name = "DotBackward0"
    formulas = {"self": "other", "other": "self"}


class Vdot(MatMul):
    node_name = "VdotBackward0"
    formulas = {"self": "other", "other": "self"}


class Mv(MatMul):
    node_name = "MvBackward0"
    formulas = {"self": "grad ⊗ vec", "vec": "selfᵀ @ grad"}
    operands = ("self", "vec")


class Mm(MatMul):
    node_name = "MmBackward0"
    operands = ("self", "mat2")
    formulas = {"self": "grad @ mat2ᵀ", "mat2": "selfᵀ @ grad"}


class Bmm(MatMul):
    node_name = "BmmBackward0"
    operands = ("self", "mat2")
    formulas = {"self": "grad @ mat2ᵀ", "mat2": "selfᵀ @ grad"}


def _op_for(na, nb, same_batch):
    if na == 1 and nb == 1:
        return Dot
    if nb == 1:
        return Mv if na == 2 else MatMul
    if na == 2 and nb == 2:
        return Mm
    if na == 3 and nb == 3 and same_batch:
        return Bmm
    return MatMul


def _mm(a, b, ta, tb):
    """``MatMul`` of two tensors, or two arrays in a rule run on arrays (the backward's
    building block); no checks."""
    if a.__class__ is ndarray:  # on arrays every MatMul flavour is this one product
        return _mm_arrays(a, b, ta, tb)
    na, nb = a.ndim, b.ndim
    op = _op_for(na, nb, na == nb == 3 and a.shape[0] == b.shape[0])
    return call(op, a, b, args=(ta, tb) if ta or tb else ())


# ---- errors -------------------------------------------------------------------------------
def _tname(npd):
    return _dtype._FROM_NP[npd]._short


def _same_dtype(a, b, kind="mm"):
    if a.dtype != b.dtype:
        if kind == "dot":
            raise RuntimeError(
                f"dot : expected both vectors to have same dtype, but found {_tname(a.dtype)} "
                f"and {_tname(b.dtype)}"
            )
        if kind == "bmm":
            raise RuntimeError(f"expected scalar type {_tname(a.dtype)} but found {_tname(b.dtype)}")
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {_lower(a.dtype)} != "
            f"{_lower(b.dtype)}"
        )


def _lower(npd):
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}.get(str(npd), str(npd))


def _mm_shape_error(a_shape, b_shape):
    return RuntimeError(
        f"mat1 and mat2 shapes cannot be multiplied ({a_shape[0]}x{a_shape[1]} and "
        f"{b_shape[0]}x{b_shape[1]})"
    )


def _dot_size_error(n, m):
    return RuntimeError(
        f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
        f"of elements, but got {n} and {m} elements respectively"
    )


def _bmm_error(batch, k, got):
    return RuntimeError(
        f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k}] but got: "
        f"[{got[0]}, {got[1]}]."
    )


def _check_tensor(x, name, pos, fn):
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )


# ---- public functions ---------------------------------------------------------------------
def matmul(input, other, *, out=None):
    _check_tensor(input, "input", 1, "matmul")
    _check_tensor(other, "other", 2, "matmul")
    a, b = input._data, other._data
    na, nb = a.ndim, b.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D"
        )
    if na == 1 and nb == 1:
        return dot(input, other)
    k = a.shape[-1]
    if nb == 1:
        if b.shape[0] != k:
            rows = _prod(a.shape[:-1])
            raise RuntimeError(
                f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({b.shape[0]})"
            )
    elif nb == 2:
        if b.shape[0] != k:
            raise _mm_shape_error((_prod(a.shape[:-1]) if na > 1 else 1, k), b.shape)
    else:
        a_batch, b_batch = a.shape[:-2] if na > 2 else (), b.shape[:-2]
        batch = a_batch
        if a_batch != b_batch:  # (broadcast_shapes costs ~2 µs: only where they differ)
            try:
                batch = xp.broadcast_shapes(a_batch, b_batch)
            except ValueError:
                from ._core import broadcast_error

                raise broadcast_error(a_batch, b_batch) from None
        if b.shape[-2] != k:
            bt = _prod(batch)
            raise _bmm_error(bt, k, (bt, b.shape[-2]))
    _same_dtype(a, b)
    # batched products: PyTorch shows UnsafeViewBackward0 (it decomposes them); one node here
    return apply(_op_for(na, nb, False), (input, other), (a, b))


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def mm(input, mat2, *, out=None):
    a, b = input._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise _mm_shape_error(a.shape, b.shape)
    _same_dtype(a, b)
    return apply(Mm, (input, mat2), (a, b))


def bmm(input, mat2, *, out=None):
    a, b = input._data, mat2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise _bmm_error(a.shape[0], a.shape[2], b.shape)
    _same_dtype(a, b, "bmm")
    return apply(Bmm, (input, mat2), (a, b))


def _check_dot(a, b, name):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.shape[0] != b.shape[0]:
        raise _dot_size_error(a.shape[0], b.shape[0])
    if a.dtype != b.dtype:
        _same_dtype(a, b, "dot")


def dot(input, tensor, *, out=None):
    a, b = input._data, tensor._data
    _check_dot(a, b, "dot")
    return apply(Dot, (input, tensor), (a, b))


def vdot(input, other, *, out=None):
    """Real tensors only (chainrule has no complex dtype), so no conjugation."""
    a, b = input._data, other._data
    _check_dot(a, b, "vdot")
    return apply(Vdot, (input, other), (a, b))


def mv(input, vec, *, out=None):
    a, b = input._data, vec._data
    if a.ndim != 2 or b.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a.ndim}, {b.ndim}")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({a.shape[0]}), mat ({a.shape[0]}x{a.shape[1]}), vec "
            f"({b.shape[0]})"
        )
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {_tname(b.dtype)}, "
            f"{_tname(a.dtype)}, and {_tname(b.dtype)}"
        )
    return apply(Mv, (input, vec), (a, b))


def outer(input, vec2, *, out=None):
    """input ⊗ vec2, recorded as PyTorch does: a broadcast multiply (MulBackward0)."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return input.reshape(-1, 1) * vec2


ger = outer


def inner(input, other, *, out=None):
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    return einsum("...i,...i->...", input, other) if input._data.ndim == 1 == other._data.ndim \
        else tensordot(input, other, ([input._data.ndim - 1], [other._data.ndim - 1]))


# ---- linear / addmm -----------------------------------------------------------------------
class Addmm(Op):
    """``beta·self + alpha·(mat1 @ mat2ᵀ-if-tb)`` as one node; linear() is addmm with the
    weight read transposed (tb) and any leading batch dims of mat1 folded into one GEMM."""

    node_name = "AddmmBackward0"
    operands = ("self", "mat1", "mat2")
    formulas = {
        "self": "beta",
        "mat1": "alpha · grad @ mat2ᵀ  (linear: grad @ weight)",
        "mat2": "alpha · mat1ᵀ @ grad  (linear: gradᵀ @ input)",
    }
    saves = (1, 2)
    array_backward = True

    def forward(ctx, c, a, b, tb, beta, alpha):
        out = _mm_arrays(a, b, False, tb)
        if alpha != 1:
            out *= alpha
        if c is not None:
            out += c if beta == 1 else beta * c
        return out

    def backward(ctx, grad):
        a, b = ctx.saved
        tb, beta, alpha = ctx.args
        gc = ga = gb = None
        if ctx.edges[0] is not None:
            gc = _bias_grad(grad, ctx.metas[0][0], beta)
        if alpha != 1:
            grad = grad * alpha
        if ctx.edges[1] is not None:
            ga = _mm(grad, b, False, not tb)
        if ctx.edges[2] is not None:
            if a.ndim > 2:  # fold the batch: one GEMM
                k, m = a.shape[-1], grad.shape[-1]
                a2, g2 = a.reshape(-1, k), grad.reshape(-1, m)
            else:
                a2, g2 = a, grad
            gb = _mm(g2, a2, True, False) if tb else _mm(a2, g2, True, False)
        return gc, ga, gb


def _bias_grad(grad, shape, beta):
    """The gradient of addmm's ``self``. A vector bias broadcast over the rows gets its row
    sum here, as one BLAS product with a ones vector (~3x faster than NumPy's sum over the
    leading axis, which the engine would otherwise do); under create_graph, as recorded ops.
    ``grad`` is an array when the engine runs the rule on arrays."""
    tensor = isinstance(grad, Tensor)
    g = grad._data if tensor else grad
    if not _grad_state.enabled and len(shape) == 1 and g.ndim >= 2 and shape[0] == g.shape[-1] \
            and g.dtype.kind == "f" and g.itemsize >= 4:
        rows = g.reshape(-1, shape[0])
        gc = constant_array("ones", rows.shape[0], g.dtype) @ _blas(rows)
        if beta != 1:
            gc *= beta
        return Tensor._make(gc) if tensor else gc
    return grad if beta == 1 else grad * beta


def linear(input, weight, bias=None):
    """``input @ weightᵀ + bias`` as a single node (AddmmBackward0 with a bias, else the
    matmul node; PyTorch shows view nodes around it for inputs that are not 2-D)."""
    a, w = input._data, weight._data
    if bias is not None and a.ndim >= 2 and w.ndim == 2:  # a layer's call: the checks in brief
        c = bias._data
        if a.shape[-1] == w.shape[1] and c.shape == w.shape[:1] and a.dtype is w.dtype is c.dtype:
            return apply(Addmm, (bias, input, weight), (c, a, w), _LINEAR)
    if w.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {w.ndim}D")
    if w.ndim == 1 and bias is not None:
        raise RuntimeError("mat2 must be a matrix, got 1-D tensor")
    if a.ndim == 0:
        raise RuntimeError(
            "both arguments to linear need to be at least 1D, but they are "
            f"{a.ndim}D and {w.ndim}D"
        )
    if a.ndim == 1 and bias is not None and w.ndim == 2:  # as PyTorch: through a 1×k matrix
        return linear(input.reshape(1, -1), weight, bias).reshape(-1)
    k = a.shape[-1]
    if w.ndim == 2 and k != w.shape[1]:
        rows = _prod(a.shape[:-1]) if a.ndim > 1 else 1
        raise _mm_shape_error((rows, k), (w.shape[1], w.shape[0]))
    _same_dtype(a, w)
    if bias is None:
        if w.ndim == 1:
            return matmul(input, weight)
        op = Mm if a.ndim == 2 else MatMul
        return apply(op, (input, weight), (a, w), (False, True))
    c = bias._data
    out_shape = a.shape[:-1] + (w.shape[0],) if w.ndim == 2 else a.shape[:-1]
    _check_expand(c, out_shape)
    _bias_dtype(c, w)
    return apply(Addmm, (bias, input, weight), (c, a, w), _LINEAR)


_LINEAR = (True, 1, 1)  # Addmm's args for linear: the weight read transposed, beta = alpha = 1


def _bias_dtype(c, m):
    if c.dtype != m.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {_tname(c.dtype)} and "
            f"{_tname(m.dtype)}"
        )


def _check_expand(c, shape):
    lead = len(shape) - c.ndim
    for i, s in enumerate(c.shape):
        if s != 1 and s != shape[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[lead + i]}) must match the existing "
                f"size ({s}) at non-singleton dimension {lead + i}.  Target sizes: "
                f"{list(shape)}.  Tensor sizes: {list(c.shape)}"
            )


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    a, b = mat1._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {a.ndim}-D tensor")
    if b.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {b.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise _mm_shape_error(a.shape, b.shape)
    _same_dtype(a, b)
    _bias_dtype(input._data, b)
    _check_expand(input._data, (a.shape[0], b.shape[1]))
    return apply(Addmm, (input, mat1, mat2), (input._data, a, b), (False, beta, alpha))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta·input + alpha·bmm(batch1, batch2), composed (PyTorch records one node)."""
    p = bmm(batch1, batch2)
    if alpha != 1:
        p = p * alpha
    return p + (input if beta == 1 else input * beta)


def bilinear(input1, input2, weight, bias=None):
    """nn.functional.bilinear: x1ᵀ W_o x2 (+ b_o) for every output o, via one einsum."""
    y = einsum("...i,oij,...j->...o", input1, weight, input2)
    return y if bias is None else y + bias


# ---- einsum ---------------------------------------------------------------------------------
class Einsum(Op):
    """General einsum; the gradient of each operand is an einsum of the upstream gradient
    with the other operands (plus identity / ones constants for repeated or summed-away
    subscripts), so it differentiates to any order."""

    node_name = "EinsumBackward0"
    formulas = {"self": "einsum of grad with the other operands"}
    array_backward = True  # (_einsum_apply takes arrays; like for the constants)

    def forward(ctx, *args):
        *arrays, spec = args
        ins, out = spec
        eq = ",".join(ins) + "->" + out
        if len(arrays) > 1:
            return xp.asarray(xp.einsum(eq, *map(_blas, arrays), optimize=True))
        return xp.asarray(xp.einsum(eq, *arrays))

    def backward(ctx, grad):
        ins, out = ctx.args[-1]
        ops = ctx.saved
        res = []
        for i, sub in enumerate(ins):
            if ctx.edges[i] is None:
                res.append(None)
                continue
            res.append(_einsum_grad(i, ins, out, ops, grad, ctx.metas[i][0]))
        return tuple(res)


def _einsum_grad(i, ins, out, ops, grad, shape):
    sub = ins[i]
    terms, tensors = [out], [grad]
    for j, (s, t) in enumerate(zip(ins, ops)):
        if j != i:
            terms.append(s)
            tensors.append(t)
    present = set("".join(terms))
    free = _free_letters(set("".join(ins)) | set(out))
    target = []
    seen = {}
    dt = array_of(grad).dtype
    for pos, ch in enumerate(sub):
        n = shape[pos]
        if ch in seen:  # repeated subscript: a diagonal, put back with an identity
            new = next(free)
            terms.append(ch + new)
            tensors.append(like(grad, xp.eye(n, dtype=dt)))
            target.append(new)
            continue
        seen[ch] = n
        if ch not in present:  # summed only inside this operand: broadcast back with ones
            terms.append(ch)
            tensors.append(like(grad, xp.ones(n, dtype=dt)))
            present.add(ch)
        target.append(ch)
    return _einsum_apply(terms, "".join(target), tensors)


def _free_letters(used):
    import string

    return iter([c for c in string.ascii_letters if c not in used])


def _einsum_apply(ins, out, tensors):
    """einsum of ``tensors`` (the gradient first): recorded on Tensors, Einsum's own forward
    on the arrays of a rule the engine runs on arrays."""
    spec = (tuple(ins), out)
    if not isinstance(tensors[0], Tensor):
        return Einsum.forward(None, *tensors, spec)
    arrays = tuple(t._data for t in tensors)
    return apply(_einsum_op(len(tensors)), tuple(tensors), arrays, (spec,))


_EINSUM_OPS = {}


def _einsum_op(n):
    """The Einsum op for n operands: each operand's gradient needs all the others saved."""
    op = _EINSUM_OPS.get(n)
    if op is None:
        names = tuple(f"tensors[{i}]" for i in range(n))
        op = _EINSUM_OPS[n] = type("Einsum", (Einsum,), {
            "saves": tuple(range(n)), "operands": names,
            "formulas": {k: "einsum of grad with the other operands" for k in names},
        })
    return op


def _parse_einsum(equation, shapes):
    """PyTorch's einsum rules: explicit/implicit output, ellipsis, size checks (its errors)."""
    import string

    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    used = {c for c in eq if c.isalpha()}
    for c in eq:
        if not (c.isalpha() or c in ".,->"):
            raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
    spare = [c for c in string.ascii_letters if c not in used]
    ell_nd = 0
    parsed = []
    for k, (t, shape) in enumerate(zip(terms, shapes)):
        if "." in t:
            if t.count("...") != 1 or t.replace("...", "").count("."):
                raise RuntimeError(
                    f"einsum(): found '.' for operand {k} that is not part of any ellipsis"
                )
            nd = len(shape) - (len(t) - 3)
            if nd < 0:
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({len(t) - 3}) is more "
                    f"than the number of dimensions ({len(shape)}) for operand {k}"
                )
            ell_nd = max(ell_nd, nd)
            parsed.append((t, nd))
        else:
            if len(t) != len(shape):
                raise RuntimeError(
                    f"einsum(): the number of subscripts in the equation ({len(t)}) does not match "
                    f"the number of dimensions ({len(shape)}) for operand {k} and no ellipsis was "
                    "given"
                )
            parsed.append((t, 0))
    ell = "".join(spare[:ell_nd])
    ins = [t.replace("...", ell[ell_nd - nd:]) if "." in t else t for t, nd in parsed]
    sizes = {}
    for k, (t, shape) in enumerate(zip(ins, shapes)):
        local = {}
        for c, n in zip(t, shape):
            if c in local and local[c] != n:
                raise RuntimeError(
                    f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't "
                    f"match, {n} != {local[c]}"
                )
            local[c] = n
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev:
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {n} for operand {k} which does not "
                    f"broadcast with previously seen size {prev}"
                )
    if arrow:
        if rhs.count("...") > 1 or rhs.replace("...", "").count("."):
            raise RuntimeError("einsum(): found '.' for output but it is not part of any ellipsis")
        out = rhs.replace("...", ell)
        for c in rhs.replace("...", ""):
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in sizes:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any "
                    "input operand"
                )
    else:
        flat = "".join(t for t, _ in parsed).replace("...", "")
        out = ell + "".join(sorted(c for c in set(flat) if flat.count(c) == 1))
    return ins, out, sizes


def einsum(equation, *operands):
    """torch.einsum (string form; operands may also be given as one list). One node,
    ``EinsumBackward0``, where PyTorch records its decomposition (permute/bmm/view nodes);
    the sublist form ``einsum(a, [0, 1], b, [1, 2])`` is not supported."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    arrays = [t._data for t in operands]
    ins, out, sizes = _parse_einsum(equation, [a.shape for a in arrays])
    if len(arrays) > 1:
        dt = arrays[0].dtype
        for a in arrays[1:]:
            if a.dtype != dt:
                raise RuntimeError(f"expected scalar type {_tname(dt)} but found {_tname(a.dtype)}")
    # size-1 dims broadcast against their subscript's size (NumPy wants equal sizes); an
    # expand node sums their gradient back
    operands = tuple(
        t.expand(*(sizes[c] for c in sub)) if any(n != sizes[c] for c, n in zip(sub, a.shape))
        else t
        for t, a, sub in zip(operands, arrays, ins)
    )
    arrays = [t._data for t in operands]
    return apply(_einsum_op(len(arrays)), tuple(operands), tuple(arrays), ((tuple(ins), out),))


def tensordot(a, b, dims=2, out=None):
    """One einsum node (PyTorch records permute/reshape/mm nodes)."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(na - dims, na)), list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError("both dimension lists should have same length")
    import string

    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(na)]
    sb = [next(letters) for _ in range(nb)]
    for i, j in zip(da, db):
        i, j = i % na if na else i, j % nb if nb else j
        if a._data.shape[i] != b._data.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a._data.shape[i]} in "
                f"dim {i} and second has size {b._data.shape[j]} in dim {j}"
            )
        sb[j] = sa[i]
    contracted = {sa[i % na] for i in da}
    out = "".join(c for c in sa if c not in contracted) + "".join(c for c in sb if c not in contracted)
    return einsum("".join(sa) + "," + "".join(sb) + "->" + out, a, b)


# ---- methods and operators ----------------------------------------------------------------
method("matmul")(matmul)
method("mm")(mm)
method("bmm")(bmm)
method("dot")(dot)
method("vdot")(vdot)
method("mv")(mv)
method("outer")(outer)
method("ger")(ger)
method("inner")(inner)
method("addmm")(addmm)
method("baddbmm")(baddbmm)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other if isinstance(other, Tensor) else
                                               Tensor._make(xp.asarray(other)), self)
