"""How tables read (repr, _repr_html_, rows()) and the plots (sessionize.plot).

The reprs are snapshots: the exact text of a small table, and a long one's
head and tail around '...'.  Each plot is drawn with the Agg backend into a
PNG, then read back from the figure objects: its labels, and as many bars or
points as the data says.  Plot tests skip without matplotlib.
"""
from __future__ import annotations

import datetime
import sys

import numpy as np
import pytest

import sessionize
from sessionize import Session

USERS = np.array(["ann", "bob", "ann", "ann", "bob", "ann"])
TIMES = np.array(["2026-11-21T09:00", "2026-11-21T09:05", "2026-11-21T09:20",
                  "2026-11-21T10:30", "2026-11-21T09:50", "2026-11-21T10:40"],
                 dtype="datetime64[s]")


def _readme_table():
    return sessionize.sessions(USERS, TIMES, gap="30min")


SMALL = """\
<SessionTable: 4 sessions>
   key                start                  end  count  index           window_end
0  ann  2026-11-21 09:00:00  2026-11-21 09:20:00      2      0  2026-11-21 09:50:00
1  ann  2026-11-21 10:30:00  2026-11-21 10:40:00      2      1  2026-11-21 11:10:00
2  bob  2026-11-21 09:05:00  2026-11-21 09:05:00      1      0  2026-11-21 09:35:00
3  bob  2026-11-21 09:50:00  2026-11-21 09:50:00      1      1  2026-11-21 10:20:00
dtypes: key str, start datetime64[s], end datetime64[s], count int64, index int64, \
window_end datetime64[s]
[4 rows x 6 columns]"""


def test_repr_of_a_small_table_is_every_row_aligned_with_types_and_size():
    assert repr(_readme_table()) == SMALL


def test_readme_shows_the_repr_as_it_is():
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text()
    assert SMALL + "\n```" in readme                 # print(t)'s output, shown
    assert "](docs/images/plots.png)" in readme
    assert SMALL + "\n```" in (root / "docs" / "getting-started.md").read_text()


LONG = """\
<SessionTable: 12 sessions>
     key  start  end  count  index  window_end
  0    0      0    0      1      0          10
  1    0    100  100      1      1         110
  2    0    200  200      1      2         210
  3    0    300  300      1      3         310
  4    1      7    7      1      0          17
...  ...    ...  ...    ...    ...         ...
  7    1    307  307      1      3         317
  8    2      9    9      1      0          19
  9    2    109  109      1      1         119
 10    2    209  209      1      2         219
 11    2    309  309      1      3         319
dtypes: key int64, start int64, end int64, count int64, index int64, window_end int64
[12 rows x 6 columns]"""


def _long_table():
    keys = np.repeat(np.arange(3), 4)
    times = np.tile([0, 100, 200, 300], 3) + np.repeat([0, 7, 9], 4)
    return sessionize.sessions(keys, times, gap=10)


def test_repr_of_a_long_table_shows_head_and_tail_around_an_ellipsis_row():
    assert repr(_long_table()) == LONG


SMALL_HTML = """\
<div class="sessionize-table">
<p><b>SessionTable</b>: 4 sessions</p>
<table border="1" class="dataframe">
<thead>
<tr style="text-align: right;"><th></th><th>key</th><th>start</th><th>end</th>\
<th>count</th><th>index</th><th>window_end</th></tr>
<tr><th></th><th><i>str</i></th><th><i>datetime64[s]</i></th><th><i>datetime64[s]</i></th>\
<th><i>int64</i></th><th><i>int64</i></th><th><i>datetime64[s]</i></th></tr>
</thead>
<tbody>
<tr><th>0</th><td>ann</td><td>2026-11-21 09:00:00</td><td>2026-11-21 09:20:00</td>\
<td>2</td><td>0</td><td>2026-11-21 09:50:00</td></tr>
<tr><th>1</th><td>ann</td><td>2026-11-21 10:30:00</td><td>2026-11-21 10:40:00</td>\
<td>2</td><td>1</td><td>2026-11-21 11:10:00</td></tr>
<tr><th>2</th><td>bob</td><td>2026-11-21 09:05:00</td><td>2026-11-21 09:05:00</td>\
<td>1</td><td>0</td><td>2026-11-21 09:35:00</td></tr>
<tr><th>3</th><td>bob</td><td>2026-11-21 09:50:00</td><td>2026-11-21 09:50:00</td>\
<td>1</td><td>1</td><td>2026-11-21 10:20:00</td></tr>
</tbody>
</table>
<p>4 rows x 6 columns</p>
</div>"""


def test_html_of_a_small_table():
    assert _readme_table()._repr_html_() == SMALL_HTML


def test_html_of_a_long_table_elides_the_middle_and_escapes():
    h = _long_table()._repr_html_()
    bodies = h.split("<tbody>")[1].split("</tbody>")[0].strip().splitlines()
    assert len(bodies) == 11
    assert bodies[5] == "<tr><th>...</th>" + "<td>...</td>" * 6 + "</tr>"
    assert bodies[6].startswith("<tr><th>7</th>") and bodies[-1].startswith("<tr><th>11</th>")
    assert "<p>12 rows x 6 columns</p>" in h
    t = sessionize.sessions(np.array(["<b>&"]), np.array([1]), gap=1)
    assert "<td>&lt;b&gt;&amp;</td>" in t._repr_html_()


def test_zoned_times_show_in_their_zone_with_the_offset():
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("zoneinfo").ZoneInfo("Europe/Paris")
    ts = pa.array(TIMES.astype("M8[ms]"), type=pa.timestamp("ms", tz="Europe/Paris"))
    t = sessionize.sessions(pa.array(USERS.tolist()), ts, gap="30min")
    lines = repr(t).splitlines()
    assert lines[2].split() == ["0", "ann", "2026-11-21", "10:00:00.000+01:00", "2026-11-21",
                                "10:20:00.000+01:00", "2", "0", "2026-11-21",
                                "10:50:00.000+01:00"]
    assert lines[-2] == ("dtypes: key string, start datetime64[ms, Europe/Paris], "
                         "end datetime64[ms, Europe/Paris], count int64, index int64, "
                         "window_end datetime64[ms, Europe/Paris]")
    row = next(t.rows())
    assert row.key == "ann" and row.start.utcoffset() == datetime.timedelta(hours=1)
    assert row.start == datetime.datetime(2026, 11, 21, 9, tzinfo=datetime.timezone.utc)


def test_list_columns_are_shortened_and_empty_tables_show_their_types():
    sz = sessionize.Sessionizer(10, columnar=True, collect=True)
    pages = ["p1", "p2", "p3", "p4", "p5", "a page name longer than a table cell"]
    b = sz.push_many(["a"] * 6 + ["b"], [1, 2, 3, 4, 5, 6, 30], pages + ["x"])
    text = repr(b.sessions)
    assert "[p1, p2, p3, ... (6)]" in text
    assert "replaces list<uint64>, final bool, values list<object>" in text
    assert repr(b.late) == ("<LateTable: 0 late events>\n"
                            "dtypes: key int64, time int64, position int64, value object\n"
                            "[0 rows x 4 columns]")
    assert repr(b) == "<StreamBatch: 1 sessions, 0 late>"


def test_rows_is_an_iterator_of_named_tuples_of_python_scalars():
    t = _readme_table()
    rows = t.rows()
    assert iter(rows) is rows  # an iterator: list(t.rows()) for a list
    first = next(rows)
    assert first == Session("ann", datetime.datetime(2026, 11, 21, 9),
                            datetime.datetime(2026, 11, 21, 9, 20), 2, 0,
                            datetime.datetime(2026, 11, 21, 9, 50))
    assert [type(v) for v in first] == [str, datetime.datetime, datetime.datetime, int, int,
                                        datetime.datetime]
    assert repr(first) == ("Session(key='ann', start=datetime.datetime(2026, 11, 21, 9, 0), "
                           "end=datetime.datetime(2026, 11, 21, 9, 20), count=2, index=0, "
                           "window_end=datetime.datetime(2026, 11, 21, 9, 50))")
    assert len(list(rows)) == 3
    ints = list(_long_table().rows())
    assert all(type(v) is int for r in ints for v in r)


def test_rows_keep_nanoseconds_as_numpy_and_floats_as_float():
    ns = sessionize.sessions([1, 1], np.array([1, 2], dtype="M8[ns]"), gap="5ns")
    (r,) = ns.rows()
    assert r.start == np.datetime64(1, "ns") and isinstance(r.start, np.datetime64)
    (f,) = sessionize.sessions(np.array([b"k", b"k"]), [1.5, 2.0], gap=1).rows()
    assert f.key == b"k" and type(f.start) is float and f.end == 2.0
    ctr = sessionize.search_ctr([1, 1], ["Search", "ClickResult"])
    assert [type(v) for v in next(ctr.rows())] == [int, int, int, bool, int]


# ---------------------------------------------------------------------------
# plots

@pytest.fixture
def mpl():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _clicks():
    from sessionize.cli.demo_cmd import load_clicks

    keys, times = load_clicks()
    return keys, times, sessionize.sessions(keys, times, gap="30min", max_duration="2h",
                                            max_duration_mode="fixed")


def _png(ax, tmp_path) -> None:
    path = tmp_path / "plot.png"
    ax.figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_durations_histogram(mpl, tmp_path):
    _, _, t = _clicks()
    ax = t.plot.durations(bins=12)
    _png(ax, tmp_path)
    assert ax.get_xlabel() == "session length (min)" and ax.get_ylabel() == "sessions"
    bars = ax.patches
    assert len(bars) == 12
    assert sum(b.get_height() for b in bars) == len(t)
    minutes = (t.end - t.start) / np.timedelta64(1, "m")
    assert bars[-1].get_x() + bars[-1].get_width() == pytest.approx(minutes.max())
    fig, ax2 = mpl.subplots()
    assert t.plot.durations(unit="h", ax=ax2) is ax2
    assert ax2.get_xlabel() == "session length (h)"
    with pytest.raises(ValueError, match="unit"):
        t.plot.durations(unit="weeks", ax=ax2)
    ints = _long_table().plot.durations(ax=ax2)
    assert ints.get_xlabel() == "session length (time units)"


def test_event_counts_and_sessions_per_key_bars(mpl, tmp_path):
    keys, _, t = _clicks()
    ax = t.plot.event_counts()
    _png(ax, tmp_path)
    values, n = np.unique(t.count, return_counts=True)
    assert [b.get_x() + b.get_width() / 2 for b in ax.patches] == pytest.approx(values)
    assert [b.get_height() for b in ax.patches] == n.tolist()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("events in the session", "sessions")

    fig, ax = mpl.subplots()
    assert t.plot.sessions_per_key(ax=ax) is ax
    per_user = np.unique(t.key, return_counts=True)[1]
    values, n = np.unique(per_user, return_counts=True)
    assert [b.get_height() for b in ax.patches] == n.tolist()
    assert [b.get_x() + b.get_width() / 2 for b in ax.patches] == pytest.approx(values)
    assert sum(b.get_height() for b in ax.patches) == len(np.unique(keys))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("sessions of the key", "keys")


def test_timeline_of_one_key(mpl, tmp_path):
    ax = _readme_table().plot.timeline("ann", keys=USERS, times=TIMES)
    _png(ax, tmp_path)
    sessions, squares, points = ax.collections
    assert len(points.get_offsets()) == 4  # ann's events
    assert len(sessions.get_segments()) == 2  # ann's sessions
    assert len(squares.get_offsets()) == 0  # none of them of no length
    assert [t.get_text() for t in ax.texts] == ["1.17 h"]  # 09:20 to 10:30
    assert ax.get_title() == "ann: 4 events, 2 sessions" and ax.get_xlabel() == "time"
    # events coloured by their session
    colours = points.get_facecolors()
    assert (colours[0] == colours[1]).all() and not (colours[1] == colours[2]).all()


def test_timeline_takes_frame_columns_as_seaborn_does(mpl):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"user": USERS, "ts": TIMES})
    t = sessionize.sessions(df["user"], df["ts"], gap="30min")
    fig, ax = mpl.subplots()
    assert t.plot.timeline("bob", "user", "ts", data=df, ax=ax) is ax
    sessions, squares, points = ax.collections
    assert len(points.get_offsets()) == 2
    assert len(squares.get_offsets()) == 2  # bob's two one-event sessions
    with pytest.raises(KeyError, match="'eve'"):
        t.plot.timeline("eve", "user", "ts", data=df, ax=ax)
    with pytest.raises(TypeError, match="needs the events"):
        t.plot.timeline("bob", ax=ax)


def test_plots_without_matplotlib_say_what_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'sessionize\[plot\]'"):
        _readme_table().plot.durations()
    from sessionize.cli.demo_cmd import demo

    assert demo() == 0
    assert "plots: pip install 'sessionize[plot]'" in capsys.readouterr().out


def test_demo_writes_the_png_where_asked(mpl, tmp_path, capsys):
    from sessionize.cli.demo_cmd import demo

    path = tmp_path / "demo.png"
    assert demo(png=str(path)) == 0
    assert f"timeline): {path}" in capsys.readouterr().out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert demo(png=None) == 0
    assert "plots" not in capsys.readouterr().out


def test_rows_across_conversion_blocks(monkeypatch):
    from sessionize import _display

    t = _long_table()
    want = list(t.rows())
    monkeypatch.setattr(_display, "ROW_BLOCK", 5)
    assert list(t.rows()) == want and len(want) == 12
    sz = sessionize.Sessionizer(10, columnar=True, collect=True)
    b = sz.push_many(list("abcabcabca"), list(range(0, 100, 10)), list(range(10)))
    got = list(b.sessions.rows())
    assert len(got) == 8  # two blocks and a part
    assert [s.values for s in got] == [b.sessions.values[i] for i in range(len(got))]
    assert [s.final for s in got] == b.sessions.final.tolist()


def test_timeline_of_zoned_times_ticks_in_the_zone(mpl):
    pa = pytest.importorskip("pyarrow")
    pytest.importorskip("zoneinfo").ZoneInfo("Europe/Paris")
    ts = pa.array(TIMES.astype("M8[ms]"), type=pa.timestamp("ms", tz="Europe/Paris"))
    keys = pa.array(USERS.tolist())
    t = sessionize.sessions(keys, ts, gap="30min")
    fig, ax = mpl.subplots()
    t.plot.timeline("ann", keys=keys, times=ts, ax=ax)
    assert len(ax.collections[-1].get_offsets()) == 4
    assert ax.get_xlabel() == "time (Europe/Paris)"
    fig.canvas.draw()
    labels = [x.get_text() for x in ax.get_xticklabels()]
    # ann's events are 09:00 to 10:40 UTC: 10:00 to 11:40 in Paris
    # (the ticks matplotlib picks may vary; in UTC the first is before 10:00)
    assert "10:00" <= labels[0][-5:] < "10:40" and labels[-1][-5:] >= "11:30", labels
