"""JSON lines in: one object per line.  A field name may be a dotted path
into nested objects ('event_details.event_name') when no top-level field has
that exact name.  Blank lines are not records and are passed over."""

from __future__ import annotations

import json
from typing import IO, Iterator

from .records import Chunk, check_key

_MISSING = object()


def _getter(name: str):
    parts = name.split(".")

    def get(obj):
        v = obj.get(name, _MISSING)
        if v is not _MISSING or len(parts) == 1:
            return v
        for p in parts:
            if not isinstance(obj, dict):
                return _MISSING
            obj = obj.get(p, _MISSING)
            if obj is _MISSING:
                return _MISSING
        return obj

    return get


def read(f: IO[bytes], fields: dict, required: set, chunk_size: int,
         option_names: dict | None = None) -> Iterator[Chunk]:
    """fields: role -> field name; roles in `required` must be present."""
    # a plain name is looked up directly (obj.get), a dotted one by _getter
    getters = {role: name if "." not in name else _getter(name) for role, name in fields.items()}
    decode = json.JSONDecoder().decode
    key_i = list(fields).index("key") if "key" in fields else None
    chunk = Chunk([], {r: [] for r in fields})
    cols = [(role, get, chunk.columns[role], role in required) for role, get in getters.items()]
    for lineno, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            # decoding first skips json.loads' encoding sniffing, a tenth of the time
            obj = decode(line.decode("utf-8"))
        except ValueError as e:  # UnicodeDecodeError is one too
            chunk.bad.append((lineno, f"not valid JSON ({e})"))
            continue
        if not isinstance(obj, dict):
            chunk.bad.append((lineno, f"expected a JSON object, got {type(obj).__name__}"))
            continue
        values = []
        for role, get, _, req in cols:
            v = get(obj) if get.__class__ is not str else obj.get(get, _MISSING)
            if v is _MISSING:
                if req:
                    values = f"no field {fields[role]!r}"
                    break
                v = None
            values.append(v)
        if isinstance(values, str):
            chunk.bad.append((lineno, values))
            continue
        if key_i is not None and not (values[key_i].__class__ is str and values[key_i]):
            why = check_key(values[key_i])
            if why:
                chunk.bad.append((lineno, f"{fields['key']}: {why}"))
                continue
        chunk.lines.append(lineno)
        for (_, _, col, _), v in zip(cols, values):
            col.append(v)
        if len(chunk.lines) >= chunk_size:
            yield chunk
            chunk = Chunk([], {r: [] for r in fields})
            cols = [(role, get, chunk.columns[role], role in required)
                    for role, get in getters.items()]
    yield chunk
