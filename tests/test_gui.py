"""The real window, offscreen, with a real video in the camera's role."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from posture_monitor.core.recorder import csv_columns
from posture_monitor.core.sources import VideoAsCameraSource
from tests.conftest import ROOT, read_rows


def _camera(video):
    return lambda: VideoAsCameraSource(video)


def test_window_shows_frames_angles_and_moving_plots(make_window, qtbot, sports2d_video):
    w = make_window("0", _camera(sports2d_video))
    qtbot.waitUntil(lambda: w.frames_shown > 30, timeout=60_000)
    assert w.stack.currentIndex() == 1 and w.video.image is not None
    shown = w.video.image  # fitted to the view, with the frame's aspect ratio
    assert shown.width() <= max(w.video.width(), 1) and shown.height() <= w.video.height()
    assert abs(shown.width() / shown.height() - 1768 / 994) < 0.02
    qtbot.waitUntil(lambda: w.side.values["cva_deg"].text() not in ("-", ""), timeout=30_000)
    assert w.side.view.text() != "-"
    size = w.plots.buffer.size
    qtbot.waitUntil(lambda: w.plots.buffer.size > size + 10, timeout=10_000)
    t, v = w.plots.buffer.ordered("score_overall")
    assert (t[1:] >= t[:-1]).all()  # time runs forward in the plot
    assert "analysis" in w.status.text() and "latency" in w.status.text()


def test_recording_writes_the_analyze_columns(make_window, qtbot, sports2d_video, tmp_path):
    w = make_window("0", _camera(sports2d_video))
    qtbot.waitUntil(lambda: w.frames_shown > 5, timeout=60_000)
    w.toggle_recording()
    assert w.engine.recording and w.record_action.text() == "Stop recording"
    qtbot.wait(2000)
    w.toggle_recording()
    rows = read_rows(w.last_csv)
    # one code path with `analyze --landmarks` (the landmarks let Review redraw skeletons)
    assert list(rows[0]) == csv_columns(landmarks=True)
    assert len(rows) > 10
    meta = json.loads(w.last_csv.with_suffix(".json").read_text())
    assert meta["status"] == "complete" and meta["classifier"]["sha256"]
    assert not list((tmp_path / "sessions").glob("*.mp4"))  # no video unless asked
    snap = w.snapshot()
    from PySide6.QtGui import QImage

    assert QImage(str(snap)).width() == 1768  # full resolution, not the fitted view


def test_missing_camera_shows_the_empty_state(make_window):
    w = make_window("7")
    assert w.engine is None and w.stack.currentIndex() == 0
    assert "no camera at index 7" in w.empty_text.text()
    assert w.isVisible() and w.banner.isVisible()


def test_video_file_pauses_and_seeks(make_window, qtbot, sports2d_video):
    w = make_window(str(sports2d_video))
    qtbot.waitUntil(lambda: w.frames_shown > 5, timeout=60_000)
    assert w.seek.isVisible() and w.seek.maximum() == 229
    w.pause_action.setChecked(True)
    qtbot.wait(500)
    shown = w.frames_shown
    qtbot.wait(700)
    assert w.frames_shown <= shown + 3  # paused: the picture stops
    w.engine.seek(200)
    w.pause_action.setChecked(False)
    qtbot.waitUntil(lambda: w.seek.value() >= 200, timeout=20_000)


def test_lost_camera_banner(make_window, qtbot, sports2d_video):
    from tests.test_live import FlakyCamera

    opens = []

    def factory():
        opens.append(1)
        return FlakyCamera(sports2d_video, fail_after=15 if len(opens) == 1 else 10_000)

    w = make_window("0", factory)
    qtbot.waitUntil(lambda: "Camera lost" in w.banner.text(), timeout=30_000)
    assert w.banner.isVisible()
    qtbot.waitUntil(lambda: "Camera back" in w.banner.text(), timeout=30_000)


def test_dropping_a_video_opens_it(make_window, qtbot, sports2d_video):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    w = make_window("7")  # starts on the empty state
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(sports2d_video))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    w.dropEvent(event)
    assert w.engine is not None and w.stack.currentIndex() == 1
    qtbot.waitUntil(lambda: w.frames_shown > 3, timeout=60_000)


def test_close_stops_threads_and_saves_settings(make_window, qtbot, sports2d_video, tmp_path):
    w = make_window("0", _camera(sports2d_video))
    qtbot.waitUntil(lambda: w.frames_shown > 3, timeout=60_000)
    w.mirror_action.setChecked(False)
    w.close()
    assert w.engine is None
    assert not [t for t in threading.enumerate() if t.name in ("capture", "analysis")]
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["mirror"] is False


@pytest.mark.slow
def test_sigterm_closes_cleanly_with_exit_code_0(sports2d_video, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               POSTURE_MONITOR_CONFIG_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "posture_monitor", "gui", "--source",
                             str(sports2d_video), "--model", "lite"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Fatal" not in err
    assert (tmp_path / "settings.json").exists()  # closed through the normal path
