"""chainrule.datasets offline: digits, IDX parsing, MNIST from files and from local 'mirrors'."""
import functools
import gzip
import hashlib
import http.server
import os
import struct
import sys
import threading

import numpy as np
import pytest

import chainrule
from chainrule import datasets


def test_load_digits():
    x, y = datasets.load_digits()
    assert x.shape == (1797, 64) and x.dtype == chainrule.float32
    assert y.shape == (1797,) and y.dtype == chainrule.int64
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert sorted(set(y.tolist())) == list(range(10))
    xi, _ = datasets.load_digits(images=True)
    assert xi.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(xi.numpy().reshape(1797, 64), x.numpy())


def test_train_test_split_is_deterministic_and_disjoint():
    x, y = datasets.load_digits()
    a = datasets.train_test_split(x, y, 0.25, seed=3)
    b = datasets.train_test_split(x, y, 0.25, seed=3)
    c = datasets.train_test_split(x, y, 0.25, seed=4)
    assert [t.shape[0] for t in a] == [1348, 1348, 449, 449]
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert not np.array_equal(a[2].numpy(), c[2].numpy())
    rows = {r.tobytes() for r in np.concatenate([a[0].numpy(), a[2].numpy()])}
    assert len(rows) == len({r.tobytes() for r in x.numpy()})
    with pytest.raises(ValueError, match="test_fraction"):
        datasets.train_test_split(x, y, 1.5)


def test_load_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install chainrule\[demo\]"):
        datasets.load_digits()


# ---- IDX / MNIST ------------------------------------------------------------------------
def _idx(arr, magic_type=0x08):
    arr = np.asarray(arr)
    head = struct.pack(">I", (magic_type << 8) | arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def _write_mnist(folder, n_train=5, n_test=3, gz=True):
    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        imgs = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        for kind, arr in (("images-idx3-ubyte", imgs), ("labels-idx1-ubyte", labels)):
            name = f"{prefix}-{kind}" + (".gz" if gz else "")
            data = _idx(arr)
            with open(os.path.join(folder, name), "wb") as f:
                f.write(gzip.compress(data) if gz else data)
        out[prefix] = (imgs, labels)
    return out


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_idx_files(tmp_path, gz):
    truth = _write_mnist(tmp_path / "MNIST" / "raw", gz=gz)
    for train, prefix in ((True, "train"), (False, "t10k")):
        ds = datasets.MNIST(tmp_path, train=train)
        imgs, labels = truth[prefix]
        assert len(ds) == len(imgs)
        np.testing.assert_array_equal(ds.data.numpy(), imgs)
        assert ds.targets.dtype == chainrule.int64
        img, target = ds[1]
        assert img.shape == (1, 28, 28) and img.dtype == chainrule.float32
        np.testing.assert_allclose(img.numpy()[0], imgs[1] / 255.0, rtol=1e-6)
        assert target == int(labels[1])
    ds = datasets.MNIST(tmp_path, transform=lambda t: t * 2, target_transform=lambda y: -y)
    assert ds[0][1] == -int(truth["train"][1][0]) and float(ds[0][0].max()) <= 2.0
    x, y = next(iter(chainrule.utils.data.DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 1, 28, 28) and y.dtype == chainrule.int64


def test_idx_errors(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(_idx(np.zeros((2, 3), np.uint8)))
    with pytest.raises(ValueError, match="bad magic number 0x00000802, expected 0x00000803"):
        datasets.read_idx(p, 0x00000803)
    p.write_bytes(b"\x01\x02\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.read_idx(p)
    p.write_bytes(_idx(np.zeros((2, 3), np.uint8))[:-1])
    with pytest.raises(ValueError, match="needs 6 bytes of data, found 5"):
        datasets.read_idx(p)
    p.write_bytes(b"\x00\x00\x08\x03" + bytes(4))
    with pytest.raises(ValueError, match="ends early"):
        datasets.read_idx(p)
    g = tmp_path / "f.gz"
    g.write_bytes(gzip.compress(_idx(np.zeros(4, np.uint8)))[:-6])
    with pytest.raises(ValueError, match="cannot read IDX"):
        datasets.read_idx(g)
    np.testing.assert_array_equal(
        datasets.read_idx(_save(tmp_path / "i", _idx(np.arange(6, dtype=">i4").reshape(2, 3), 0x0C))),
        np.arange(6).reshape(2, 3))


def _save(path, data):
    path.write_bytes(data)
    return path


def test_mnist_missing_files_and_count_mismatch(tmp_path):
    with pytest.raises(RuntimeError, match="download=True"):
        datasets.MNIST(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    _write_mnist(raw)
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(np.zeros(2, np.uint8))))
    with pytest.raises(ValueError, match="5 images but 2 labels"):
        datasets.MNIST(tmp_path)


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A 'mirror' folder of gzipped IDX files and MNIST pointed at it with the right md5s."""
    src = tmp_path / "mirror"
    truth = _write_mnist(src)
    res = [(n, hashlib.md5((src / n).read_bytes()).hexdigest()) for n, _ in datasets.MNIST.resources]
    monkeypatch.setattr(datasets.MNIST, "resources", res)
    return src, truth


def test_download_from_file_url_with_fallback(tmp_path, mirror, monkeypatch):
    src, truth = mirror
    monkeypatch.setattr(datasets.MNIST, "mirrors",
                        [(tmp_path / "nowhere").as_uri() + "/", src.as_uri() + "/"])
    ds = datasets.MNIST(tmp_path / "cache", train=False, download=True)
    np.testing.assert_array_equal(ds.data.numpy(), truth["t10k"][0])
    raw = tmp_path / "cache" / "MNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(n for n, _ in datasets.MNIST.resources)
    # present and verified: not fetched again even with no reachable mirror
    monkeypatch.setattr(datasets.MNIST, "mirrors", [(tmp_path / "nowhere").as_uri() + "/"])
    datasets.MNIST(tmp_path / "cache", download=True)


def test_download_rejects_bad_md5_and_leaves_nothing(tmp_path, mirror, monkeypatch):
    src, _ = mirror
    monkeypatch.setattr(datasets.MNIST, "mirrors", [src.as_uri() + "/"])
    res = [(n, "0" * 32) for n, _ in datasets.MNIST.resources]
    monkeypatch.setattr(datasets.MNIST, "resources", res)
    with pytest.raises(RuntimeError, match="md5 .* != expected 0000"):
        datasets.MNIST(tmp_path / "cache", download=True)
    assert os.listdir(tmp_path / "cache" / "MNIST" / "raw") == []


def test_download_over_local_http(tmp_path, mirror, monkeypatch):
    src, truth = mirror
    handler = functools.partial(_QuietHandler, directory=str(src))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(datasets.MNIST, "mirrors",
                            [f"http://127.0.0.1:{server.server_address[1]}/"])
        ds = datasets.MNIST(tmp_path / "cache", download=True)
        np.testing.assert_array_equal(ds.data.numpy(), truth["train"][0])
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
