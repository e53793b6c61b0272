"""factorize() of exact str keys (UTF-8 bytes hashed in C) against the dict
path it replaces: same codes, same uniques (the caller's own objects), the
same fallback and errors for anything else."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sessionize import _core


class S(str):
    pass


def dict_path(seq):
    """The reference: first-appearance codes through a Python dict."""
    table, uniques, codes = {}, [], []
    for x in seq:
        if x not in table:
            table[x] = len(uniques)
            uniques.append(x)
        codes.append(table[x])
    return np.array(codes, dtype=np.int64), uniques


def check(seq):
    codes, uniques = _core.factorize(seq)
    want_codes, want_uniques = dict_path(list(seq))
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, want_codes)
    assert len(uniques) == len(want_uniques)
    for got, want in zip(uniques, want_uniques):
        assert got is want  # the first object of each key, not a copy


@pytest.mark.parametrize("n,users", [(0, 1), (1, 1), (5000, 300), (20000, 9000)])
def test_exact_str_list_tuple_array(n, users):
    rng = random.Random(n)
    seq = [f"user-{rng.randrange(users):08d}" for _ in range(n)]
    check(seq)
    check(tuple(seq))
    check(np.array(seq, dtype=object))
    check(np.array(seq, dtype=object)[::2])  # not contiguous: the sequence path


def test_non_ascii_empty_nul_long():
    seq = ["", "a", "a\x00b", "a\x00", "a", "", "é", "e\u0301", "é", "日本語",
           "\U0001f600", "x" * 100, "x" * 99 + "y", "x" * 100, "a\x00b", "\x00"]
    check(seq * 3)
    codes, uniques = _core.factorize(["a\x00b", "a", "a\x00b"])
    assert codes.tolist() == [0, 1, 0] and uniques == ["a\x00b", "a"]


def test_equal_strings_different_objects():
    a = "".join(["user-", "1"])
    b = "".join(["user", "-1"])
    assert a is not b
    codes, uniques = _core.factorize([a, b, a])
    assert codes.tolist() == [0, 0, 0] and uniques[0] is a


@pytest.mark.parametrize("pos", [0, 1, 4095, 4096, 5000])
def test_mixed_falls_back(pos):
    seq = [f"k{i % 7}" for i in range(5001)]
    for odd in (S("k3"), 3, ("k", 1), None, 2.5, b"k1", "\udc80"):
        s = list(seq)
        s[pos] = odd
        check(s)
        check(np.array(s + [None], dtype=object)[:-1])
    s = list(seq)
    s[pos] = S("k0")  # equal to "k0" as Python sees it: one code
    codes, uniques = _core.factorize(s)
    want_codes, _ = dict_path(s)
    np.testing.assert_array_equal(codes, want_codes)


@pytest.mark.parametrize("k", [0, 1, 4097])
def test_unhashable_names_position(k):
    seq = [f"k{i}" for i in range(5000)]
    seq[k] = ["a", "list"]
    with pytest.raises(TypeError, match=rf"keys\[{k}\]: unhashable type: 'list'"):
        _core.factorize(seq)
    with pytest.raises(TypeError, match=rf"keys\[{k}\]: unhashable type: 'list'"):
        _core.factorize(np.array(seq + [None], dtype=object)[:-1])


def test_sessions_same_as_numpy_strings():
    import sessionize

    rng = np.random.default_rng(1)
    names = np.array([f"u{x}" for x in rng.integers(0, 500, 20000)])
    times = np.sort(rng.integers(0, 10**7, 20000))
    got = sessionize.assign(names.astype(object), times, gap=5000)
    want = sessionize.assign(names, times, gap=5000)
    np.testing.assert_array_equal(got, want)
