"""The ``chainrule demo`` job: trains to >= 97%, checkpoints, reloads, plots; and the CLI."""
import os
import subprocess
import sys

import pytest
from safetensors.torch import load_file

import chainrule
from chainrule import demo
from chainrule.__main__ import main


def test_demo_run_reaches_accuracy_and_round_trips(tmp_path):
    res = demo.run(epochs=15, out=str(tmp_path), seed=0, quiet=True)
    assert res["test_accuracy"] >= 0.97
    assert res["reloaded_accuracy"] == res["test_accuracy"]
    assert len(res["losses"]) == 15 * 45 and res["losses"][-1] < res["losses"][0]
    weights = load_file(res["checkpoint"])  # an ordinary safetensors file, readable by torch
    assert set(weights) == {"0.weight", "0.bias", "2.weight", "2.bias"}
    with open(res["plot"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_demo_without_matplotlib(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    res = demo.run(epochs=1, out=str(tmp_path), quiet=False)
    assert res["plot"] is None
    assert "matplotlib is not installed: skipping" in capsys.readouterr().out
    assert os.listdir(tmp_path) == [demo.CHECKPOINT]


def test_cli_demo_subprocess(tmp_path):
    r = subprocess.run([sys.executable, "-m", "chainrule", "demo", "--epochs", "1", "--out",
                        str(tmp_path), "--seed", "1"], capture_output=True, text=True, timeout=120,
                       check=False)
    assert r.returncode == 0, r.stderr
    assert "test accuracy:" in r.stdout and "(same)" in r.stdout
    assert "training" in r.stderr  # the tqdm bar
    assert sorted(os.listdir(tmp_path)) == sorted([demo.CHECKPOINT, demo.PLOT])


def test_cli_dispatch(capsys, monkeypatch):
    assert main([]) == 2 and "commands:" in capsys.readouterr().out
    assert main(["--help"]) == 0
    assert main(["nope"]) == 2 and "unknown command 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo", "--epochs", "0"])
    monkeypatch.setitem(sys.modules, "chainrule.explain.cli", None)
    assert main(["explain"]) == 1
    assert "chainrule explain is not available" in capsys.readouterr().err


def test_cli_explain_dispatches(monkeypatch):
    from chainrule.explain import cli

    seen = []
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(argv) or 0)
    assert main(["explain", "a", "--b"]) == 0 and seen == [["a", "--b"]]


def test_demo_missing_sklearn(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    assert demo.main(["--epochs", "1", "--out", str(tmp_path), "--quiet"]) == 1
    assert "pip install chainrule[demo]" in capsys.readouterr().err
    assert chainrule.__version__
