"""How result tables read: the plain repr, the notebook's HTML, and row values
as Python scalars.

Every table (sessionize._table.ColumnTable) is shown from what its
``to_dict()`` holds, so columns a table gains show with no change here.
Only the rows shown are converted to text: a long table's head and tail,
never the whole column.
"""

from __future__ import annotations

import datetime
import html
from typing import Any

import numpy as np

# A table longer than this shows its first and last HEAD rows around "...".
MAX_ROWS = 10
HEAD = 5
# Cells longer than this are cut, ending in "..."; lists show their first
# LIST_ITEMS items.
MAX_CELL = 30
LIST_ITEMS = 3


# ---------------------------------------------------------------------------
# values as Python scalars (rows())

def python_values(values, zone: str = "", times: bool = True) -> Any:
    """A column's values as a sequence of Python scalars, converted in one
    vectorized call (``tolist()``), for building rows.

    Numbers, bools, str and bytes become int, float, bool, str, bytes;
    object columns keep their objects; Arrow and polars columns give their
    Python values.  With ``times``, ``datetime64`` columns become
    ``datetime.datetime`` (aware, in ``zone``, when the table has one) and
    ``timedelta64`` ones ``datetime.timedelta``, when those hold the unit
    exactly (down to microseconds); nanosecond times stay ``numpy``
    scalars, which keep the nanoseconds.  Without ``times`` they stay as
    they are (the streaming tables' rows are what the object mode emits).
    """
    if hasattr(values, "to_pylist") or hasattr(values, "to_list"):
        from ._arrow import to_list

        return to_list(values)
    if not isinstance(values, np.ndarray):  # ListColumn and the like
        return values
    kind = values.dtype.kind
    if kind in "mM":
        if not times or not _exact_in_python(values.dtype):
            return values
        if kind == "M" and zone:
            tz = _tzinfo(zone)
            if tz is None:
                return values
            utc = datetime.timezone.utc
            return [None if v is None else v.replace(tzinfo=utc).astimezone(tz)
                    for v in values.astype("M8[us]").tolist()]
        return values.tolist()
    if kind == "O":
        return values
    return values.tolist()


# rows() convert this many rows at a time: one tolist() per column and
# block, without holding a Python object per value of a whole long table
ROW_BLOCK = 1 << 14


def iter_rows(columns: list, n: int, zone: str = "", times: bool = True):
    """The rows of ``columns`` (each ``n`` long) as tuples of Python values
    (``python_values``), converted a block of rows at a time."""
    for a in range(0, n, ROW_BLOCK):
        b = min(a + ROW_BLOCK, n)
        yield from zip(*(python_values(_part(v, a, b), zone, times) for v in columns))


def _exact_in_python(dtype: np.dtype) -> bool:
    unit, _ = np.datetime_data(dtype)
    return unit in ("Y", "M", "W", "D", "h", "m", "s", "ms", "us")


def _tzinfo(zone: str):
    """A tzinfo for an Arrow zone name: an IANA name or a "+05:30" offset;
    None when neither can be read here (no tz database)."""
    if zone in ("UTC", "Z", "utc"):
        return datetime.timezone.utc
    if zone[:1] in "+-" and len(zone) == 6 and zone[3] == ":":
        try:
            sign = -1 if zone[0] == "-" else 1
            return datetime.timezone(sign * datetime.timedelta(
                hours=int(zone[1:3]), minutes=int(zone[4:6])))
        except ValueError:
            return None
    try:
        import zoneinfo

        return zoneinfo.ZoneInfo(zone)
    except Exception:  # unknown name, or no tz database on this machine
        return None


# ---------------------------------------------------------------------------
# type names and cells

def type_name(values, zone: str = "") -> str:
    """The column's type as the table shows it: numpy's dtype name
    (``datetime64[ms, Europe/Paris]`` with the table's zone, as pandas
    writes it), ``str``/``bytes`` for numpy strings, ``list<int64>``, or the
    Arrow or polars type."""
    from ._table import ListColumn

    if isinstance(values, ListColumn):
        return f"list<{type_name(values.flat)}>"
    if not isinstance(values, np.ndarray):
        t = getattr(values, "type", None)  # pyarrow
        if t is None:
            t = getattr(values, "dtype", None)  # polars
        return str(t) if t is not None else type(values).__name__
    dt = values.dtype
    if dt.kind == "U":
        return "str"
    if dt.kind == "S":
        return "bytes"
    if dt.kind == "M" and zone:
        return f"{str(dt)[:-1]}, {zone}]"
    return str(dt)


def _cut(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 3] + "..."


def _item_text(v) -> str:
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (bytes, np.bytes_)):
        return repr(bytes(v))
    if isinstance(v, np.generic):
        return str(v.item()) if v.dtype.kind not in "mM" else str(v)
    return str(v)


def _time_texts(values: np.ndarray, zone: str) -> list[str]:
    """datetime64 as 'YYYY-MM-DD hh:mm:ss[.fff]', in the table's zone with
    its offset when it has one (exact to the column's unit)."""
    if values.dtype.kind == "m":
        return [str(v) for v in values]
    tz = _tzinfo(zone) if zone else None
    if tz is None:
        return [s.replace("T", " ") for s in np.datetime_as_string(values).tolist()]
    out = []
    utc = datetime.timezone.utc
    for v in values:
        if np.isnat(v):
            out.append("NaT")
            continue
        off = (v.astype("M8[us]").item().replace(tzinfo=utc).astimezone(tz).utcoffset()
               or datetime.timedelta(0))
        local = np.datetime_as_string(v + np.timedelta64(int(off.total_seconds()), "s"))
        local = local.replace("T", " ")
        m = int(off.total_seconds()) // 60
        out.append(f"{local}{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}")
    return out


def _texts(values, zone: str) -> list[str]:
    """Cells of a few rows of one column."""
    from ._table import ListColumn

    if isinstance(values, ListColumn):
        out = []
        for items in values:
            shown = ", ".join(_item_text(v) for v in items[:LIST_ITEMS])
            more = f", ... ({len(items)})" if len(items) > LIST_ITEMS else ""
            out.append(_cut(f"[{shown}{more}]"))
        return out
    if isinstance(values, np.ndarray) and values.dtype.kind in "mM":
        return _time_texts(values, zone)
    return [_cut(_item_text(v)) for v in python_values(values, times=False)]


def _part(values, start: int, stop: int):
    """Rows start..stop of a column (numpy, Arrow, polars or ListColumn)."""
    from ._table import ListColumn

    if isinstance(values, ListColumn):
        return ListColumn(values.offsets[start:stop + 1], values.flat)
    return values[start:stop]


def _shown(table) -> tuple[list[str], list[str], list[int | None], list[list[str]]]:
    """(names, types, row numbers with None for the '...' row, columns of
    cells) of what the table shows."""
    cols = table.to_dict()
    zone = table.time_zone
    n = len(table)
    if n > MAX_ROWS:
        spans = [(0, HEAD), (n - HEAD, n)]
        numbers: list[int | None] = [*range(HEAD), None, *range(n - HEAD, n)]
    else:
        spans = [(0, n)]
        numbers = list(range(n))
    names, types, cells = [], [], []
    for name, values in cols.items():
        names.append(name)
        types.append(type_name(values, zone))
        parts = [_texts(_part(values, a, b), zone) for a, b in spans]
        cells.append(parts[0] + (["..."] + parts[1] if len(parts) > 1 else []))
    return names, types, numbers, cells


def _title(table) -> str:
    return f"{type(table).__name__}: {len(table)} {table.noun}"


def _size(n: int, m: int) -> str:
    return f"{n} row{'' if n == 1 else 's'} x {m} column{'' if m == 1 else 's'}"


def text(table) -> str:
    """The plain repr: a title, the rows as pandas aligns them (a long
    table's head and tail around '...'), then the types and the size."""
    names, types, numbers, cells = _shown(table)
    index = ["..." if i is None else str(i) for i in numbers]
    lines = [f"<{_title(table)}>"]
    if numbers:
        columns = [[""] + index]
        for name, col in zip(names, cells):
            columns.append([name] + col)
        width = [max(len(s) for s in c) for c in columns]
        for r in range(len(index) + 1):
            lines.append("  ".join(c[r].rjust(w) for c, w in zip(columns, width)).rstrip())
    lines.append("dtypes: " + ", ".join(f"{n} {t}" for n, t in zip(names, types)))
    lines.append(f"[{_size(len(table), len(names))}]")
    return "\n".join(lines)


def html_table(table) -> str:
    """The notebook's HTML: a pandas-styled table (class "dataframe"), a row
    of column types under the names, the head and tail of a long table
    around a '...' row, and the size."""
    e = html.escape
    names, types, numbers, cells = _shown(table)
    out = ['<div class="sessionize-table">',
           f"<p><b>{e(type(table).__name__)}</b>: {len(table)} {e(table.noun)}</p>",
           '<table border="1" class="dataframe">',
           "<thead>",
           '<tr style="text-align: right;"><th></th>'
           + "".join(f"<th>{e(n)}</th>" for n in names) + "</tr>",
           "<tr><th></th>" + "".join(f"<th><i>{e(t)}</i></th>" for t in types) + "</tr>",
           "</thead>",
           "<tbody>"]
    for r, i in enumerate(numbers):
        head = "..." if i is None else str(i)
        out.append(f"<tr><th>{head}</th>"
                   + "".join(f"<td>{e(c[r])}</td>" for c in cells) + "</tr>")
    out += ["</tbody>", "</table>", f"<p>{_size(len(table), len(names))}</p>", "</div>"]
    return "\n".join(out)
