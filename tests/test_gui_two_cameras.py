"""Two cameras in the window (issue 15): a side camera beside the first, each stream its
own engine; the side panel takes each value from the camera whose view shows its plane,
pairing the front frame on show with the side camera's analysed frame nearest in capture
time, and says which camera each value came from. On a real X server (Xvfb, xcb), the
window runs the two synchronized Pose2Sim cameras (cam02 in front, cam01 at the side) as
`posture-monitor gui --source A --side-source B` does: both pictures play, the panel
shows values from both cameras with their source."""

from __future__ import annotations

import json
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, METRIC_BY_COLUMN
from posture_monitor.core.run.live import PAIR_TOLERANCE_S, CameraPair, LiveEngine
from posture_monitor.core.run.sinks import Analysed
from tests.conftest import ROOT
from tests.test_xcb import (  # noqa: F401 - xvfb: a fixture
    _screenshot,
    _xcb_env,
    close_window,
    keep_screenshot,
    real_window,
    rewrite_clip,
    xvfb,
)

FRONTAL = next(c for c, m in METRIC_BY_COLUMN.items() if set(m.views) <= FRONTAL_VIEWS)
SAGITTAL = next(c for c, m in METRIC_BY_COLUMN.items() if set(m.views) == {"left", "right"})


def _result(**values):
    return SimpleNamespace(measurement=SimpleNamespace(values=values),
                           angles=SimpleNamespace(values={}))


def test_the_side_cameras_frame_nearest_in_capture_time_is_paired(tmp_path):
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.common.resources import sample_video

    engine = LiveEngine(lambda: open_source(sample_video()))  # not started: no threads
    try:
        assert engine.result_near(10.0) is None  # nothing analysed yet
        early, late = _result(), _result()
        engine._analysed(Analysed(early, 10.00, 10.05))
        engine._analysed(Analysed(late, 10.10, 10.15))
        assert engine.result_near(10.04) is early and engine.result_near(10.06) is late
        assert engine.result_near(10.10 + PAIR_TOLERANCE_S + 0.01) is None  # too far
        engine._analysed(Analysed(_result(), 20.0, 20.05))  # older ones are let go
        assert engine.result_near(10.1, tolerance=100) is not late
    finally:
        engine.stop()


def test_each_value_comes_from_the_camera_whose_view_shows_its_plane():
    side_result = _result(**{FRONTAL: 3.0, SAGITTAL: 50.0})
    side = SimpleNamespace(result_near=lambda t: side_result if t < 5 else None)
    pair = CameraPair(SimpleNamespace(), side)
    front = _result(**{FRONTAL: 1.0, SAGITTAL: 40.0})
    v = pair.values(front, 1.0)
    assert v.side is side_result
    assert v.values[FRONTAL] == (1.0, "front") and v.values[SAGITTAL] == (50.0, "side")
    # the camera whose view shows the plane has no reading: the other one's
    v = pair.values(_result(**{FRONTAL: None, SAGITTAL: 40.0}), 1.0)
    assert v.values[FRONTAL] == (3.0, "side")
    v = pair.values(front, 9.0)  # no side frame near in time: the front camera alone
    assert v.side is None and v.values[SAGITTAL] == (40.0, "front")
    assert pair.values(_result(), 9.0).values[FRONTAL] == (None, "")


def test_side_panel_tags_each_value_with_its_camera(qtbot):
    from posture_monitor.core.run.live import PairedValues
    from posture_monitor.gui.side_panel import SidePanel

    panel = SidePanel()
    qtbot.addWidget(panel)
    front = SimpleNamespace(measurement=SimpleNamespace(
        view="front", values=dict.fromkeys(METRIC_BY_COLUMN), flags=[]),
        classification=SimpleNamespace(label=None), scores={})
    side = SimpleNamespace(measurement=SimpleNamespace(view="left"))
    values = {c: (None, "") for c in METRIC_BY_COLUMN}
    values[FRONTAL], values[SAGITTAL] = (2.0, "front"), (48.0, "side")
    panel.show_result(front, paired=PairedValues(front, side, values))
    assert panel.values[FRONTAL].text() == "2°   · front"
    assert panel.values[SAGITTAL].text() == "48°   · side"
    assert panel.values[next(c for c in values if values[c][0] is None)].text() == \
        "no reading from either camera"
    assert panel.view.text() == "front camera: front; side camera: side (left side to camera)"
    panel.show_result(front, paired=PairedValues(front, None, values))
    assert panel.view.text().endswith("side camera: no frame near in time")


def test_gui_side_source_option_opens_a_side_camera(monkeypatch):
    import posture_monitor.gui.main as gui_main
    from posture_monitor import cli

    calls = []
    monkeypatch.setattr(gui_main, "run_gui", lambda *a, **k: calls.append((a, k)) or 0)
    assert cli.main(["gui", "--source", "front.mp4", "--side-source", "side.mp4"]) == 0
    assert cli.main(["gui", "--source", "front.mp4"]) == 0
    assert [(a[0], k["side_source"]) for a, k in calls] == [("front.mp4", "side.mp4"),
                                                            ("front.mp4", None)]


def test_side_camera_opens_beside_and_closes_with_the_window(make_window, qtbot, media_dir):
    from posture_monitor.core.capture.sources import VideoAsCameraSource

    w = make_window("0", lambda: VideoAsCameraSource(media_dir / "pose2sim_cam02.mp4"))
    assert not w.second.running and not w.second.video.isVisible()
    assert not w.second.open(str(media_dir / "absent.mp4"))  # a banner, no engine
    assert w.banner_tag == "side_camera" and not w.second.running
    assert w.second.open("0", lambda: VideoAsCameraSource(media_dir / "pose2sim_cam01.mp4"))
    assert w.second.video.isVisible() and w.banner_tag is None
    qtbot.waitUntil(lambda: w.second.frames_shown > 3 and w.frames_shown > 3,
                    timeout=90_000)
    qtbot.waitUntil(lambda: "| side camera: capture" in w.status.text(), timeout=5_000)
    # the two pictures share the row: side by side, the side one on the right
    assert w.second.video.x() > w.video.x() + w.video.width() - 5
    w.second.close()
    assert not w.second.running and not w.second.video.isVisible()


# The real window on xcb as `posture-monitor gui --source A --side-source B --model lite`
# starts it (run_gui). From the first frames shown it writes down, every tick, what the
# side panel shows; after 5 s of stream time it writes that for the test, which takes
# two screenshots a moment apart and compares both pictures.
DRIVER = r"""
import json, os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from posture_monitor.gui.main import run_gui
from posture_monitor.gui.main_window import MainWindow

front, side, out = sys.argv[1], sys.argv[2], sys.argv[3]
app = QApplication(sys.argv[:1])
assert app.platformName() == "xcb", app.platformName()
state = {"shown": {}, "views": []}


def hook():
    w = next(x for x in app.topLevelWidgets() if isinstance(x, MainWindow))

    def tick():
        item = w.last_item
        if item is None or w.second.last_item is None:
            return
        for column, label in w.side.values.items():
            state["shown"].setdefault(column, [])
            text = label.text()
            if text not in state["shown"][column]:
                state["shown"][column].append(text)
        if w.side.view.text() not in state["views"]:
            state["views"].append(w.side.view.text())
        if item.result.frame.time_s > 5.0 and not os.path.exists(out):
            geometry = {name: list(v.mapTo(w, v.rect().topLeft()).toTuple())
                        + list(v.size().toTuple())
                        for name, v in (("front", w.video), ("side", w.second.video))}
            state.update(geometry=geometry, window=w.geometry().getRect(),
                         frames_shown=[w.frames_shown, w.second.frames_shown],
                         status=w.status.text(), title=w.windowTitle())
            with open(out + ".part", "w") as fh:
                json.dump(state, fh)
            os.replace(out + ".part", out)
    QTimer(w, interval=50, timeout=tick).start()


QTimer.singleShot(0, hook)
sys.exit(run_gui(front, "lite", side_source=side))
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is Linux only")
def test_two_real_cameras_side_by_side_in_the_real_window_on_a_real_x_server(
        xvfb, tmp_path, media_dir):  # noqa: F811 - the fixture imported above
    # the 1.7 s, 60 fps clips' frames at 10 fps: long enough to watch both play
    front = rewrite_clip(media_dir / "pose2sim_cam02.mp4", tmp_path / "cam02_10fps.mp4", 10)
    side = rewrite_clip(media_dir / "pose2sim_cam01.mp4", tmp_path / "cam01_10fps.mp4", 10)
    env = _xcb_env(xvfb, tmp_path)
    env["PYTHONPATH"] = str(ROOT)
    out = tmp_path / "two.json"
    with real_window([sys.executable, "-c", DRIVER, str(front), str(side), str(out)], env,
                     tmp_path) as app:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and not out.exists():
            assert app.poll() is None, app.communicate()[1]
            time.sleep(0.2)
        assert out.exists(), "the two cameras were not both shown"
        first = _screenshot(xvfb, tmp_path / "first.png", tmp_path)
        time.sleep(1.5)
        second = _screenshot(xvfb, tmp_path / "two_cameras.png", tmp_path)
        keep_screenshot(tmp_path / "two_cameras.png", "screenshot_two_cameras.png")
        _, err = close_window(app)
    assert "Traceback" not in err and "Fatal" not in err
    state = json.loads(out.read_text())
    # both pictures on the screen, side by side, and both playing
    (fx, fy, fw, fh), (sx, sy, sw, sh) = state["geometry"]["front"], state["geometry"]["side"]
    assert sx >= fx + fw - 5 and abs(fy - sy) < 5 and min(fw, sw) > 200
    for x, y, w, h in ((fx, fy, fw, fh), (sx, sy, sw, sh)):
        a, b = first[y:y + h, x:x + w], second[y:y + h, x:x + w]
        assert a.std() > 0.05, "a picture is empty"
        changed = np.abs(a - b).max(axis=2) > 0.05
        assert changed.mean() > 0.01, "a picture did not change: its video is not playing"
    assert min(state["frames_shown"]) > 10, state["frames_shown"]
    assert "| side camera: capture" in state["status"]
    # the panel: values from both cameras, each with its source; frontal measures from
    # the front camera, the 3D trunk from the oblique side camera
    shown = state["shown"]
    tagged = {c: {t.rsplit("· ", 1)[1] for t in texts if "· " in t}
              for c, texts in shown.items()}
    assert "front" in tagged["shoulder_tilt_deg"], shown["shoulder_tilt_deg"]
    assert "side" in tagged["trunk_tilt_3d_deg"], shown["trunk_tilt_3d_deg"]
    assert all(t.endswith(("· front", "· side")) or t.startswith("no reading")
               for texts in shown.values() for t in texts), shown
    assert any(v.startswith("front camera: ") and "; side camera: " in v
               for v in state["views"]), state["views"]
