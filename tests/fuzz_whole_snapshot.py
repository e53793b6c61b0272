"""A fuzzer over whole snapshots (the envelope, the settings, keys, values,
counters and the core's bytes), where csrc/fuzz/fuzz_snapshot.c covers the
core's bytes alone.

Each case mutates a valid snapshot, at the byte level or part by part, and
seals it again with a correct length and checksum (as anyone can), so the
checks behind the checksum are what is tried.  A restore must raise
SessionizeError, or give a sessionizer that then pushes, advances, flushes
and snapshots again without any error: an error after a restore means
something wrong was accepted.

    python tests/fuzz_whole_snapshot.py --seconds 60   # CI, beside the C fuzzers
    (tests/test_snapshots.py runs a fixed number of cases)
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import numpy as np

from sessionize import SearchSessionizer, SessionizeError, Sessionizer
from sessionize import _snapshot, _state


def _seeds():
    import test_snapshots as t

    return [make() for make in t.MAKERS.values()] + [t._three_keys()]


def _reseal(blob: bytes, payload: bytes) -> bytes:
    head = bytearray(blob[:_snapshot._HEAD.size])
    _snapshot._HEAD.pack_into(head, 0, *_snapshot._HEAD.unpack_from(head)[:-1], len(payload))
    body = bytes(head) + payload
    return body + _snapshot._digest(body)


def _payload(blob: bytes) -> bytes:
    return blob[_snapshot._HEAD.size:-_snapshot._DIGEST]


def _mutate_bytes(rng: random.Random, payload: bytes, other: bytes) -> bytes:
    b = bytearray(payload)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        i = rng.randrange(len(b) + 1)
        if op == 0 and i < len(b):
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and i < len(b):
            b[i] = rng.choice((0, 1, 0x7F, 0x80, 0xFF))
        elif op == 2:
            del b[i:i + rng.randint(1, 8)]
        elif op == 3:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:  # a piece of another snapshot's payload
            j = rng.randrange(len(other))
            b[i:i] = other[j:j + rng.randint(1, 64)]
    return bytes(b)


def _mutate_value(rng: random.Random, v, pool: list):
    r = rng.randrange(8)
    if r == 0:
        return rng.choice(pool)
    if isinstance(v, list) and v:
        v = list(v)
        if r == 1:
            rng.shuffle(v)
        elif r == 2:
            del v[rng.randrange(len(v))]
        elif r == 3:
            v.append(rng.choice(v))
        else:
            i = rng.randrange(len(v))
            v[i] = _mutate_value(rng, v[i], pool)
        return v
    if isinstance(v, tuple) and v:
        i = rng.randrange(len(v))
        return v[:i] + (_mutate_value(rng, v[i], pool),) + v[i + 1:]
    if isinstance(v, int) and not isinstance(v, bool):
        return rng.choice((v + 1, v - 1, 0, -1, v * 2, 1 << 63, 1 << 64))
    if isinstance(v, bytes) and v:
        b = bytearray(v)
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        return bytes(b)
    return rng.choice(pool)


def _exercise(sz) -> None:
    """What a restored sessionizer must do without an error."""
    if isinstance(sz, SearchSessionizer):
        sz.push_many(["a", "zz"], ["SEARCH", "CLICK"], [50, 51])
        sz.flush()
    else:
        kind = sz._kind.name if sz._kind is not None else None
        if kind in (None, "int", "seconds"):
            sz.push_many(np.array([1, 2]), np.array([1000, 1001]))
            sz.push_many(["user-1", "a"], [1002, 2000])
            sz.advance(1500)
        sz.flush()
    type(sz).from_bytes(sz.to_bytes())


def fuzz(cases: int | None = None, seconds: float | None = None, seed: int = 0) -> dict:
    rng = random.Random(seed)
    seeds = _seeds()
    blobs = [sz.to_bytes() for sz in seeds]
    parts = [list(_snapshot.unseal(b, sz._SNAPSHOT, allow_pickle=False))
             for b, sz in zip(blobs, seeds)]
    pool = [None, 0, -1, 1 << 40, "", "a", b"", (), [], 1.5, True]
    pool += [p for ps in parts for p in ps]
    counts = {"cases": 0, "refused": 0, "restored": 0}
    end = time.monotonic() + seconds if seconds else None
    while (cases is None or counts["cases"] < cases) and (end is None or time.monotonic() < end):
        k = rng.randrange(len(seeds))
        cls = type(seeds[k])
        if rng.random() < 0.5:
            blob = _reseal(blobs[k], _mutate_bytes(rng, _payload(blobs[k]),
                                                   _payload(rng.choice(blobs))))
        else:
            p = list(parts[k])
            i = rng.randrange(len(p))
            p[i] = _mutate_value(rng, p[i], pool)
            try:
                blob = _snapshot.seal(cls._SNAPSHOT, _snapshot.PLAIN, tuple(p), _state._PARTS)
            except _snapshot.Unsupported:
                continue
        counts["cases"] += 1
        try:
            sz = cls.from_bytes(blob)
        except SessionizeError:
            counts["refused"] += 1
            continue
        counts["restored"] += 1
        try:
            _exercise(sz)
        except Exception as e:
            raise AssertionError(
                f"case {counts['cases']} (seed {seed}): a restored snapshot failed later: "
                f"{e!r}\nsnapshot: {blob.hex()}") from e
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    a = ap.parse_args()
    c = fuzz(seconds=a.seconds, seed=a.seed)
    print(f"fuzz_whole_snapshot: seed {a.seed}, {c['cases']} cases, {c['refused']} refused, "
          f"{c['restored']} restored and exercised without an error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
