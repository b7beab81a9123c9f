"""utils.data against PyTorch: datasets, samplers, DataLoader and collation."""
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import assert_same, raises_like

import chainrule
import chainrule.utils.data as cud


def _same(c, t):
    """Nested structures of tensors/strings/numbers are equal (types, dtypes, values)."""
    if isinstance(t, torch.Tensor):
        assert_same(c, t, rtol=0, atol=0)
    elif isinstance(t, dict):
        assert type(c) is type(t) and c.keys() == t.keys()
        for k in t:
            _same(c[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert type(c) is type(t) and len(c) == len(t), (c, t)
        for a, b in zip(c, t):
            _same(a, b)
    else:
        assert c == t and type(c) is type(t)


def _tensor_ds(lib, n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64) % 4
    return lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(y))


P = namedtuple("P", "a b")
SAMPLES = [
    [(1, 2.0, "a", True, np.float32(3), np.array([1, 2])),
     (3, 4.0, "b", False, np.float32(1), np.array([3, 4]))],
    [{"x": 1.5, "y": [1, 2], "z": "s"}, {"x": 2.5, "y": [3, 4], "z": "t"}],
    [P(1, 2.0), P(3, 4.0)],
    [[1, 2], [3, 4]],
    [np.float64(1.0), np.float64(2.0)],
    [np.int32(1), np.int32(7)],
    [np.array(1.5), np.array(2.5)],
    ["a", "b"],
    [np.zeros((2, 0), np.float32), np.zeros((2, 0), np.float32)],  # empty arrays
]


@pytest.mark.parametrize("batch", SAMPLES, ids=range(len(SAMPLES)))
def test_default_collate_matches_torch(batch):
    _same(cud.default_collate(batch), tud.default_collate(batch))


def test_collate_tensors_and_noncontiguous():
    a = np.arange(12, dtype=np.float32).reshape(3, 4).T  # non-contiguous rows
    c = cud.default_collate([chainrule.from_numpy(r) for r in a])
    t = tud.default_collate([torch.from_numpy(r.copy()) for r in a])
    _same(c, t)
    _same(cud.default_collate([chainrule.tensor(1), chainrule.tensor(2)]),
          tud.default_collate([torch.tensor(1), torch.tensor(2)]))


@pytest.mark.parametrize("batch", [[object()], [[1, 2], [1]], [np.array(["a"])]])
def test_collate_errors(batch):
    raises_like(Exception, lambda: cud.default_collate(batch), lambda: tud.default_collate(batch),
                match=None if not isinstance(batch[0], np.ndarray) else "default_collate")


@pytest.mark.parametrize("kw", [
    {}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None},
    {"batch_size": 4, "collate_fn": lambda b: b},
])
def test_sequential_loader_matches_torch(kw):
    cl = cud.DataLoader(_tensor_ds(chainrule), **kw)
    tl = tud.DataLoader(_tensor_ds(torch), **kw)
    assert len(cl) == len(tl)
    c, t = list(cl), list(tl)
    assert len(c) == len(t)
    for a, b in zip(c, t):
        _same(a, b)


def test_loader_over_plain_dataset_and_subset_concat():
    class Squares(cud.Dataset):
        def __len__(self):
            return 7

        def __getitem__(self, i):
            return {"x": np.float32(i) ** 2, "i": i}

    class TSquares(tud.Dataset):
        __len__ = Squares.__len__
        __getitem__ = Squares.__getitem__

    for make in (lambda L, D: D(), lambda L, D: L.Subset(D(), [6, 0, 3]),
                 lambda L, D: L.ConcatDataset([D(), L.Subset(D(), [1, 2])]),
                 lambda L, D: D() + D()):
        c = list(cud.DataLoader(make(cud, Squares), batch_size=2))
        t = list(tud.DataLoader(make(tud, TSquares), batch_size=2))
        _same(c, t)


def test_concat_dataset_indexing():
    c = cud.ConcatDataset([_tensor_ds(chainrule, 3), _tensor_ds(chainrule, 4)])
    t = tud.ConcatDataset([_tensor_ds(torch, 3), _tensor_ds(torch, 4)])
    assert c.cumulative_sizes == t.cumulative_sizes
    for i in (0, 2, 3, 6, -1, -7):
        _same(c[i], t[i])
    raises_like(ValueError, lambda: c[-8], lambda: t[-8])
    raises_like(IndexError, lambda: c[7], lambda: t[7])


class Stream(cud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class TStream(tud.IterableDataset):
    __init__ = Stream.__init__
    __iter__ = Stream.__iter__
    __len__ = Stream.__len__


@pytest.mark.parametrize("kw", [{"batch_size": 2}, {"batch_size": 2, "drop_last": True},
                                {"batch_size": None}])
def test_iterable_dataset(kw):
    cl, tl = cud.DataLoader(Stream(5), **kw), tud.DataLoader(TStream(5), **kw)
    assert len(cl) == len(tl)
    _same(list(cl), list(tl))
    _same(list(Stream(2) + Stream(3)), list(TStream(2) + TStream(3)))


def test_shuffle_is_a_permutation_and_seeded():
    def order(seed, **kw):
        g = chainrule.Generator().manual_seed(seed)
        dl = cud.DataLoader(_tensor_ds(chainrule, 20), batch_size=6, shuffle=True, generator=g, **kw)
        return [int(v) for _, y in dl for v in y.tolist()], [len(y) for _, y in dl]

    a, sizes = order(1)
    assert sorted(a) == sorted([i % 4 for i in range(20)]) and sizes == [6, 6, 6, 2]
    xs = [x[:, 0].tolist() for x, _ in cud.DataLoader(
        _tensor_ds(chainrule, 20), batch_size=6, shuffle=True,
        generator=chainrule.Generator().manual_seed(1))]
    flat = [v // 3 for b in xs for v in b]
    assert sorted(flat) == list(range(20)) and flat != list(range(20))
    assert order(1) == order(1) and order(1) != order(2)
    assert order(1, drop_last=True)[1] == [6, 6, 6]
    chainrule.manual_seed(5)
    b = [x[:, 0].tolist() for x, _ in cud.DataLoader(_tensor_ds(chainrule, 20), batch_size=20,
                                                      shuffle=True)]
    chainrule.manual_seed(5)
    b2 = [x[:, 0].tolist() for x, _ in cud.DataLoader(_tensor_ds(chainrule, 20), batch_size=20,
                                                       shuffle=True)]
    assert b == b2


def test_samplers():
    g = chainrule.Generator().manual_seed(0)
    rs = list(cud.RandomSampler(range(10), generator=g))
    assert sorted(rs) == list(range(10))
    rs = list(cud.RandomSampler(range(4), num_samples=10, generator=g))
    assert len(rs) == 10 and sorted(rs[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]
    rr = list(cud.RandomSampler(range(3), replacement=True, num_samples=50, generator=g))
    assert len(rr) == 50 and set(rr) == {0, 1, 2}
    sr = list(cud.SubsetRandomSampler([5, 7, 9], generator=g))
    assert sorted(sr) == [5, 7, 9]
    w = list(cud.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 40, generator=g))
    assert set(w) == {1, 3}
    for drop in (False, True):
        c = list(cud.BatchSampler(cud.SequentialSampler(range(7)), 3, drop))
        t = list(tud.BatchSampler(tud.SequentialSampler(range(7)), 3, drop))
        assert c == t
        assert len(cud.BatchSampler(range(7), 3, drop)) == len(tud.BatchSampler(range(7), 3, drop))
    bs = cud.BatchSampler(cud.SequentialSampler(range(5)), 2, False)
    _same(list(cud.DataLoader(_tensor_ds(chainrule, 5), batch_sampler=bs)),
          list(tud.DataLoader(_tensor_ds(torch, 5),
                              batch_sampler=tud.BatchSampler(range(5), 2, False))))


def test_random_split():
    g = chainrule.Generator().manual_seed(3)
    parts = cud.random_split(range(10), [0.33, 0.33, 0.34], generator=g)
    assert [len(p) for p in parts] == [len(p) for p in tud.random_split(range(10), [0.33, 0.33, 0.34])]
    seen = sorted(i for p in parts for i in p)
    assert seen == list(range(10))
    again = cud.random_split(range(10), [4, 3, 3], generator=chainrule.Generator().manual_seed(3))
    assert [list(p) for p in again] == [list(p) for p in parts]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        cud.random_split(range(2), [0.99, 0.01])


@pytest.mark.parametrize("make", [
    lambda L, ds: L.TensorDataset(L.tensor if False else ds.tensors[0], ds.tensors[1][:3]),
    lambda L, ds: L.DataLoader(ds, sampler=L.SequentialSampler(ds), shuffle=True),
    lambda L, ds: L.DataLoader(ds, batch_sampler=L.BatchSampler(range(3), 2, False), batch_size=3),
    lambda L, ds: L.DataLoader(ds, num_workers=-1),
    lambda L, ds: L.DataLoader(ds, batch_size=0),
    lambda L, ds: L.DataLoader(ds, batch_size=None, drop_last=True),
    lambda L, ds: L.BatchSampler(range(3), 2, 1),
    lambda L, ds: L.RandomSampler(ds, num_samples=0),
    lambda L, ds: L.RandomSampler(ds, replacement=1),
    lambda L, ds: L.ConcatDataset([]),
    lambda L, ds: L.random_split(ds, [3, 3]),
    lambda L, ds: L.random_split(ds, [0.5, 0.6]),
    lambda L, ds: L.DataLoader(Stream(3) if L is cud else TStream(3), shuffle=True),
    lambda L, ds: L.DataLoader(Stream(3) if L is cud else TStream(3), sampler=[1]),
])
def test_errors_match_torch(make):
    with pytest.raises(Exception) as et:
        make(tud, _tensor_ds(torch))
    raises_like(type(et.value), lambda: make(cud, _tensor_ds(chainrule)),
                lambda: make(tud, _tensor_ds(torch)))


def test_num_workers_runs_in_process():
    c = list(cud.DataLoader(_tensor_ds(chainrule), batch_size=4, num_workers=2))
    t = list(tud.DataLoader(_tensor_ds(torch), batch_size=4))
    _same(c, t)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 23), batch_size=st.integers(1, 7), drop_last=st.booleans(),
       shape=st.lists(st.integers(0, 3), max_size=2))
def test_loader_batches_match_torch_for_any_size(n, batch_size, drop_last, shape):
    x = np.arange(n * int(np.prod(shape, dtype=int)), dtype=np.float32).reshape(n, *shape)
    y = np.arange(n) % 3
    kw = {"batch_size": batch_size, "drop_last": drop_last}
    cl = cud.DataLoader(cud.TensorDataset(chainrule.tensor(x), chainrule.tensor(y)), **kw)
    tl = tud.DataLoader(tud.TensorDataset(torch.tensor(x), torch.tensor(y)), **kw)
    assert len(cl) == len(tl)
    _same(list(cl), list(tl))
