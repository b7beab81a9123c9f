"""``chainrule explain``: explain a worked example or a value computed by your script.

    chainrule explain --example linear-regression
    chainrule explain train.py --target loss [--html page.html] [--svg graph.svg]

The script runs (``runpy``, as ``__main__``) under ``explain.record()``, so every forward
value is captured exactly; then the tensor bound to ``--target`` in its globals is
explained, with leaves named after the script's variables (or ``--model``'s parameters).
"""
import argparse
import runpy
import sys

EXAMPLES = {
    "linear-regression": "the seed notebook: x=1, y=2, w=1, loss = (w·x − y)²",
}


def _linear_regression():
    import chainrule as torch

    from .core import explain, record

    x = torch.tensor(1.0)
    y = torch.tensor(2.0)
    w = torch.tensor(1.0, requires_grad=True)
    with record():
        y_hat = w * x
        s = y_hat - y
        loss = s**2
    return explain(loss, names={x: "x", y: "y", w: "w", y_hat: "ŷ", s: "s", loss: "loss"})


def _from_script(path, target, model_name):
    from .._tensor import Tensor
    from .core import explain, record

    sys.argv = [path]
    with record(), _graphs_retained():
        scope = runpy.run_path(path, run_name="__main__")
    if target not in scope:
        raise SystemExit(f"chainrule explain: {path} defines no global named {target!r}")
    out = scope[target]
    if not isinstance(out, Tensor):
        raise SystemExit(f"chainrule explain: {target} is a {type(out).__name__}, not a Tensor")
    if out.grad_fn is None:
        raise SystemExit(f"chainrule explain: {target} was not computed from tensors that require grad")
    model = scope.get(model_name) if model_name else None
    if model_name and model is None:
        raise SystemExit(f"chainrule explain: {path} defines no global named {model_name!r}")
    names = {}
    for k, v in scope.items():
        if isinstance(v, Tensor) and not k.startswith("_"):
            names.setdefault(v, k)
    return explain(out, names=names, model=model)


class _graphs_retained:
    """A training script calls loss.backward(), which frees the graph we want to explain:
    while the script runs, backward keeps it (retain_graph=True)."""

    def __enter__(self):
        from .. import autograd

        self.original = original = autograd.backward

        def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
                     inputs=None):
            return original(tensors, grad_tensors, True, create_graph, inputs)

        autograd.backward = backward

    def __exit__(self, *exc):
        from .. import autograd

        autograd.backward = self.original


def main(argv=None):
    """Entry point for ``chainrule explain ...``; returns the exit status."""
    p = argparse.ArgumentParser(
        prog="chainrule explain",
        description="Show the graph, every local gradient and every chain-rule step, with numbers.",
    )
    p.add_argument("script", nargs="?", help="a Python script to run")
    p.add_argument("--target", help="name of the script's global tensor to explain (e.g. loss)")
    p.add_argument("--model", help="name of the script's nn.Module, to group ops by module")
    p.add_argument("--example", choices=sorted(EXAMPLES), help="a built-in worked example")
    p.add_argument("--html", metavar="FILE", help="write the step-through page")
    p.add_argument("--svg", metavar="FILE", help="write the graph drawing")
    p.add_argument("--dot", metavar="FILE", help="write Graphviz source")
    p.add_argument("--markdown", action="store_true", help="print Markdown instead of text")
    p.add_argument("--quiet", action="store_true", help="print nothing (only write files)")
    args = p.parse_args(argv)
    if args.example:
        if args.script:
            p.error("give either --example or a script, not both")
        ex = _linear_regression()
    elif args.script:
        if not args.target:
            p.error("--target NAME is required with a script")
        ex = _from_script(args.script, args.target, args.model)
    else:
        p.error("give a script (with --target) or --example")
    if not args.quiet:
        sys.stdout.write(ex.markdown() if args.markdown else ex.text())
    for path, page in ((args.html, ex.html), (args.svg, ex.svg), (args.dot, ex.dot)):
        if path:
            text = page()
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
