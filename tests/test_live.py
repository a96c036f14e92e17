"""The live engine without Qt: threads, the newest-frame mailbox, the display timeline,
camera loss and recovery, recording through the same recorder as `analyze`."""

import threading
import time

import numpy as np
import pytest

from posture_monitor.core.capture.sources import Frame, VideoAsCameraSource, open_source
from posture_monitor.core.common.errors import SourceError
from posture_monitor.core.common.settings import AnalysisSettings
from posture_monitor.core.posture.pipeline import FrameResult
from posture_monitor.core.records.recorder import csv_columns
from posture_monitor.core.run.live import BLANK_FRAMES, LiveEngine
from posture_monitor.core.run.timeline import Captured, DisplayTimeline
from posture_monitor.core.vision.pose import Pose
from tests.conftest import read_rows

LITE = AnalysisSettings(model="lite")


def _pose(x: float) -> Pose:
    image = np.full((33, 3), x)
    return Pose(image, image.copy(), np.ones(33), np.ones(33))


def _result(index: int, x: float) -> FrameResult:
    from posture_monitor.core.measure.metrics import measure

    return FrameResult(Frame(index, index / 30, None), _pose(x), measure(None, 1, 1), 0, 0)


def test_timeline_shows_analysed_frames_exactly_and_interpolates_between():
    tl = DisplayTimeline()
    for i in range(10):
        tl.add_frame(Captured(Frame(i, i / 30, None), i / 30))
    tl.add_result(0 / 30, _result(0, 0.0), 0.05)
    tl.add_result(4 / 30, _result(4, 0.4), 4 / 30 + 0.05)
    tl._delay_s = 0.0  # show everything up to the newest analysed frame
    item = tl.pick(now=4 / 30)
    assert item.frame.index == 4 and item.exact and item.pose.image[0, 0] == pytest.approx(0.4)
    item = tl.pick(now=2 / 30)
    assert item.frame.index == 2 and not item.exact
    assert item.pose.image[0, 0] == pytest.approx(0.2)  # halfway between frames 0 and 4
    assert item.result.frame.index == 0  # metrics come from the analysed frame before
    # Never beyond the newest analysed frame, whatever the clock says.
    assert tl.pick(now=9 / 30).frame.index == 4


def test_engine_on_a_camera_stand_in_keeps_up_and_stops_cleanly(sports2d_video):
    engine = LiveEngine(lambda: VideoAsCameraSource(sports2d_video), LITE)
    engine.start()
    assert engine.wait_ready(60)
    shown = []
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        item = engine.pick()
        if item:
            shown.append(item)
        time.sleep(1 / 60)
    stats = engine.stats()
    assert engine.stop()
    assert not engine.running
    assert not [t for t in threading.enumerate() if t.name in ("capture", "analysis")]
    # Speed belongs to the benchmarks (bench_display.py); here: capture is never held back
    # by analysis (newest frame wins), and frames reach the display.
    assert stats.analysis_fps > 0 and stats.capture_fps >= 0.9 * stats.analysis_fps
    assert len(shown) > 20
    indices = [s.frame.index for s in shown]
    assert indices == sorted(indices)  # the display never goes back in time
    assert stats.latency_p95_ms < 1000  # bounded: no queue builds up
    assert all(s.pose is None or s.pose.image.shape == (33, 3) for s in shown)


def test_recording_writes_the_same_columns_as_analyze(tmp_path, sports2d_video):
    engine = LiveEngine(lambda: open_source(sports2d_video), LITE)
    engine.start()
    engine.wait_ready(60)
    csv_path = engine.start_recording(tmp_path, "live")
    time.sleep(2.5)
    assert engine.stop_recording() == csv_path
    engine.stop()
    rows = read_rows(csv_path)
    assert list(rows[0]) == csv_columns(landmarks=True)
    assert len(rows) > 10 and any(r["pose_detected"] == "1" for r in rows)


class FlakyCamera(VideoAsCameraSource):
    """A real clip in a camera's role that is 'unplugged' after some frames."""

    def __init__(self, path, fail_after):
        super().__init__(path)
        self.fail_after = fail_after

    def read(self):
        if self._delivered >= self.fail_after:
            raise SourceError("camera 0 stopped delivering frames")
        return super().read()


def test_lost_camera_is_reported_retried_and_recovered(tmp_path, sports2d_video):
    opens = []

    def factory():
        opens.append(time.monotonic())
        if len(opens) == 2:
            raise SourceError("no camera at index 0")  # still unplugged at the first retry
        return FlakyCamera(sports2d_video, fail_after=20 if len(opens) == 1 else 10_000)

    engine = LiveEngine(factory, LITE)
    engine.start()
    engine.wait_ready(60)
    csv_path = engine.start_recording(tmp_path, "lost")
    events = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and ("camera_recovered" not in [e[0] for e in events]):
        events += engine.events()
        time.sleep(0.05)
    time.sleep(1.0)
    assert engine.recording  # the recording survived the loss
    engine.stop()
    kinds = [k for k, _ in events]
    assert kinds[:2] == ["camera_lost", "camera_recovered"]
    assert len(opens) == 3  # opened, failed retry, successful retry
    rows = read_rows(csv_path)
    assert len(rows) > 20  # frames before the loss and after the recovery


class ShutterCamera(VideoAsCameraSource):
    """Real frames, then a closed privacy shutter (black frames), then real frames again."""

    def read(self):
        frame = super().read()
        if 10 <= self._delivered < 10 + BLANK_FRAMES + 10:
            frame.image = np.zeros_like(frame.image)
        return frame


def test_privacy_shutter_is_noticed_and_its_opening_announced(sports2d_video):
    engine = LiveEngine(lambda: ShutterCamera(sports2d_video), LITE)
    engine.start()
    events = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(events) < 2:
        events += engine.events()
        time.sleep(0.05)
    engine.stop()
    assert [k for k, _ in events][:2] == ["camera_lost", "camera_recovered"]
    assert "blank" in events[0][1]
