"""Small datasets for examples and tests: scikit-learn's 8x8 digits, and MNIST from IDX files.

``load_digits`` needs scikit-learn (``pip install chainrule[demo]``). ``MNIST`` reads the
standard IDX files (gzipped or not) and can download them from a list of mirrors, checking
each file's md5 and writing it atomically. Unlike torchvision, items are tensors, not PIL
images: a float32 ``(1, 28, 28)`` image in [0, 1] (what ``ToTensor()`` would give) and an
int label.
"""
import gzip
import hashlib
import os
import struct
import tempfile
import urllib.request

from ._backend import xp
from ._tensor import Tensor
from .utils.data import Dataset

__all__ = ["MNIST", "load_digits", "train_test_split"]

DEFAULT_CACHE = os.path.join(os.path.expanduser("~"), ".cache", "chainrule")


# ---- digits -----------------------------------------------------------------------------
def load_digits(images=False):
    """The 1,797 8x8 handwritten digits bundled with scikit-learn (no download).

    Returns ``(X, y)``: float32 pixels scaled to [0, 1], shaped ``(N, 64)`` or, with
    ``images=True``, ``(N, 1, 8, 8)``; int64 labels 0-9.
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as e:
        raise ImportError(
            "chainrule.datasets.load_digits needs scikit-learn: pip install chainrule[demo]"
        ) from e
    d = sk_load_digits()
    x = (d.data / 16.0).astype(xp.float32)  # pixel values are 0..16
    if images:
        x = x.reshape(-1, 1, 8, 8)
    return Tensor._make(x), Tensor._make(d.target.astype(xp.int64))


def train_test_split(x, y, test_fraction=0.2, seed=0):
    """Deterministic shuffled split: ``(x_train, y_train, x_test, y_test)``.

    The same ``seed`` gives the same split on every machine (NumPy's PCG64).
    """
    n = len(x)
    if len(y) != n:
        raise ValueError(f"x has {n} samples but y has {len(y)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    perm = xp.random.default_rng(seed).permutation(n)
    n_test = round(n * test_fraction)
    test, train = perm[:n_test], perm[n_test:]
    xa, ya = x._data, y._data
    return (Tensor._make(xa[train]), Tensor._make(ya[train]),
            Tensor._make(xa[test]), Tensor._make(ya[test]))


# ---- IDX files --------------------------------------------------------------------------
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, expected_magic=None):
    """Read an IDX file (``.gz`` or raw) into an ndarray, checking magic number and size."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:  # a truncated or non-gzip .gz file
        raise ValueError(f"{path}: cannot read IDX file ({e})") from None
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    magic = struct.unpack(">I", data[:4])[0]
    zero, code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(
            f"{path}: bad magic number {magic:#010x}, expected {expected_magic:#010x} "
            "(is this the right IDX file?)"
        )
    if zero != 0 or code not in _IDX_TYPES:
        raise ValueError(f"{path}: bad magic number {magic:#010x}: not an IDX file")
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path}: header declares {ndim} dimensions but the file ends early")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    dt = xp.dtype(_IDX_TYPES[code])
    count = 1
    for s in shape:
        count *= s
    body = data[4 + 4 * ndim:]
    if len(body) != count * dt.itemsize:
        raise ValueError(
            f"{path}: shape {list(shape)} needs {count * dt.itemsize} bytes of data, found "
            f"{len(body)}"
        )
    return xp.frombuffer(body, dtype=dt).reshape(shape).astype(dt.newbyteorder("="))


def _md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_file(urls, dest, md5=None, timeout=30):
    """Fetch the first of ``urls`` whose bytes match ``md5`` into ``dest``, atomically.

    Returns ``dest``. Raises RuntimeError listing what went wrong with every URL.
    """
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    errors = []
    for url in urls:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(dest)),
                                   prefix="." + os.path.basename(dest) + ".", suffix=".part")
        try:
            h = hashlib.md5()
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    out.write(chunk)
                    h.update(chunk)
                out.flush()
                os.fsync(out.fileno())
            if md5 is not None and h.hexdigest() != md5:
                errors.append(f"{url}: md5 {h.hexdigest()} != expected {md5}")
                continue
            os.replace(tmp, dest)
            return dest
        except OSError as e:  # URLError and HTTPError are OSErrors
            errors.append(f"{url}: {e}")
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    raise RuntimeError(f"could not download {os.path.basename(dest)}:\n  " + "\n  ".join(errors))


class MNIST(Dataset):
    """MNIST from its IDX files under ``root/MNIST/raw`` (torchvision's layout) or ``root``.

    ``root=None`` uses ``~/.cache/chainrule``. ``download=True`` fetches missing files from
    ``mirrors`` (tried in order), checking each against its md5 in ``resources``.
    """

    mirrors = (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    )
    resources = (
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b9f2f61ac"),
    )
    classes = ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine")

    def __init__(self, root=None, train=True, transform=None, target_transform=None,
                 download=False):
        self.root = DEFAULT_CACHE if root is None else os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        prefix = "train" if train else "t10k"
        images = read_idx(self._find(f"{prefix}-images-idx3-ubyte"), 0x00000803)
        labels = read_idx(self._find(f"{prefix}-labels-idx1-ubyte"), 0x00000801)
        if len(images) != len(labels):
            raise ValueError(f"MNIST: {len(images)} images but {len(labels)} labels")
        self.data = Tensor._make(images)
        self.targets = Tensor._make(labels.astype(xp.int64))

    @property
    def raw_folder(self):
        return os.path.join(self.root, "MNIST", "raw")

    def _find(self, stem):
        for folder in (self.raw_folder, self.root):
            for name in (stem, stem + ".gz"):
                p = os.path.join(folder, name)
                if os.path.exists(p):
                    return p
        raise RuntimeError(
            f"MNIST file {stem}[.gz] not found in {self.raw_folder} or {self.root}. "
            "You can use download=True to download it"
        )

    def download(self):
        for name, md5 in self.resources:
            dest = os.path.join(self.raw_folder, name)
            if os.path.exists(dest) and _md5(dest) == md5:
                continue
            download_file([m + name for m in self.mirrors], dest, md5)

    def __len__(self):
        return len(self.data._data)

    def __getitem__(self, index):
        img = Tensor._make((self.data._data[index] / xp.float32(255))[None].astype(xp.float32))
        target = int(self.targets._data[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
