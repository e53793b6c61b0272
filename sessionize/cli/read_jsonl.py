"""JSON lines in: one object per line.  A field name may be a dotted path
into nested objects ('event_details.event_name') when no top-level field has
that exact name.  Blank lines are not records and are passed over."""

from __future__ import annotations

import json
from functools import partial
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
            # a byte-order mark may open the file (utf-8-sig drops it)
            obj = decode(line.decode("utf-8-sig" if lineno == 1 else "utf-8"))
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


# ---- the native reader ----------------------------------------------------

_PEEK_LINES = 100  # lines looked at for the fields' types


def read_native(f: IO[bytes], fields: dict, required: set, chunk_size: int,
                option_names: dict | None = None) -> Iterator:
    """Blocks of about `chunk_size` lines, as NativeBlocks to be parsed by
    Arrow's JSON reader (in C), only the fields asked for; a block
    Arrow refuses, or whose records do not all fit the types the first
    good line showed, is re-read by `read` above."""
    import io

    from .arrow_events import NativeBlock
    from .records import shifted
    from .text_blocks import Blocks

    blocks = Blocks(f, chunk_size)
    plan = None
    for first, n_lines, block in blocks:
        if plan is None:
            plan = _plan(block, fields, required)

        def exact(block=block, first=first):
            return shifted(read(io.BytesIO(block), fields, required, 1 << 62, option_names),
                           first - 1)

        if not plan:  # a field of a type Arrow cannot be told: every block exact
            yield NativeBlock(lambda: None, exact)
            continue
        yield NativeBlock(partial(_parse, block, first, n_lines, *plan), exact)


def _parse(block, first: int, n_lines: int, schema, paths: dict):
    """(lines, role -> column) of a block by Arrow's JSON parser, or None."""
    import pyarrow as pa
    import pyarrow.json as pj

    from .text_blocks import row_lines

    try:
        table = pj.read_json(pa.BufferReader(block), parse_options=pj.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="ignore"))
        cols = {role: _column(table, path) for role, path in paths.items()}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, KeyError):
        return None
    lines = row_lines(block, first, n_lines, table.num_rows)
    if lines is None or any(c is None for c in cols.values()):
        return None
    return lines, cols


def _arrow_type(v):
    import pyarrow as pa

    if v.__class__ is str:
        return pa.string()
    if v.__class__ is int:
        return pa.int64()
    if v.__class__ is float:
        return pa.float64()
    if v.__class__ is bool:
        return pa.bool_()
    return None


def _plan(block: bytes, fields: dict, required: set):
    """(explicit Arrow schema, role -> field path) from the first line of
    `block` that has every field as a string, number or boolean; False when
    none of the first lines has (nested values, say)."""
    import pyarrow as pa

    from .text_blocks import strip_bom

    seen = 0
    for line in strip_bom(block[: 1 << 20]).split(b"\n"):
        if not line.strip():
            continue
        seen += 1
        if seen > _PEEK_LINES:
            break
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        tree, paths = {}, {}
        for role, name in fields.items():
            # a top-level field of that exact name first, as _getter does
            path = [name] if name in obj or "." not in name else name.split(".")
            v = obj
            for p in path:
                v = v.get(p, _MISSING) if isinstance(v, dict) else _MISSING
            t = _arrow_type(v)
            if t is None and role not in required and v in (_MISSING, None):
                t = pa.string()  # an optional field not in this line: a guess Arrow checks
            node = tree
            for p in path[:-1]:
                node = node.setdefault(p, {})
            if t is None or not isinstance(node, dict):
                break
            node[path[-1]] = t
            paths[role] = path
        else:
            return pa.schema(_fields(tree)), paths
    return False


def _fields(tree: dict) -> list:
    import pyarrow as pa

    return [(k, pa.struct(_fields(v)) if isinstance(v, dict) else v) for k, v in tree.items()]


def _column(table, path: list):
    """The field at `path` (nested through structs); None when a struct on
    the way is null (the exact reader then says which field is missing)."""
    import pyarrow.compute as pc

    col = table.column(path[0])
    for p in path[1:]:
        if col.null_count:
            return None
        col = pc.struct_field(col, [p])
    return col
