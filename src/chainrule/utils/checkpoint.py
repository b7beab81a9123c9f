"""Activation checkpointing: trade compute for memory (PyTorch's torch.utils.checkpoint).

The forward runs without recording, so no intermediate activation is kept; backward runs
the function again with recording on and backpropagates through that fresh graph. The
random state is restored for the rerun (``preserve_rng_state``), so dropout masks match.
"""
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad

__all__ = ["checkpoint", "checkpoint_sequential"]


class CheckpointFunction(Function):
    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        ctx.run_function = run_function
        ctx.preserve = preserve_rng_state
        if preserve_rng_state:
            from ..ops.creation import default_generator

            ctx.rng_state = default_generator.get_state()
        ctx.tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [a for a in args if not isinstance(a, Tensor)]
        ctx.save_for_backward(*[a for a in args if isinstance(a, Tensor)])
        ctx.nargs = len(args)
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors
        args = [None] * ctx.nargs
        others = iter(ctx.others)
        tensors = iter(saved)
        detached = []
        for i in range(ctx.nargs):
            if i in ctx.tensor_positions:
                t = next(tensors)
                d = t.detach().requires_grad_(t.requires_grad)
                detached.append(d)
                args[i] = d
            else:
                args[i] = next(others)
        if ctx.preserve:
            from ..ops.creation import default_generator

            current = default_generator.get_state()
            default_generator.set_state(ctx.rng_state)
        try:
            with enable_grad():
                outputs = ctx.run_function(*args)
        finally:
            if ctx.preserve:
                default_generator.set_state(current)
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        from ..autograd import grad as _grad

        wanted = [d for d in detached if d.requires_grad]
        gs = _grad([o for o, _ in pairs], wanted, [g for _, g in pairs], allow_unused=True) if pairs and wanted else ()
        it = iter(gs)
        result = [None, None]
        for i in range(ctx.nargs):
            if i in ctx.tensor_positions:
                d = detached[ctx.tensor_positions.index(i)]
                result.append(next(it) if d.requires_grad else None)
            else:
                result.append(None)
        return tuple(result)


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    return CheckpointFunction.apply(function, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Split a Sequential (or list of modules) into ``segments`` checkpointed chunks."""
    fns = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = max(1, len(fns) // segments)

    def run(start, end):
        def forward(x):
            for f in fns[start:end]:
                x = f(x)
            return x

        return forward

    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run(start, end + 1), input, preserve_rng_state=kwargs.get("preserve_rng_state", True))
    return run(end + 1, len(fns))(input)
