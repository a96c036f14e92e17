"""Issue 11: nothing recorded is lost, no file can break the store.

Imports are checked against an explicit schema (refused in one line naming the file, the
line and the field, the store unchanged); readers survive what older versions stored;
`sessions delete` undoes an import; sessions whose process died are finished on the next
start; imported text cannot reach the terminal raw; spreadsheet CSVs import; the same file
twice is refused; a large import streams."""

import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from posture_monitor.core.common.errors import UserError
from posture_monitor.core.records import store_io
from posture_monitor.core.records.samples import summarize
from posture_monitor.core.records.store import SampleWriter, Store
from tests.conftest import ROOT

CLI = [sys.executable, "-m", "posture_monitor"]
HEADER = "frame,time_s,view,cva_deg,posture_label,alert_state\n"
ROWS = "0,0.0,left,50.5,upright,ok\n1,0.1,left,51.0,upright,ok\n2,0.2,left,,,warning\n"


def dump(db) -> list[str]:
    with sqlite3.connect(db) as c:
        return list(c.iterdump())


def cli(home, *args, **kw):
    env = dict(os.environ, POSTURE_MONITOR_DATA_HOME=str(home))
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120, **kw)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def export_pair(tmp_path, name="s"):
    """A real session export (CSV + sidecar) of patient P001, from a throwaway store."""
    with Store(tmp_path / f"{name}-src.sqlite3") as store:
        store.add_patient("P001", "Ann")
        sid = store.start_session("P001", "camera 0", "lite", {"model": "lite"})
        w = SampleWriter(store, sid)
        for i in range(4):
            w.add({"frame": i, "time_s": i / 10, "view": "left", "cva_deg": 50.0 + i,
                   "alert_state": "ok", "posture_label": "upright"})
        w.close()
        store.finish_session(sid, summarize(store.samples(sid)))
        out = tmp_path / f"{name}.csv"
        store_io.export_session(store, sid, out)
    return out, out.with_suffix(".json")


# -- finding 2: sidecars and CSV values that broke the history and reports ----------------
def _sidecar_cases():
    def setp(path, value):
        def edit(meta):
            target = meta
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            return meta
        return edit

    return {
        "started NaN": (setp(["session", "started"], float("nan")), "session.started"),
        "started 1e400": (setp(["session", "started"], float("inf")), "session.started"),
        "started a number": (setp(["session", "started"], 20240101), "session.started"),
        "started not a date": (setp(["session", "started"], "yesterday"), "session.started"),
        "session a string": (setp(["session"], "x"), "session"),
        "patient id a number": (setp(["patient", "id"], 7), "patient.id"),
        "patient id a list": (setp(["patient", "id"], ["P1"]), "patient.id"),
        "patient id with ESC": (setp(["patient", "id"], "P\x1b[2J1"), "patient.id"),
        "patient id with a tab": (setp(["patient", "id"], "P\t1"), "patient.id"),
        "patient id with a newline": (setp(["patient", "id"], "P\n1"), "patient.id"),
        "display name with ESC": (setp(["patient", "display_name"], "\x1b]0;x\x07"),
                                  "patient.display_name"),
        "format_version Infinity": (setp(["format_version"], float("inf")), "format_version"),
        "newer format": (setp(["format_version"], 2), "format_version"),
        "settings a list": (setp(["settings"], [1, 2]), "settings"),
        "status unknown": (setp(["session", "status"], "finished?"), "session.status"),
    }


@pytest.mark.parametrize("case", list(_sidecar_cases()))
def test_a_sidecar_that_does_not_fit_is_refused_with_file_line_and_field(tmp_path, case):
    edit, field = _sidecar_cases()[case]
    csv_path, side = export_pair(tmp_path)
    meta = edit(json.loads(side.read_text()))
    side.write_text(json.dumps(meta, indent=2))  # allow_nan: writes NaN and Infinity
    lines = side.read_text().splitlines()
    db = tmp_path / "db.sqlite3"
    Store(db).close()
    before = dump(db)
    with Store(db) as store, pytest.raises(UserError) as exc:
        store_io.import_session(store, csv_path)
    msg = str(exc.value)
    assert msg.isprintable() and str(side) in msg and f"field {field}:" in msg, msg
    line = int(msg.split(", line ")[1].split(",")[0])
    key = field.split(".")[-1]
    assert f'"{key}"' in lines[line - 1], (msg, lines[line - 1])  # the field's own line
    assert dump(db) == before  # refused: nothing stored, no patient created


def test_sidecars_that_are_no_json_are_refused_in_one_line(tmp_path):
    csv_path, side = export_pair(tmp_path)
    db = tmp_path / "db.sqlite3"
    cases = {"[" * 100_000 + "]" * 100_000: "nested 100000 levels deep",
             '{"format": "posture-monitor-session",\n "session": {"started": }}':
                 "line 2: not valid JSON",
             "\ufeff" + side.read_text().replace('"format_version": 1',
                                                 '"format_version": 1' + "0" * 400):
                 "field format_version"}
    for text, expected in cases.items():
        side.write_text(text, encoding="utf-8")
        with Store(db) as store, pytest.raises(UserError) as exc:
            store_io.import_session(store, csv_path)
        assert expected in str(exc.value) and "\n" not in str(exc.value)
    side.write_bytes(b'{"started": "\xe9t\xe9"}')
    with Store(db) as store, pytest.raises(UserError, match="line 1, column 14: byte 0xe9 is "
                                           "not UTF-8"):
        store_io.import_session(store, csv_path)


@pytest.mark.parametrize("cell,column,problem", [
    ("0,inf,,", "time_s", "'inf' is outside 0 to 1e+07"),
    ("0,-inf,,", "time_s", "outside"),
    ("0,1e400,,", "time_s", "outside"),
    ("0,0.5,1e400,", "cva_deg", "outside -360 to 360"),
    ("0,0.5,-Infinity,", "cva_deg", "outside"),
    ("0,0.5,abc,", "cva_deg", "'abc' is not a number"),
    ("0,0.5,\"12,5\",", "cva_deg", "use a decimal point"),
    ("inf,0.5,,", "frame", "is not a frame number"),
    ("1e30,0.5,,", "frame", "is not a frame number"),
    ("-1,0.5,,", "frame", "is not a frame number"),
    ("1.5,0.5,,", "frame", "is not a frame number"),
    (",0.5,,", "frame", "is empty"),
    ("0,0.5,,sideways", "view", "'sideways' is not a view"),
    ("0,0.5,,\x1b[31mleft", "view", "'\\\\x1b[31mleft' is not a view"),
])
def test_csv_values_outside_the_schema_are_refused(tmp_path, cell, column, problem):
    path = tmp_path / "bad.csv"
    path.write_text("frame,time_s,cva_deg,view\n5,0.0,40,left\n" + cell + "\n")
    db = tmp_path / "db.sqlite3"
    Store(db).close()
    before = dump(db)
    with Store(db) as store, pytest.raises(UserError) as exc:
        store_io.import_session(store, path, "P001")
    msg = str(exc.value)
    assert msg.startswith(f"{path}, line 3, column {column}: ") and problem in msg, msg
    assert msg.isprintable()
    assert dump(db) == before


def test_the_reported_files_give_one_line_and_exit_2_and_the_history_stays_usable(tmp_path):
    home = tmp_path / "home"
    nan = tmp_path / "nan.csv"
    nan.write_text(HEADER + ROWS)
    nan.with_suffix(".json").write_text('{"started": NaN, "patient_id": "P1"}')
    big = tmp_path / "big.csv"
    big.write_text("frame,time_s,cva_deg\n0,0,50\n1,inf,1e400\n")
    for path, named in ((nan, nan.with_suffix(".json")), (big, big)):
        proc = cli(home, "sessions", "import", path, "--patient", "P1")
        assert proc.returncode == 2 and f"{named}, line " in one_line(proc.stderr)
    listed = cli(home, "sessions", "list")
    assert listed.returncode == 0 and listed.stdout == "", listed.stderr


def _legacy_store(path) -> int:
    """What older versions let into a store: a session without a usable start, NaN and
    infinity in its summary, broken JSON, infinite and absurd samples, a patient id with a
    terminal escape code and a tab. Returns the worst session's id."""
    with Store(path) as store:
        store.add_patient("P1")
    c = sqlite3.connect(path)
    c.execute("INSERT INTO patients (id) VALUES ('P\x1b[31mX\tY')")
    summaries = [
        '{"frames": 3, "duration_s": Infinity, "cva_deg": NaN, "torso_incl_deg": 1e999, '
        '"good_share": "most", "labels": {"upright": "two"}}',
        "{not json", None, '[1, 2]', '{"frames": 2, "duration_s": 1e300}']
    starts = [None, 1e400, "yesterday", "2024-01-02T09:00:00+00:00", 5]
    for i, (summary, started) in enumerate(zip(summaries, starts, strict=True), 1):
        c.execute("INSERT INTO sessions (id, patient_id, started, settings_json, "
                  "summary_json, status) VALUES (?, ?, ?, ?, ?, 'complete')",
                  (i, "P1" if i < 5 else "P\x1b[31mX\tY", started,
                   "{broken" if i == 2 else "{}", summary))
        for f, (t, cva) in enumerate([(0.0, 50.0), (float("inf"), 1e300), (0.2, "abc"),
                                      (-5.0, float("-inf"))]):
            c.execute("INSERT INTO samples (session_id, frame, time_s, cva_deg, "
                      "torso_incl_deg, score_overall) VALUES (?, ?, ?, ?, ?, ?)",
                      (i, f, t, cva, 1e308 if f else 10.0, 500.0 if f else 20.0))
    c.commit()
    c.close()
    return 1


def test_readers_survive_what_older_versions_stored(tmp_path, qtbot):
    home = tmp_path / "home"
    home.mkdir()
    db = home / "posture-monitor.sqlite3"
    sid = _legacy_store(db)
    with Store(db) as store:
        sessions = store.sessions()
        s = store.session(sid)
        assert s["started"] is None and s["summary"]["duration_s"] is None
        assert s["summary"]["cva_deg"] is None and s["summary"]["good_share"] is None
        assert s["summary"]["labels"] == {} and s["summary"]["frames"] == 3
        assert store.session(2)["settings"] == {} and store.session(2)["summary"] is None
        samples = store.samples(sid)
        np.testing.assert_array_equal(samples["time_s"], [0.0, np.nan, 0.2, np.nan])
        assert samples["cva_deg"][0] == 50.0 and np.isnan(samples["cva_deg"][1:]).all()
        assert np.isnan(samples["score_overall"][1:]).all()  # 500 is beyond 0-100
        assert len(sessions) == 5
    listed = cli(home, "sessions", "list")
    assert listed.returncode == 0, listed.stderr
    assert "unknown date" in listed.stdout and "\x1b" not in listed.stdout
    assert "P\\x1b[31mX\\tY" in listed.stdout  # shown escaped, one line per session
    assert len(listed.stdout.splitlines()) == 5
    pts = cli(home, "patients")
    assert pts.returncode == 0 and "\x1b" not in pts.stdout and "\\x1b" in pts.stdout
    for args in (("--session", sid), ("--patient", "P1")):
        pdf = tmp_path / f"r{args[0]}.pdf"
        rep = cli(home, "report", *args, "--pdf", pdf)
        assert rep.returncode == 0, rep.stderr
        assert pdf.stat().st_size > 1000
    from posture_monitor.gui.history import HistoryWindow, ReviewWidget

    store = Store(db)
    w = HistoryWindow(store, patient="P1")
    qtbot.addWidget(w)
    assert w.table.rowCount() == 4 and w.table.item(3, 0).text() == "unknown"
    review = ReviewWidget(store, sid)
    qtbot.addWidget(review)
    review.scrubber.setValue(1)
    store.close()


# -- sessions delete ------------------------------------------------------------------------
def _pty_run(home, args, answer: bytes) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal, answer its question, return (exit code, output)."""
    env = dict(os.environ, POSTURE_MONITOR_DATA_HOME=str(home))
    main, child = pty.openpty()
    proc = subprocess.Popen([*CLI, *map(str, args)], stdin=child, stdout=child, stderr=child,
                            cwd=ROOT, env=env)
    os.close(child)
    out, deadline, answered = b"", time.monotonic() + 60, False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        if not answered and b"[y/N]" in out:
            os.write(main, answer)
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(main)
    return proc.wait(timeout=30), out.decode("utf-8", "replace")


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_sessions_delete_asks_on_a_terminal_and_refuses_without_one(tmp_path):
    home = tmp_path / "home"
    csv_path = tmp_path / "s.csv"
    csv_path.write_text(HEADER + ROWS)
    assert cli(home, "sessions", "import", csv_path, "--patient", "P1").returncode == 0
    db = home / "posture-monitor.sqlite3"
    with Store(db) as store:
        [s] = store.sessions()
    sid = s["id"]
    question = f"Delete session {sid} of patient P1 ({s['started'][:16]}, 3 frames)? [y/N]"
    no_tty = cli(home, "sessions", "delete", sid, stdin=subprocess.DEVNULL)
    assert no_tty.returncode == 2 and "--yes" in one_line(no_tty.stderr)
    code, out = _pty_run(home, ["sessions", "delete", sid], b"n\n")
    assert question in out and code == 1 and "nothing deleted" in out
    with Store(db) as store:
        assert store.frame_count(sid) == 3
    code, out = _pty_run(home, ["sessions", "delete", sid], b"y\n")
    assert code == 0 and "deleted session" in out, out
    with Store(db) as store:
        assert store.sessions() == [] and store.frame_count(sid) == 0  # samples too
    assert csv_path.is_file()  # the user's file stays
    again = cli(home, "sessions", "delete", sid, "--yes")
    assert again.returncode == 2 and f"no session {sid}" in one_line(again.stderr)
    # the bad import undone, the same file imports again without --again
    assert cli(home, "sessions", "import", csv_path, "--patient", "P1").returncode == 0
    with Store(db) as store:
        [s] = store.sessions()
    yes = cli(home, "sessions", "delete", s["id"], "--yes", stdin=subprocess.DEVNULL)
    assert yes.returncode == 0 and "deleted session" in yes.stdout


# -- finding 5: sessions whose process died -------------------------------------------------
WRITER = """
import os, sys, time
from posture_monitor.core.records.store import SampleWriter, Store
store = Store(sys.argv[1])
store.add_patient("P001")
csv = sys.argv[3]
open(csv, "w").write("frame,time_s\\n")
sid = store.start_session("P001", "camera 0", "lite", {}, csv_path=csv)
w = SampleWriter(store, sid, flush_interval_s=0.2)
for i in range(int(sys.argv[4])):
    w.add({"frame": i, "time_s": i / 10, "view": "left", "cva_deg": 50.0 + i % 5,
           "alert_state": "ok", "posture_label": "upright"})
    time.sleep(0.01)
w.flush()
open(sys.argv[2], "w").write(str(sid))
while True:  # alive, holding its session, writing nothing
    time.sleep(0.1)
"""


def _backdate(db, sid, seconds):
    then = (datetime.now(timezone.utc) - timedelta(seconds=seconds)).isoformat()
    with sqlite3.connect(db) as c:
        c.execute("UPDATE sessions SET updated = ? WHERE id = ?", (then, sid))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_session_is_finished_on_the_next_start_and_a_live_one_is_not(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db, ready, csv_path = home / "posture-monitor.sqlite3", tmp_path / "sid", tmp_path / "r.csv"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db), str(ready), str(csv_path),
                             "40"], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        sid = int(ready.read_text())
        _backdate(db, sid, 3600 * 5)  # silent for hours, but its process lives
        listed = cli(home, "sessions", "list")
        assert listed.returncode == 0 and listed.stdout.rstrip().endswith("running")
        with Store(db) as store:
            assert store.recover_interrupted(quiet_s=0, unknown_quiet_s=0) == []
            with pytest.raises(UserError, match="being recorded right now"):
                store.delete_session(sid)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    _backdate(db, sid, 1)
    with Store(db) as store:  # just killed: its last write counts as recent
        assert store.recovered == [] and store.recover_interrupted() == []
        assert store.session(sid)["status"] == "running"
    _backdate(db, sid, 60)
    listed = cli(home, "sessions", "list")  # the next start finishes it
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split("\t")[-1].strip() == "interrupted"
    assert "0.1 min" in listed.stdout  # 3.9 s of frames, not 0.0
    with Store(db) as store:
        s = store.session(sid)
        assert s["status"] == "interrupted" and s["summary"]["frames"] == 40
        assert s["summary"] == summarize(store.samples(sid))
        assert s["csv_path"] == str(csv_path) and len(s["csv_sha256"]) == 64
        assert s["ended"] and store.recover_interrupted(quiet_s=0) == []
    assert not list((home / "posture-monitor.sqlite3.writers").glob("*.lock"))


def test_sessions_of_an_older_version_are_finished_after_an_hour_of_silence(tmp_path):
    db = tmp_path / "db.sqlite3"
    with Store(db) as store:
        store.add_patient("P1")
    old = (datetime.now(timezone.utc) - timedelta(hours=3)).isoformat()
    recent = datetime.now(timezone.utc).isoformat()
    with sqlite3.connect(db) as c:  # as main wrote them: no writer, no 'updated'
        for sid, started in ((1, old), (2, recent)):
            c.execute("INSERT INTO sessions (id, patient_id, started, settings_json, status) "
                      "VALUES (?, 'P1', ?, '{}', 'running')", (sid, started))
            c.execute("INSERT INTO samples (session_id, frame, time_s, cva_deg) VALUES "
                      "(?, 0, 0.0, 50), (?, 1, 2.0, 52)", (sid, sid))
    with Store(db) as store:
        assert store.session(1)["status"] == "interrupted"
        assert store.recovered == [1]
        assert store.session(1)["summary"]["duration_s"] == 2.0
        assert store.session(1)["summary"]["cva_deg"] == 51.0
        assert store.session(2)["status"] == "running"  # it may still be writing


def test_stored_summary_matches_summarize(tmp_path):
    rng = np.random.default_rng(1)
    with Store(tmp_path / "db") as store:
        store.add_patient("P1")
        sid = store.start_session("P1", "x", "lite", {})
        w = SampleWriter(store, sid)
        for i in range(500):
            w.add({"frame": i, "time_s": i / 30 if i % 7 else "", "cva_deg": rng.normal(50, 5),
                   "head_fwd_cm": rng.normal(5, 2) if i % 3 else None,
                   "alert_state": ["ok", "warning", "away", None][i % 4],
                   "posture_label": ["upright", "forward_head", ""][i % 3]})
        w.close()
        assert store.stored_summary(sid) == summarize(store.samples(sid))


# -- finding 9 (import parts) -------------------------------------------------------------
def test_text_that_could_drive_the_terminal_is_refused_at_the_door(tmp_path):
    csv_path = tmp_path / "s.csv"
    csv_path.write_text(HEADER + ROWS)
    with Store(tmp_path / "db") as store:
        for bad in ("P\x1b[31m1", "P\t1", "P\n1", "P\u202e1", " P1", "x" * 65):
            with pytest.raises(UserError) as exc:
                store_io.import_session(store, csv_path, bad)
            assert str(exc.value).isprintable(), exc.value
            with pytest.raises(UserError):
                store.add_patient(bad)
        assert store.patients() == []
    label = tmp_path / "label.csv"
    label.write_text("frame,time_s,posture_label\n0,0,\x1b[2Jupright\n")
    with Store(tmp_path / "db") as store, pytest.raises(UserError, match="U\\+001B"):
        store_io.import_session(store, label, "P1")


def test_csvs_with_a_bom_crlf_or_semicolons_import_alike(tmp_path):
    with Store(tmp_path / "db") as store:
        bom = tmp_path / "bom.csv"
        bom.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROWS).replace("\n", "\r\n").encode())
        semi = tmp_path / "semi.csv"
        semi.write_text(HEADER.replace(",", ";") + ROWS.replace(",", ";") + ";;;;;\n")
        for path in (bom, semi):
            sid = store_io.import_session(store, path, "P1")
            s = store.samples(sid)
            assert s["frame"].tolist() == [0, 1, 2] and s["cva_deg"][0] == 50.5
            assert s["view"][0] == "left" and s["alert_state"][2] == "warning"


def test_files_that_are_not_utf8_say_what_is_wrong(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + ROWS).encode() + "3,0.3,left,50,d\xe9j\xe0,ok\n".encode("cp1252"))
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text(HEADER + ROWS, encoding="utf-16")
    with Store(tmp_path / "db") as store:
        with pytest.raises(UserError) as exc:
            store_io.import_session(store, latin, "P1")
        assert str(exc.value).startswith(f"{latin}, line 5, column 16: byte 0xe9 is not UTF-8")
        assert "CSV UTF-8" in str(exc.value)
        with pytest.raises(UserError, match="is UTF-16 text: save it as UTF-8"):
            store_io.import_session(store, utf16, "P1")
        assert store.sessions() == []


def test_a_header_only_csv_is_refused(tmp_path):
    empty = tmp_path / "header.csv"
    empty.write_text(HEADER)
    with Store(tmp_path / "db") as store:
        with pytest.raises(UserError, match="has a header but no rows"):
            store_io.import_session(store, empty, "P1")
        assert store.sessions() == [] and store.patients() == []


def test_the_same_file_twice_is_refused_unless_asked(tmp_path):
    home = tmp_path / "home"
    csv_path = tmp_path / "s.csv"
    csv_path.write_text(HEADER + ROWS)
    assert cli(home, "sessions", "import", csv_path, "--patient", "P1").returncode == 0
    twice = cli(home, "sessions", "import", csv_path, "--patient", "P2")
    assert twice.returncode == 2
    assert "session 1 of patient P1 has the same sha256" in one_line(twice.stderr)
    assert "--again" in twice.stderr
    assert cli(home, "sessions", "import", csv_path, "--patient", "P2",
               "--again").returncode == 0
    with Store(home / "posture-monitor.sqlite3") as store:
        assert [s["patient_id"] for s in store.sessions()] == ["P2", "P1"]
    dup = tmp_path / "dup.csv"
    dup.write_text(HEADER + ROWS + "1,0.3,left,52,,ok\n")
    with Store(tmp_path / "db") as store, pytest.raises(UserError) as exc:
        store_io.import_session(store, dup, "P1")
    assert str(exc.value).startswith(f"{dup}, line 5: frame 1 appears a second time")


def test_a_100000_row_import_peaks_under_12_mb_of_python_memory(tmp_path):
    """100,000 rows (2.6 MB): the whole import stays within a few MB of Python memory
    (the list-of-rows import took 80 MB for this file; bench/bench_import.py measures the
    process on 50 MB)."""
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("frame,time_s,cva_deg\n")
        fh.writelines(f"{i},{i / 30:.3f},{40 + i % 20}.25\n" for i in range(100_000))
    with Store(tmp_path / "db") as store:
        tracemalloc.start()
        try:
            sid = store_io.import_session(store, path, "P1")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert store.session(sid)["summary"]["frames"] == 100_000
    assert peak < 12e6, f"peak {peak / 1e6:.1f} MB"
