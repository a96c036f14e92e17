"""The SQLite store: migrations, permissions, sessions, crash safety, export and import."""

import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.measure.definitions import METRIC_COLUMNS
from posture_monitor.core.records import store_io
from posture_monitor.core.records.samples import SAMPLE_COLUMNS, summarize
from posture_monitor.core.records.schema import MIGRATIONS, db_path
from posture_monitor.core.records.store import SampleWriter, Store
from posture_monitor.core.records.store_io import safe_cell
from tests.conftest import ROOT, SEATED, read_rows

POSIX = os.name == "posix"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _row(i: int, **kw) -> dict:
    row = {"frame": i, "time_s": i / 10, "view": "left", "cva_deg": 50.0 + i,
           "torso_incl_deg": -12.5, "posture_label": "upright", "score_overall": 10.0,
           "alert_state": "ok"}
    return row | kw


def _fill(store: Store, patient: str = "P001", n: int = 5) -> int:
    if store.patient(patient) is None:
        store.add_patient(patient, "Ann Example", "knee op 2024")
    sid = store.start_session(patient, "camera 0", "lite", {"model": "lite"})
    w = SampleWriter(store, sid)
    for i in range(n):
        w.add(_row(i))
    w.close()
    store.finish_session(sid, summarize(store.samples(sid)))
    return sid


def _same(a: dict, b: dict) -> None:
    assert set(a) == set(b) == set(SAMPLE_COLUMNS)
    for c in SAMPLE_COLUMNS:
        if a[c].dtype == object:
            assert list(a[c]) == list(b[c]), c
        else:
            np.testing.assert_array_equal(a[c], b[c], err_msg=c)  # NaN == NaN here


def test_db_path_follows_the_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("POSTURE_MONITOR_DATA_HOME", str(tmp_path / "d"))
    assert db_path() == tmp_path / "d" / "posture-monitor.sqlite3"


def test_new_database_is_private_wal_with_foreign_keys(tmp_path):
    path = tmp_path / "new" / "db.sqlite3"
    with Store(path) as store:
        assert store.version == len(MIGRATIONS) == 8  # v8: the every-view 3D metrics
        assert store.query("PRAGMA journal_mode")[0][0] == "wal"
        assert store.query("PRAGMA foreign_keys")[0][0] == 1
        _fill(store)
        if POSIX:
            assert _mode(path) == 0o600
            assert _mode(path.parent) == 0o700
            wal = path.with_name(path.name + "-wal")
            assert wal.exists() and _mode(wal) == 0o600
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_deleting_a_patient_cascades(tmp_path):
    with Store(tmp_path / "db") as store:
        sid = _fill(store, "P001")
        other = _fill(store, "P002")
        store.delete_patient("P001")
        assert [p["id"] for p in store.patients()] == ["P002"]
        assert store.query("SELECT count(*) FROM sessions WHERE id = ?", (sid,))[0][0] == 0
        assert store.query("SELECT count(*) FROM samples WHERE session_id = ?",
                           (sid,))[0][0] == 0
        assert len(store.samples(other)["frame"]) == 5  # the other patient is untouched


def test_migration_from_version_1_keeps_the_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    c = sqlite3.connect(path)
    c.executescript(MIGRATIONS[0])
    c.execute("PRAGMA user_version = 1")
    c.execute("INSERT INTO patients VALUES ('P7', 'Bo', NULL, '2024-01-01T00:00:00+00:00')")
    c.execute("INSERT INTO sessions (id, patient_id, started, settings_json, status) "
              "VALUES (3, 'P7', '2024-01-01T00:00:00+00:00', '{}', 'complete')")
    c.execute("INSERT INTO samples (session_id, frame, time_s, cva_deg) VALUES (3, 0, 0.5, 48)")
    c.commit()
    c.close()
    with Store(path) as store:
        assert store.version == len(MIGRATIONS)
        assert store.patient("P7")["display_name"] == "Bo"
        s = store.session(3)
        assert s["notes"] is None and s["status"] == "complete"  # the new column exists
        assert store.samples(3)["cva_deg"].tolist() == [48.0]
        indexes = {r[0] for r in store.query("SELECT name FROM sqlite_master "
                                             "WHERE type = 'index'")}
        assert "samples_time" in indexes
        tables = {r[0] for r in store.query("SELECT name FROM sqlite_master "
                                            "WHERE type = 'table'")}
        assert "baselines" not in tables and "baselines_patient" not in indexes


def test_a_newer_schema_or_a_foreign_file_is_a_one_line_error(tmp_path):
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as c:
        c.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(UserError, match="newer") as exc:
        Store(newer)
    assert "\n" not in str(exc.value)
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database at all, just text\n" * 100)
    with pytest.raises(UserError, match="move it aside"):
        Store(junk)


def test_patients_add_list_and_refuse_empty_or_duplicate_ids(tmp_path):
    with Store(tmp_path / "db") as store:
        store.add_patient("P001", "Ann")
        store.add_patient("A9")
        assert [p["id"] for p in store.patients()] == ["A9", "P001"]
        assert store.patient("P001")["display_name"] == "Ann"
        assert store.patient("nobody") is None
        for bad in ("", "  ", "P001"):
            with pytest.raises(UserError) as exc:
                store.add_patient(bad)
            assert "\n" not in str(exc.value)


def test_sessions_keep_settings_summary_and_csv_checksum_newest_first(tmp_path):
    csv = tmp_path / "run.csv"
    csv.write_text("frame,time_s\n0,0\n")
    with Store(tmp_path / "db") as store:
        store.add_patient("P001")
        first = store.start_session("P001", "camera 0", "lite", {"model": "lite", "x": [1]})
        second = store.start_session("P001", "video.mp4", "full", {})
        store.finish_session(first, {"frames": 3}, csv_path=csv)
        s = store.session(first)
        assert s["settings"] == {"model": "lite", "x": [1]}
        assert s["summary"] == {"frames": 3} and s["status"] == "complete"
        assert s["csv_path"] == str(csv) and s["ended"]
        assert s["csv_sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
        assert store.session(second)["status"] == "running"
        assert [x["id"] for x in store.sessions()] == [second, first]  # newest first
        assert [x["id"] for x in store.sessions("P001")] == [second, first]
        assert store.sessions("P002") == []
        with pytest.raises(UserError) as exc:
            store.session(12345)
        assert str(exc.value) == ("no session 12345: list them with posture-monitor "
                                  "sessions list")
        with pytest.raises(UserError):
            store.start_session("nobody", "camera 0", "lite", {})


def test_samples_come_back_as_typed_arrays_with_gaps_as_nan_or_none(tmp_path):
    with Store(tmp_path / "db") as store:
        store.add_patient("P001")
        sid = store.start_session("P001", "camera 0", "lite", {})
        w = SampleWriter(store, sid)
        w.add(_row(0))
        w.add({"frame": "1", "time_s": "0.100", "view": "", "cva_deg": "", "posture_label": "",
               "alert_state": ""})  # CSV-style strings, empty = missing
        w.add({"frame": 2, "time_s": 0.2, "cva_deg": float("nan")})  # metrics left out
        assert len(store.samples(sid)["frame"]) == 0  # buffered until the interval passes
        w.close()
        s = store.samples(sid)
    assert s["frame"].tolist() == [0, 1, 2] and s["frame"].dtype == np.int64
    np.testing.assert_allclose(s["time_s"], [0.0, 0.1, 0.2])
    assert s["cva_deg"][0] == 50.0 and np.isnan(s["cva_deg"][1:]).all()
    assert np.isnan(s["neck_incl_deg"]).all()
    assert s["view"].dtype == object and s["view"].tolist() == ["left", None, None]
    assert s["alert_state"].tolist() == ["ok", None, None]
    assert set(s) == set(SAMPLE_COLUMNS) and set(METRIC_COLUMNS) <= set(s)


def test_writer_flushes_once_per_interval(tmp_path):
    with Store(tmp_path / "db") as store:
        store.add_patient("P001")
        sid = store.start_session("P001", "camera 0", "lite", {})
        w = SampleWriter(store, sid, flush_interval_s=0.2)
        w.add(_row(0))
        time.sleep(0.25)
        w.add(_row(1))  # the interval has passed: both rows are committed now
        assert store.samples(sid)["frame"].tolist() == [0, 1]
        w.add(_row(2))
        assert len(store.samples(sid)["frame"]) == 2
        w.flush()
        assert len(store.samples(sid)["frame"]) == 3


def test_summarize_gives_the_hand_computed_figures_of_a_known_table():
    nan = float("nan")
    samples = {
        "frame": np.arange(5),
        "time_s": np.array([1.0, 1.5, 2.0, 2.5, 3.0]),
        "cva_deg": np.array([40.0, 50.0, nan, 60.0, 45.0]),
        "torso_incl_deg": np.array([nan] * 5),
        "shoulder_tilt_deg": np.array([-2.0, nan, nan, nan, nan]),
        "head_tilt_deg": np.array([1.0, 2.0, 3.0, 4.0, 5.0]),
        "lateral_lean_deg": np.array([nan] * 5),
        "alert_state": np.array(["ok", "warning", "away", None, "ok"], dtype=object),
        "posture_label": np.array(["upright", "forward_head", None, "upright", "upright"],
                                  dtype=object),
    }
    s = summarize(samples)
    assert s["frames"] == 5 and s["duration_s"] == pytest.approx(2.0)
    assert {k: s[k] for k in ("cva_deg", "torso_incl_deg", "shoulder_tilt_deg",
                              "head_tilt_deg", "lateral_lean_deg")} == {
        "cva_deg": 47.5, "torso_incl_deg": None, "shoulder_tilt_deg": -2.0,
        "head_tilt_deg": 3.0, "lateral_lean_deg": None}
    assert s["good_share"] == pytest.approx(2 / 3)  # away and None do not count
    assert s["labels"] == {"upright": 3, "forward_head": 1}
    json.dumps(s)  # storable as is


CHILD = """
import os, sys, time
from posture_monitor.core.records.store import SampleWriter, Store
store = Store(sys.argv[1])
store.add_patient("P001")
sid = store.start_session("P001", "camera 0", "lite", {})
w = SampleWriter(store, sid, flush_interval_s=1.0)
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
i = 0
while True:
    w.add({"frame": i, "time_s": i / 100, "view": "left", "cva_deg": 50.0})
    i += 1
    if i % 10 == 0:
        os.write(fd, f"{i}\\n".encode())
    time.sleep(0.01)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_writer_loses_at_most_the_last_second(tmp_path):
    db, counter = tmp_path / "db.sqlite3", tmp_path / "count.txt"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(counter)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not counter.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert counter.exists(), "the child never started writing"
        time.sleep(3.5)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    lines = counter.read_text().split("\n")
    added = int([x for x in lines[:-1] if x][-1])  # last complete line
    assert added >= 200  # the child ran long enough for the check to mean something
    with Store(db) as store:
        assert store.query("PRAGMA integrity_check")[0][0] == "ok"
        [s] = store.sessions()
        frames = store.samples(s["id"])["frame"]
    n = len(frames)
    assert frames.tolist() == list(range(n))  # whole batches only, no holes
    assert n >= added - 150, (n, added)


def test_export_import_round_trip_and_anonymize(tmp_path):
    with Store(tmp_path / "db") as store:
        sid = _fill(store)
        out = tmp_path / "exp" / "s.csv"
        store_io.export_session(store, sid, out)
        meta = json.loads(out.with_suffix(".json").read_text())
        assert meta["patient"] == {"id": "P001", "display_name": "Ann Example",
                                   "notes": "knee op 2024"}
        assert meta["summary"]["frames"] == 5 and meta["settings"] == {"model": "lite"}
        if POSIX:
            assert _mode(out) == _mode(out.with_suffix(".json")) == 0o600
        new = store_io.import_session(store, out, "P002")
        assert store.patient("P002") is not None  # created on the fly
        _same(store.samples(sid), store.samples(new))
        imp = store.session(new)
        assert imp["patient_id"] == "P002" and imp["model"] == "lite"
        assert imp["source"] == "camera 0" and imp["settings"] == {"model": "lite"}
        assert imp["summary"] == store.session(sid)["summary"]
        with pytest.raises(UserError, match=f"session {new} of patient P002 has the same "
                           "sha256"):  # the same file twice: refused unless asked
            store_io.import_session(store, out)
        again = store_io.import_session(store, out, again=True)  # patient from the export itself
        assert store.session(again)["patient_id"] == "P001"

        anon = tmp_path / "anon.csv"
        store_io.export_session(store, sid, anon, anonymize=True)
        text = anon.with_suffix(".json").read_text()
        assert "Ann" not in text and "knee" not in text
        assert json.loads(text)["patient"] == {"id": "P001"}


def test_exports_defuse_spreadsheet_formulas(tmp_path):
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("\tx") == "'\tx" and safe_cell("upright") == "upright"
    with Store(tmp_path / "db") as store:
        store.add_patient("P001", '=HYPERLINK("http://x","y")', "+1")
        sid = store.start_session("P001", "-evil", "lite", {})
        w = SampleWriter(store, sid)
        w.add(_row(0, posture_label="=cmd|' /C calc'!A0", torso_incl_deg=-12.5))
        w.close()
        store.finish_session(sid, summarize(store.samples(sid)))
        out = tmp_path / "x.csv"
        store_io.export_session(store, sid, out)
        meta = json.loads(out.with_suffix(".json").read_text())
        assert meta["patient"]["display_name"] == '\'=HYPERLINK("http://x","y")'
        assert meta["patient"]["notes"] == "'+1"
        assert meta["session"]["source"] == "'-evil"
        [row] = read_rows(out)
        assert row["posture_label"] == "'=cmd|' /C calc'!A0"
        assert row["torso_incl_deg"] == "-12.5"  # numbers stay numbers
        new = store_io.import_session(store, out, "P002")  # and the quote comes off again
        assert store.samples(new)["posture_label"].tolist() == ["=cmd|' /C calc'!A0"]
        assert store.session(new)["source"] == "-evil"


def test_importing_an_analyze_csv_keeps_its_rows_and_sidecar(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze",
                           str(SEATED / "recline.jpg"), "--out", str(tmp_path), "--model",
                           "lite", "--classifier", "none", "--quiet"], capture_output=True,
                          text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    with Store(tmp_path / "db") as store:
        sid = store_io.import_session(store, tmp_path / "recline.csv", "P001")
        s = store.samples(sid)
        assert len(s["frame"]) == 1 and s["torso_incl_deg"][0] < -20
        # recline.jpg: the man faces image-left, his left side to the camera
        assert s["view"][0] == "left" and s["alert_state"][0] is None
        sess = store.session(sid)
        side = json.loads((tmp_path / "recline.json").read_text())
        assert sess["model"] == "lite" and sess["started"] == side["started"]
        assert sess["ended"] == side["finished"] and sess["status"] == "complete"
        assert sess["settings"] == side["settings"]
        assert sess["source"].endswith("recline.jpg")
        assert sess["summary"]["frames"] == 1
        assert sess["summary"]["torso_incl_deg"] == pytest.approx(s["torso_incl_deg"][0])


def test_importing_something_else_is_a_one_line_error(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("Dear diary,\nslouched all day.\n")
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    bad_number = tmp_path / "bad.csv"
    bad_number.write_text("frame,time_s,cva_deg\n0,0.0,abc\n")
    with Store(tmp_path / "db") as store:
        for path in (text, binary, bad_number, tmp_path / "missing.csv"):
            with pytest.raises(UserError) as exc:
                store_io.import_session(store, path, "P001")
            assert "\n" not in str(exc.value) and str(path) in str(exc.value)
        no_patient = tmp_path / "ok.csv"
        no_patient.write_text("frame,time_s\n0,0.0\n")
        with pytest.raises(UserError, match="--patient"):
            store_io.import_session(store, no_patient)
        assert store.sessions() == [] and store.patients() == []  # nothing half-imported
