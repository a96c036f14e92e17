"""The real window, offscreen, with a real video in the camera's role."""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from posture_monitor.core.capture.sources import VideoAsCameraSource
from posture_monitor.core.records.recorder import csv_columns
from tests.conftest import FIXTURES, ROOT, read_rows
from tests.test_overlay import facing  # noqa: F401 - a fixture: a real front-view frame

DESK_FRONT = FIXTURES / "desk_webcam_bsd2" / "front_cam2.mp4"  # seated at a desk, webcam


def _camera(video):
    return lambda: VideoAsCameraSource(video)


def test_window_shows_frames_angles_and_moving_plots(make_window, qtbot, sports2d_video):
    w = make_window("0", _camera(sports2d_video))
    qtbot.waitUntil(lambda: w.frames_shown > 30, timeout=60_000)
    assert w.stack.currentIndex() == 1 and w.video.image is not None
    shown = w.video.image  # fitted to the view, with the frame's aspect ratio
    assert shown.width() <= max(w.video.width(), 1) and shown.height() <= w.video.height()
    assert abs(shown.width() / shown.height() - 1768 / 994) < 0.02
    # The picture is the video (a real frame varies), not an empty or one-colour image.
    pixels = np.frombuffer(shown.constBits(), np.uint8)
    assert pixels.std() > 20
    qtbot.waitUntil(lambda: w.side.values["cva_deg"].text() not in ("-", ""), timeout=30_000)
    from posture_monitor.gui.side_panel import VIEW_TEXT

    # The panel names the view of the frame on screen (read together: no event between).
    assert w.side.view.text() == VIEW_TEXT[w.last_item.result.measurement.view]
    size = w.plots.buffer.size
    qtbot.waitUntil(lambda: w.plots.buffer.size > size + 10, timeout=10_000)
    t, v = w.plots.buffer.ordered("score_overall")
    assert (t[1:] >= t[:-1]).all()  # time runs forward in the plot
    status = re.fullmatch(r"capture (\d+\.\d) fps · analysis (\d+\.\d) fps · display "
                          r"(\d+\.\d) fps · latency p50/p95 \d+/\d+ ms · dropped \d+ · "
                          r"model lite", w.status.text())
    assert status, w.status.text()
    assert all(float(fps) > 0 for fps in status.groups())


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
    assert w.isVisible() and w.banner.isVisible() and "no camera at index 7" in w.banner.text()


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


def test_model_from_the_command_line_is_for_this_run_only(make_window, qtbot, monkeypatch,
                                                          sports2d_video, tmp_path):
    # `gui --model lite` with "full" saved: lite now, "full" still saved afterwards
    w = make_window("0", _camera(sports2d_video), run_only={"model": "lite"}, model="full")
    qtbot.waitUntil(lambda: w.frames_shown > 3, timeout=60_000)
    assert w.engine.model_name == "lite"
    from posture_monitor.gui import settings_dialog

    class Dialog:  # the Settings dialog, OK pressed after changing the plot window only
        def __init__(self, shown, parent):
            self.shown = shown

        def exec(self):
            return True

        def settings(self):
            return replace(self.shown, plot_window_s=120)

    monkeypatch.setattr(settings_dialog, "SettingsDialog", Dialog)
    engine = w.engine
    w.open_settings()
    assert w.engine is engine and w.engine.model_name == "lite"  # nothing to reopen
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["model"] == "full" and saved["plot_window_s"] == 120
    w.close()
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert saved["model"] == "full" and saved["plot_window_s"] == 120


@pytest.mark.slow
def test_sigterm_closes_cleanly_with_exit_code_0(sports2d_video, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               POSTURE_MONITOR_DATA_HOME=str(tmp_path))
    config = tmp_path / "config"  # the settings follow POSTURE_MONITOR_DATA_HOME
    config.mkdir()
    # `--model lite` is for this run only: the saved choice survives it
    (config / "settings.json").write_text(json.dumps({"model": "full"}))
    proc = subprocess.Popen([sys.executable, "-m", "posture_monitor", "gui", "--source",
                             str(sports2d_video), "--model", "lite"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Fatal" not in err
    assert (config / "settings.json").exists()  # closed through the normal path
    assert json.loads((config / "settings.json").read_text())["model"] == "full"


@pytest.mark.skipif(not DESK_FRONT.exists(), reason="desk webcam clips not in this checkout")
def test_front_view_in_the_window_values_reasons_and_plot(make_window, qtbot):
    w = make_window("0", _camera(DESK_FRONT))
    v = w.side.values
    qtbot.waitUntil(lambda: w.side.view.text() == "front"
                    and v["head_fwd_cm"].text().endswith(" cm"), timeout=60_000)
    texts = {c: label.text() for c, label in v.items()}  # one frame's texts
    assert re.fullmatch(r"-?\d+ cm", texts["head_fwd_cm"]), texts
    for c in ("head_size_ratio", "neck_height_ratio", "fwd_head_ratio"):
        assert re.fullmatch(r"\d\.\d\d × shoulder width", texts[c]), texts
    for c in ("head_pitch_deg", "shoulder_tilt_deg", "head_tilt_deg"):
        assert re.fullmatch(r"-?\d+°", texts[c]), texts
    # The desk hides the hips: what needs them is withheld, and says why.
    for c in ("trunk_flex_3d_deg", "lateral_lean_deg"):
        assert re.fullmatch(r"no reading \(out of frame: (left|right) hip\)", texts[c]), texts
        assert v[c].property("withheld") is True
    # The side-view rows fold into one line naming them; the front rows are all there.
    side_note, front_note = w.side.notes
    assert side_note.isVisible() and "CVA (proxy)" in side_note.text()
    assert not front_note.isVisible()
    assert not v["cva_deg"].isVisible() and v["head_fwd_cm"].isVisible()
    assert texts["cva_deg"] == "no reading (side view only)"
    # The key-measures plot is the front one, drawing the head forward distance.
    assert w.plots.view_plot is w.plots.front

    def plotted():
        y = w.plots.curves["head_fwd_cm"].getData()[1]
        return y is not None and np.isfinite(y).sum() > 3

    qtbot.waitUntil(plotted, timeout=10_000)


def test_side_panel_front_measures_baseline_and_reasons(qtbot, facing):  # noqa: F811
    from posture_monitor.core.measure.definitions import METRIC_COLUMNS
    from posture_monitor.core.measure.metrics import Measurement, measure
    from posture_monitor.core.posture.baseline import Baseline, MetricStats
    from posture_monitor.core.vision.landmarks import INDEX
    from posture_monitor.core.vision.pose import Pose
    from posture_monitor.gui.side_panel import SidePanel

    panel = SidePanel()
    qtbot.addWidget(panel)
    m = facing.measurement
    fwd, neck = m.values["head_fwd_cm"], m.values["neck_height_ratio"]
    pitch = m.values["head_pitch_deg"]
    baseline = Baseline("2026-01-01T00:00:00+00:00", "front", {
        "head_fwd_cm": MetricStats(round(fwd) - 3.0, 0.5, 30),  # head 3 cm further forward
        "neck_height_ratio": MetricStats(neck * 1.25, 0.01, 30),  # neck 20 % lower
        "head_pitch_deg": MetricStats(round(pitch) + 5.0, 1.0, 30),  # chin 5 deg higher
    }, 0.3, (0.5, 0.5), {})
    panel.show_result(facing, baseline)
    text = {c: label.text() for c, label in panel.values.items()}
    assert text["head_fwd_cm"] == f"{round(fwd)} cm   (+3 cm vs your baseline)"
    assert text["neck_height_ratio"] == f"{neck:.2f} × shoulder width   (-20 % vs your baseline)"
    assert text["head_pitch_deg"] == f"{round(pitch)}°   (-5° vs your baseline)"
    assert text["head_size_ratio"].endswith(" × shoulder width")  # no baseline: value only
    assert re.fullmatch(r"-?\d+°", text["trunk_flex_3d_deg"])

    # An ear hidden: every measure that needs it says "no reading" and why.
    pose = facing.pose
    hidden = Pose(pose.image.copy(), pose.world.copy(), pose.visibility.copy(),
                  pose.presence.copy())
    hidden.visibility[INDEX["left_ear"]] = 0.1
    h, w = facing.frame.image.shape[:2]
    panel.show_result(replace(facing, pose=hidden, measurement=measure(hidden, w, h)))
    for c in ("head_fwd_cm", "head_size_ratio", "neck_height_ratio", "head_pitch_deg"):
        assert panel.values[c].text() == "no reading (low visibility: left ear)"
        assert panel.values[c].property("withheld") is True
    assert panel.values["trunk_flex_3d_deg"].property("withheld") is False

    # A side view: the front rows fold into one line, and say why they are empty.
    side = Measurement("left", -90.0, dict.fromkeys(METRIC_COLUMNS) | {"cva_deg": 48.0}, [])
    panel.show_result(replace(facing, measurement=side))
    assert panel.values["cva_deg"].text() == "48°"
    assert panel.values["head_fwd_cm"].text() == "no reading (front view only)"
    assert not panel.values["head_fwd_cm"].isVisibleTo(panel)
    assert panel.values["cva_deg"].isVisibleTo(panel)
    assert panel.notes[1].isVisibleTo(panel) and "Head forward" in panel.notes[1].text()
    assert not panel.notes[0].isVisibleTo(panel)


def test_unloadable_classifier_costs_only_the_labels(make_window, qtbot, monkeypatch,
                                                     sports2d_video, tmp_path):
    from posture_monitor.core.records.app_settings import AppSettings

    missing = tmp_path / "missing.tflite"  # or one built for other features: same path
    original = AppSettings.to_analysis_settings
    monkeypatch.setattr(AppSettings, "to_analysis_settings",
                        lambda self: replace(original(self), classifier=str(missing)))
    w = make_window("0", _camera(sports2d_video))
    qtbot.waitUntil(lambda: "Posture classifier not available" in w.banner.text(),
                    timeout=60_000)
    assert "missing.tflite" in w.banner.text() and w.banner.isVisible()
    qtbot.waitUntil(lambda: w.side.values["cva_deg"].text().endswith("°"), timeout=60_000)
    assert w.side.posture.text() == "no reading"
    assert w.engine.settings.classifier == "none"  # what a recording's sidecar says


def test_key_measures_plot_follows_the_view(qtbot):
    from posture_monitor.gui.plots import LivePlots

    plots = LivePlots(30)
    qtbot.addWidget(plots)
    items = lambda: list(plots.ci.items)  # noqa: E731 - the plots in the layout
    assert plots.view_plot is plots.angles and plots.front not in items()
    for t in range(20):
        plots.append(float(t), {"head_fwd_cm": 5.0 + t % 3, "cva_deg": None})
    plots.set_view("front")
    plots.refresh(20.0)
    assert plots.view_plot is plots.front and plots.front in items()
    assert plots.angles not in items() and plots.scores in items()
    assert np.isfinite(plots.curves["head_fwd_cm"].getData()[1]).sum() == 20
    for view in ("oblique", "back", "unknown"):  # no usable view: the last plot stays
        plots.set_view(view)
        assert plots.view_plot is plots.front
    plots.set_view("left")
    plots.refresh(20.0)
    assert plots.view_plot is plots.angles and plots.front not in items()
    plots.set_view("front")  # and back again: the same plot, its curves intact
    assert plots.front in items() and plots.curves["head_fwd_cm"] in plots.front.items


def test_event_bridge_delivers_the_events_behind_a_failing_handler(qtbot):
    from posture_monitor.core.run import events as ev
    from posture_monitor.gui.event_bridge import EventBridge

    bridge, bus, got = EventBridge(), ev.EventBus(), []

    def handler(event):
        got.append(event.message)
        if event.message == "first":
            raise ValueError("a broken view")

    bridge.subscribe(ev.EngineWarning, handler)
    bridge.attach(bus)
    with qtbot.captureExceptions() as raised:
        bus.publish(ev.EngineWarning("first"))
        bus.publish(ev.EngineWarning("second"))  # no publish after it: only a re-wake helps
        qtbot.waitUntil(lambda: got == ["first", "second"], timeout=5000)
    assert [str(exc) for _, exc, _ in raised] == ["a broken view"]
