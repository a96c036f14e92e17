"""Property-based fuzzing of `sessions import` (issue 11): whatever CSV and sidecar come in,
the import either stores a session that every reader can show, or refuses with one
printable line (a UserError: exit 2 on the command line) and leaves the database exactly
as it was. No traceback, no hang, no change that was not asked for.

Bounded (150 examples, a few seconds); IMPORT_FUZZ_EXAMPLES=3000 for a longer hunt."""

import json
import os
import shutil
import signal
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.definitions import VIEWS
from posture_monitor.core.records import store_io
from posture_monitor.core.records.report_format import _duration, _fmt, _share, _when
from posture_monitor.core.records.samples import (
    ALERT_STATES,
    SAMPLE_COLUMNS,
    SUMMARY_RANGES,
    VALUE_RANGES,
    summarize,
)
from posture_monitor.core.records.store import SampleWriter, Store
from posture_monitor.core.records.store_io import EXPORT_FORMAT

# Set on this test only (a profile would change other modules' fuzz tests too).
EXAMPLES = int(os.environ.get("IMPORT_FUZZ_EXAMPLES", "150"))

HANG_S = 30  # one import of these small files takes milliseconds

WEIRD_CELLS = ["", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e30",
               "1e308", "-0", "0x10", "1_000", "١٢", "12,5", "1.5", "-1", "2147483648",
               "left", "front", "sideways", "ok", "away", "upright", "'=1+1", "=cmd|x",
               "\x1b[31m", "\t", "a\nb", '"', "\u202e", "\x00", "é", "\ud800", "x" * 300]
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(),
                         st.floats(allow_nan=True, allow_infinity=True),
                         st.text(max_size=12), st.sampled_from(
                             ["2024-01-01T00:00:00+00:00", "P1", "P\x1b[2J", "complete",
                              "running", "error: a\nb", "yesterday", EXPORT_FORMAT]))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)
TEMPLATE_PATHS = [["format"], ["format_version"], ["patient"], ["patient", "id"],
                  ["patient", "display_name"], ["patient", "notes"], ["session"],
                  ["session", "started"], ["session", "ended"], ["session", "status"],
                  ["session", "source"], ["session", "model"], ["session", "notes"],
                  ["settings"], ["summary"], ["columns"], ["started"], ["finished"],
                  ["status"], ["source"], ["model"], ["patient_id"]]

cells = st.one_of(st.sampled_from(WEIRD_CELLS),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  st.integers(-10, 10**12).map(str), st.text(max_size=8))
columns = st.lists(st.one_of(st.sampled_from(SAMPLE_COLUMNS[2:]), st.text(max_size=6)),
                   max_size=8, unique=True)


def good_cell(col: str, i: int):
    """A value that fits the column, so that the files that get past one check reach the
    next ones (and sometimes import)."""
    if col == "frame":
        return st.just(str(i))
    if col in ("view", "alert_state", "posture_label"):
        return st.sampled_from({"view": VIEWS, "alert_state": ALERT_STATES,
                                "posture_label": ("upright", "'=x", "")}[col] + ("",))
    lo, hi = VALUE_RANGES.get(col, (-1e6, 1e6))
    return st.one_of(st.just(""), st.floats(lo, hi).map(repr))


@st.composite
def csv_files(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    clean = not draw(st.integers(0, 2))  # a file that fits: what must import
    header = draw(columns)
    if clean:
        header = ["frame", "time_s", *(h for h in header if h in SAMPLE_COLUMNS)]
    else:
        if draw(st.integers(0, 3)):
            header = ["frame", "time_s", *header]
        if not draw(st.integers(0, 9)):
            header.append(draw(st.sampled_from(header or ["frame"])))  # a column twice
    rows = []
    for i in range(draw(st.integers(int(clean), 6))):
        if clean or draw(st.integers(0, 2)):  # a row that fits, maybe with one odd cell
            row = [draw(good_cell(c, i)) for c in header]
            if row and not clean and not draw(st.integers(0, 3)):
                row[draw(st.integers(0, len(row) - 1))] = draw(cells)
        else:
            row = draw(st.lists(cells, min_size=max(len(header) - 1, 0),
                                max_size=len(header) + 1))
        rows.append(row)
    delim = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    text = end.join(delim.join(r) for r in [header, *rows]) + end
    encoding = draw(st.sampled_from(["utf-8"] * 4 + ["utf-8-sig", "latin-1", "utf-16"]))
    if clean:
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig"]))
    data = text.encode(encoding, "surrogatepass" if encoding.startswith("utf-8") else "replace")
    if not clean and draw(st.integers(0, 5)) == 0:
        data = data[:draw(st.integers(0, len(data)))]
    return data


@st.composite
def sidecars(draw, template: dict) -> bytes | None:
    kind = draw(st.sampled_from(["none"] * 4 + ["export"] * 4 + ["mutated"] * 4
                                + ["binary", "deep", "recorder", "truncated"]))
    if kind == "none":
        return None
    if kind == "binary":
        return draw(st.binary(max_size=200))
    if kind == "deep":
        depth = draw(st.integers(1, 5000))
        return ("[" * depth + "]" * depth).encode()
    meta = json.loads(json.dumps(template))
    if kind == "recorder":
        meta = {k: v for k, v in meta.items() if k != "format"}
    for _ in range(draw(st.integers(1, 3)) if kind != "export" else 0):
        path = draw(st.sampled_from(TEMPLATE_PATHS))
        target = meta
        for key in path[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[path[-1]] = draw(JSON_VALUES)
    text = json.dumps(meta, indent=draw(st.sampled_from([None, 2])))  # NaN, Infinity too
    if kind == "truncated":
        text = text[:draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A store with one patient and session, and that session's export as the sidecar
    template."""
    folder = tmp_path_factory.mktemp("fuzz-base")
    db = folder / "db.sqlite3"
    with Store(db) as store:
        store.add_patient("P1", "Ann")
        sid = store.start_session("P1", "camera 0", "lite", {"model": "lite"})
        w = SampleWriter(store, sid)
        for i in range(3):
            w.add({"frame": i, "time_s": i / 10, "view": "left", "cva_deg": 50.0,
                   "alert_state": "ok"})
        w.close()
        store.finish_session(sid, summarize(store.samples(sid)))
        store_io.export_session(store, sid, folder / "exp.csv")
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, json.loads((folder / "exp.json").read_text())


def _dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as c:
        return list(c.iterdump())


def _alarm(*_):
    raise TimeoutError(f"an import took more than {HANG_S} s")


@given(csv_data=csv_files(), side_kind=st.data(),
       patient=st.one_of(*[st.sampled_from([None, "P1", "P2", "P2", "P2"])] * 3,
                         st.text(max_size=6)),
       again=st.booleans())
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_csv_and_sidecar_import_or_are_refused_in_one_line_leaving_the_db_whole(
        base, csv_data, side_kind, patient, again):
    db0, template = base
    side = side_kind.draw(sidecars(template))
    with tempfile.TemporaryDirectory() as tmp:
        db, path = Path(tmp) / "db.sqlite3", Path(tmp) / "in.csv"
        shutil.copyfile(db0, db)
        path.write_bytes(csv_data)
        if side is not None:
            path.with_suffix(".json").write_bytes(side)
        before = _dump(db)
        old = signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(HANG_S)
        try:
            with Store(db) as store:
                try:
                    sid = store_io.import_session(store, path, patient or None, again=again)
                except UserError as exc:
                    msg = str(exc)
                    assert msg and msg.isprintable(), repr(msg)  # one line, no escapes
                    event("refused: " + msg.replace(str(path.parent), "").split(": ")[0][:24])
                    sid = None
                if sid is not None:  # every reader can show what was stored
                    event("imported")
                    for s in store.sessions():
                        summary = s["summary"] or {}
                        for key, (lo, hi) in SUMMARY_RANGES.items():
                            v = summary.get(key)
                            assert v is None or lo <= v <= hi, (key, v)
                        _duration(summary.get("duration_s"))
                        _fmt(summary.get("cva_deg"))
                        _share(summary.get("good_share"))
                        _when(s["started"])
                    assert len(store.samples(sid)["frame"]) == store.frame_count(sid) > 0
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        after = _dump(db)
        if sid is None:
            assert after == before  # refused: the database is untouched
        else:  # only added: the session, its samples, perhaps its patient
            assert not Counter(before) - Counter(after)

