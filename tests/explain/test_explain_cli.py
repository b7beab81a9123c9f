"""``chainrule explain``: the seed's worked example and a user's script."""
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import pytest

from chainrule.explain.cli import main

SEED_LINES = [
    "w = 1   (leaf, requires grad)",
    "x = 1   (constant)",
    "ŷ = mul(w, x) = 1",
    "y = 2   (constant)",
    "s = sub(ŷ, y) = -1",
    "loss = pow(s) = 1",
    "∂ŷ/∂w = x = 1",
    "∂ŷ/∂x: not needed (x is a constant)",
    "∂s/∂ŷ = 1",
    "∂s/∂y: not needed (y is a constant)",
    "∂loss/∂s = 2 · s = -2",
    "∂loss/∂loss = 1   (start: the output's own gradient)",
    "∂loss/∂s = ∂loss/∂loss × ∂loss/∂s = 1 × -2 = -2",
    "∂loss/∂ŷ = ∂loss/∂s × ∂s/∂ŷ = -2 × 1 = -2",
    "∂loss/∂w = ∂loss/∂ŷ × ∂ŷ/∂w = -2 × 1 = -2",
    "w.grad = -2",
]


def test_linear_regression_example(capsys, tmp_path):
    svg = tmp_path / "g.svg"
    assert main(["--example", "linear-regression", "--svg", str(svg)]) == 0
    out = capsys.readouterr().out
    lines = [ln.strip() for ln in out.splitlines()]
    pos = [lines.index(want) for want in SEED_LINES]  # every line, in this order
    assert pos == sorted(pos)
    ET.parse(svg)


def test_as_a_program():
    r = subprocess.run(  # noqa: PLW1510  (the return code is asserted below)
        [sys.executable, "-m", "chainrule.explain.cli", "--example", "linear-regression",
         "--markdown"],
        capture_output=True, text=True, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r"\frac{\partial \mathrm{loss}}{\partial w} = -2" in r.stdout


SCRIPT = """
import chainrule as torch

torch.manual_seed(0)
w1 = torch.randn(3, 4, requires_grad=True)
b1 = torch.zeros(4, requires_grad=True)
x = torch.randn(5, 3)
y = torch.randn(5, 4)
h = (x @ w1 + b1).tanh()
loss = ((h - y) ** 2).mean()
loss.backward()
"""


def test_script_target(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    html, svg, dot = tmp_path / "p.html", tmp_path / "g.svg", tmp_path / "g.dot"
    rc = main([str(script), "--target", "loss", "--html", str(html), "--svg", str(svg),
               "--dot", str(dot)])
    assert rc == 0
    out = capsys.readouterr().out
    assert out.startswith("Explanation of loss (")
    assert "h = tanh(%" in out and "w1.grad = [[" in out
    assert "∂loss/∂b1: sum [5, 4] back to b1's shape [4] (it was broadcast)" in out
    ET.parse(svg)
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert dot.read_text().startswith("digraph")


def test_bad_usage(tmp_path, capsys):
    script = tmp_path / "s.py"
    script.write_text("import chainrule\nn = 3\nt = chainrule.ones(2)\n")
    with pytest.raises(SystemExit, match="defines no global named 'loss'"):
        main([str(script), "--target", "loss"])
    with pytest.raises(SystemExit, match="n is a int, not a Tensor"):
        main([str(script), "--target", "n"])
    with pytest.raises(SystemExit, match="not computed from tensors that require grad"):
        main([str(script), "--target", "t"])
    for argv in ([], [str(script)], [str(script), "--example", "linear-regression"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    capsys.readouterr()
