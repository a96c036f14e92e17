"""Issue 6 end to end: sessions of a real video stored with `analyze --save`, the CLI over
the store, the history view and side-by-side comparison, recording from the window."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from posture_monitor.core.records.store import Store
from tests.conftest import ROOT

CLI = [sys.executable, "-m", "posture_monitor"]


@pytest.fixture(scope="module")
def two_sessions(tmp_path_factory, media_dir):
    """Two stored sessions of patient P1 from real side-view videos (two 'visits')."""
    from fetch_test_media import seated_sequence

    home = tmp_path_factory.mktemp("store")
    env = dict(os.environ, POSTURE_MONITOR_DATA_HOME=str(home))
    for video in (media_dir / "sports2d_demo.mp4", seated_sequence()):
        proc = subprocess.run([*CLI, "analyze", str(video), "--out",
                               str(home / "csv"), "--model", "lite", "--patient", "P1",
                               "--save", "--quiet"], capture_output=True, text=True, cwd=ROOT,
                              env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "stored as session" in proc.stdout
    return home, env


def cli(env, *args):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def test_analyze_save_stores_sessions_with_samples(two_sessions):
    home, _ = two_sessions
    with Store(home / "posture-monitor.sqlite3") as store:
        sessions = store.sessions("P1")  # newest first: the seated clip
        assert len(sessions) == 2 and all(s["status"] == "complete" for s in sessions)
        samples = store.samples(sessions[0]["id"])
        assert len(samples["frame"]) == 700  # every frame of the clip
        assert sessions[0]["csv_sha256"] and len(sessions[0]["csv_sha256"]) == 64
        assert sessions[0]["summary"]["frames"] == 700
        assert sessions[0]["summary"]["cva_deg"] > 60  # mostly upright


def test_sessions_cli_list_show_export_import(two_sessions, tmp_path):
    home, env = two_sessions
    listed = cli(env, "sessions", "list", "--patient", "P1")
    assert listed.returncode == 0 and len(listed.stdout.strip().splitlines()) == 2
    sid = listed.stdout.split()[0]
    assert cli(env, "sessions", "show", sid).returncode == 0
    out = tmp_path / "exported.csv"
    assert cli(env, "sessions", "export", sid, "--out", out, "--anonymize").returncode == 0
    imported = cli(env, "sessions", "import", out, "--patient", "P2")
    assert imported.returncode == 0, imported.stderr
    with Store(home / "posture-monitor.sqlite3") as store:
        new = store.sessions("P2")[0]
        a, b = store.samples(int(sid)), store.samples(new["id"])
        assert np.allclose(a["cva_deg"], b["cva_deg"], equal_nan=True)
    bad = cli(env, "sessions", "show", "999")
    assert bad.returncode == 2 and "no session 999" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_report_cli_writes_a_multi_page_pdf_and_names_a_missing_patient(two_sessions, tmp_path):
    _, env = two_sessions
    pdf = tmp_path / "p1.pdf"
    proc = cli(env, "report", "--patient", "P1", "--pdf", pdf)
    assert proc.returncode == 0, proc.stderr
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "page")],
                   check=True)
    assert len(list(tmp_path.glob("page*.png"))) >= 2
    missing = cli(env, "report", "--patient", "NOPE", "--pdf", pdf)
    assert missing.returncode == 2 and "no patient NOPE" in missing.stderr


def test_history_view_and_side_by_side_comparison(two_sessions, qtbot):
    from posture_monitor.gui.history import HistoryWindow, ReviewWidget

    home, _ = two_sessions
    store = Store(home / "posture-monitor.sqlite3")
    w = HistoryWindow(store, patient="P1")
    qtbot.addWidget(w)
    w.show()
    assert w.table.rowCount() == 2
    # Both visits are side views with a CVA: each row shows its stored summary CVA.
    from posture_monitor.core.measure.definitions import SHORT_NAMES

    headers = [w.table.horizontalHeaderItem(c).text() for c in range(w.table.columnCount())]
    cva = headers.index(SHORT_NAMES["cva_deg"])
    for row, s in enumerate(store.sessions("P1")):
        assert w.table.item(row, cva).text() == f"{s['summary']['cva_deg']:.1f}°", row
    assert w.progress.getPlotItem().listDataItems()  # progress across visits is drawn
    w.table.selectAll()
    w.compare()
    qtbot.waitUntil(lambda: w.detail.count() == 2, timeout=5000)
    reviews = [w.detail.widget(i) for i in range(2)]
    assert all(isinstance(r, ReviewWidget) for r in reviews)
    assert reviews[0].session["id"] != reviews[1].session["id"]
    before = reviews[0].values.text()
    assert reviews[0].replay is None  # analyze without --landmarks: angles only
    reviews[0].scrubber.setValue(60)
    t60 = float(reviews[0].t[60])
    assert reviews[0].values.text() != before and f"t {t60:.1f} s" in reviews[0].values.text()
    store.close()


def test_recording_from_the_window_goes_into_the_store(make_window, qtbot, sports2d_video,
                                                      tmp_path):
    from posture_monitor.core.capture.sources import VideoAsCameraSource

    w = make_window("0", lambda: VideoAsCameraSource(sports2d_video))
    qtbot.waitUntil(lambda: w.frames_shown > 5, timeout=60_000)
    w.calibration.person = "P9"
    w.toggle_recording()
    qtbot.wait(2500)
    w.toggle_recording()
    sessions = w.store.sessions("P9")
    assert len(sessions) == 1 and sessions[0]["status"] == "complete"
    assert sessions[0]["summary"]["frames"] > 10
    assert sessions[0]["csv_path"] == str(w.last_csv)
    # Review replays the stored skeletons (the recording keeps the landmark columns).
    from posture_monitor.gui.history import ReviewWidget

    review = ReviewWidget(w.store, sessions[0]["id"])
    qtbot.addWidget(review)
    assert review.replay is not None and not review.picture.pixmap().isNull()  # drawn
    review.scrubber.setValue(review.scrubber.maximum())
    assert review.shown_frame == int(review.samples["frame"][-1])
