"""The live engine without Qt: threads, the newest-frame mailbox, the display timeline,
camera loss and recovery, recording through the same recorder as `analyze`, and the
events it publishes on its bus."""

import threading
import time
from itertools import pairwise

import numpy as np
import pytest

from posture_monitor.core.capture.sources import Frame, VideoAsCameraSource, open_source
from posture_monitor.core.common.errors import SourceError
from posture_monitor.core.common.settings import AlertSettings, AnalysisSettings
from posture_monitor.core.posture.alerts import AlertRule
from posture_monitor.core.posture.pipeline import FrameResult
from posture_monitor.core.records.recorder import csv_columns
from posture_monitor.core.run import events as ev
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
    while time.monotonic() < deadline and not any(
            isinstance(e, ev.CameraRecovered) for e in events):
        events += engine.bus.pending()
        time.sleep(0.05)
    time.sleep(1.0)
    assert engine.recording  # the recording survived the loss
    engine.stop()
    camera = [e for e in events if isinstance(e, ev.CameraLost | ev.CameraRecovered)]
    assert [type(e) for e in camera] == [ev.CameraLost, ev.CameraRecovered]
    assert len(opens) == 3  # opened, failed retry, successful retry
    rows = read_rows(csv_path)
    assert len(rows) > 20  # frames before the loss and after the recovery
    times = [float(r["time_s"]) for r in rows]
    frames = [int(r["frame"]) for r in rows]
    # The reconnected camera counts from 0 again; the rows go on from where they were.
    assert times == sorted(times) and len(set(times)) == len(times)
    assert frames == sorted(frames) and len(set(frames)) == len(frames)
    assert max(b - a for a, b in pairwise(times)) >= 1.5  # the outage is a gap


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
    while time.monotonic() < deadline and len(
            [e for e in events if isinstance(e, ev.CameraLost | ev.CameraRecovered)]) < 2:
        events += engine.bus.pending()
        time.sleep(0.05)
    engine.stop()
    camera = [e for e in events if isinstance(e, ev.CameraLost | ev.CameraRecovered)]
    assert [type(e) for e in camera] == [ev.CameraLost, ev.CameraRecovered]
    assert "blank" in camera[0].message


class _Results:
    """A sink that keeps every analysed frame's alert state."""

    def __init__(self):
        self.states = []

    def write(self, item):
        if item.result.alert is not None:
            self.states.append(item.result.alert.state.value)

    def close(self, status):
        pass


def test_every_alert_start_at_30_fps_is_published_exactly_once(sports2d_video):
    """Alerts that start and end within a few frames (no onset, no cooldown, no grace, on
    a rule the clip crosses often), on a camera stand-in at 30 frames/s: each transition
    into "alert" in the analysed results is one AlertStarted, each one out one AlertEnded,
    and the states on the bus follow the results."""
    alerts = AlertSettings(onset_s=0.0, clear_s=0.0, cooldown_s=0.0, grace_s=0.0)
    engine = LiveEngine(lambda: VideoAsCameraSource(sports2d_video),
                        AnalysisSettings(model="lite", classifier="none", alerts=alerts))
    assert engine.source.fps == 30.0
    results = _Results()
    engine.analysis.add_sink(results)
    # The clip's craniovertebral angle crosses 40 degrees a few times a loop (7.7 s) in
    # its side views.
    engine.set_baseline(None, (AlertRule("cva_deg", "above", 40.0, 0.0, "Test angle"),))
    engine.start()
    assert engine.wait_ready(60)

    def transitions():
        states = list(results.states)
        previous = [None, *states][:len(states)]
        pairs = list(zip(states, previous, strict=True))
        return (states, previous, sum(s == "alert" != p for s, p in pairs),
                sum(p == "alert" != s for s, p in pairs))

    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and transitions()[2] < 3:
        time.sleep(0.2)
    assert engine.stop()
    events = engine.bus.pending()
    states, previous, starts, ends = transitions()
    assert starts >= 3  # the test exercises more than one alert
    started = [e for e in events if isinstance(e, ev.AlertStarted)]
    assert len(started) == starts
    assert len([e for e in events if isinstance(e, ev.AlertEnded)]) == ends
    assert all(e.reason.startswith("Test angle") and e.rules == ("cva_deg",) for e in started)
    changes = [e.state for e in events if isinstance(e, ev.AlertStateChanged)]
    assert changes == [s for s, p in zip(states, previous, strict=True) if s != p]


def _wait_for(engine, kind, events, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events += engine.bus.pending()
        found = [e for e in events if isinstance(e, kind)]
        if found:
            return found[0]
        time.sleep(0.05)
    return None


def test_calibration_and_a_changed_setup_are_told_on_the_bus(media_dir):
    """The engine takes the calibration on its analysis thread (progress, then the
    baseline); a baseline whose camera is not this one pauses its alerts, said once."""
    from dataclasses import replace

    clip = media_dir / "desk_forward_head.mp4"
    engine = LiveEngine(lambda: VideoAsCameraSource(clip),
                        AnalysisSettings(model="lite", classifier="none"))
    engine.start()
    try:
        assert engine.wait_ready(60)
        engine.calibrate(2.0)
        events = []
        done = _wait_for(engine, ev.CalibrationFinished, events, 30)
        assert done is not None and done.error is None and not done.slouch
        assert done.baseline.camera == engine.camera_info
        fractions = [e.fraction for e in events if isinstance(e, ev.CalibrationProgress)]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0
        moved = replace(done.baseline, camera=done.baseline.camera | {"description": "cam 2"})
        engine.set_baseline(moved)
        events = []
        changed = _wait_for(engine, ev.SetupChanged, events, 10)
        assert changed is not None and "another camera" in changed.reason
        time.sleep(1.5)
        events += engine.bus.pending()
        assert len([e for e in events if isinstance(e, ev.SetupChanged)]) == 1
    finally:
        engine.stop()


def test_a_video_that_ended_plays_on_after_a_seek(sports2d_video):
    """At the end of a file the capture worker waits for the scrubber instead of ending:
    a seek back reads on (and reaches the end again)."""
    engine = LiveEngine(lambda: open_source(sports2d_video), LITE, pace=False)
    engine.start()
    try:
        events = []
        assert _wait_for(engine, ev.SourceEnded, events, 60) is not None
        assert engine.capture.running
        engine.seek(200)
        events = []
        assert _wait_for(engine, ev.SourceEnded, events, 30) is not None
    finally:
        engine.stop()


@pytest.mark.slow
def test_exercise_mode_counts_the_real_squats_live_and_a_recording_keeps_them(tmp_path):
    import json

    from posture_monitor.core.common.settings import ExerciseSettings
    from tests.conftest import FIXTURES

    clip = FIXTURES / "exercise_side_mit" / "squat_side_barbell.mp4"
    engine = LiveEngine(lambda: open_source(str(clip)), LITE)  # a file, played in real time
    engine.start()
    assert engine.wait_ready(60)
    engine.start_exercise(ExerciseSettings(name="squat"))
    csv_path = engine.start_recording(tmp_path, "squat")
    events = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events += engine.bus.pending()
        if any(isinstance(e, ev.SourceEnded) for e in events):
            break
        time.sleep(0.2)
    engine.stop_recording()
    summary = engine.stop_exercise()
    assert engine.stop()
    events += engine.bus.pending()
    started = [e for e in events if isinstance(e, ev.ExerciseStarted)]
    assert [(e.preset, e.side) for e in started] == [("squat", "both")]
    reps = [e for e in events if isinstance(e, ev.RepCompleted)]
    assert [e.row["complete"] for e in reps] == [1, 1]  # told as they happened
    assert [e.complete_count for e in reps] == [1, 2]
    assert [e.row["peak_s"] for e in reps] == [pytest.approx(10.5, abs=0.7),
                                               pytest.approx(17.3, abs=0.7)]
    assert any(isinstance(e, ev.ExerciseStopped) for e in events) and summary["reps"] == 2
    # the recording's own count went into its files
    assert [r["complete"] for r in read_rows(tmp_path / "squat_reps.csv")] == ["1", "1"]
    rows = read_rows(csv_path)  # in exercise mode the recording carries the joint angles
    assert list(rows[0]) == csv_columns(landmarks=True, angles=True)
    assert max(float(r["knee_flex_r_deg"] or 0) for r in rows) > 95
    assert json.loads(csv_path.with_suffix(".json").read_text())["exercise"]["reps"] == 2


def test_exercise_mode_holds_posture_alert_events_back_and_releases_them_after():
    from posture_monitor.core.posture.alerts import AlertState, AlertUpdate
    from posture_monitor.core.run.analysis_worker import AnalysisWorker

    bus = ev.EventBus()
    worker = AnalysisWorker(None, LITE, bus, dict, time.monotonic)

    def frame(i, state):
        r = _result(i, 0.5)
        r.alert = AlertUpdate(state, "Trunk flexion for 12 s", state is AlertState.ALERT)
        return r

    worker.alerts_paused = True  # what start_exercise sets: a squat is not a slouch
    worker._alert_events(None, frame(0, AlertState.ALERT))
    assert bus.pending() == []
    worker.alerts_paused = False  # stop_exercise: the posture state is told again
    worker._alert_events(None, frame(1, AlertState.OK))
    assert [type(e) for e in bus.pending()] == [ev.AlertStateChanged]


@pytest.mark.slow
def test_a_seek_in_exercise_mode_starts_the_count_again():
    from posture_monitor.core.common.settings import ExerciseSettings
    from tests.conftest import FIXTURES

    clip = FIXTURES / "exercise_side_mit" / "squat_side_barbell.mp4"
    engine = LiveEngine(lambda: open_source(str(clip)), LITE)
    engine.start()
    assert engine.wait_ready(60)
    engine.start_exercise(ExerciseSettings(name="squat"))
    assert engine.analysis.alerts_paused
    first = engine.exercise
    engine.seek(300)  # 10 s: back in time is not allowed to mix into the count
    deadline = time.monotonic() + 20
    while engine.exercise is first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert engine.exercise is not first and engine.exercise.preset.name == "squat"
    engine.stop_exercise()
    assert not engine.analysis.alerts_paused
    assert engine.stop()
    kinds = [type(e) for e in engine.bus.pending()]
    assert kinds.count(ev.ExerciseStarted) == 2 and kinds.count(ev.ExerciseStopped) == 2
