"""Live analysis without Qt: the engine wires a capture worker, an analysis worker and
the result sinks, and publishes what happens on its event bus.

Capture (`core.capture.worker`) reads the source (a camera at its own rate, a video file
paced at its frame rate), offers every frame to the display timeline and the newest one
to analysis: stale ones are dropped and counted, so latency cannot grow. A lost camera
(read errors, or blank frames from a privacy shutter) is re-opened every `RETRY_S`
seconds; a recording stays open meanwhile. Analysis (`analysis_worker`) owns the
pipeline and feeds the sinks: the display timeline always, the CSV recorder (the same
`SessionRecorder` `analyze` uses) and the session store while recording. The views
subscribe to `engine.bus` (alerts, set-up changes, calibration, camera lost/recovered,
recording started/finished) and call `pick()` and `stats()` to draw. Threads stop on an
Event and are joined; nothing is killed.

Two cameras (front and side) are two engines, each with its own capture, analysis and
pipeline (so each stream has its own tracking, smoothing and view, and MediaPipe runs on
both cores); `CameraPair` takes each metric of the frame on show from the camera whose
view shows its plane (`two_cameras.merged`), pairing it with the other engine's analysed
frame nearest in capture time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from posture_monitor.core.capture.sources import FrameSource
from posture_monitor.core.capture.worker import (  # noqa: F401 - the engine's constants
    BLANK_FRAMES,
    BLANK_STD,
    RETRY_S,
    CaptureStatus,
    CaptureWorker,
)
from posture_monitor.core.common.settings import (
    AnalysisSettings,
)
from posture_monitor.core.measure.definitions import METRIC_COLUMNS
from posture_monitor.core.posture.baseline import camera_info
from posture_monitor.core.posture.pipeline import FrameResult
from posture_monitor.core.run import events as ev
from posture_monitor.core.run.analysis_worker import AnalysisWorker
from posture_monitor.core.run.exercise_sink import ExerciseSink, make_tracker, result_files
from posture_monitor.core.run.gait_sink import GaitSink, gait_files, gait_suffixes
from posture_monitor.core.run.movement_modes import MovementModes
from posture_monitor.core.run.sinks import (
    Analysed,
    RecorderSink,
    StoredSession,
    open_recorder,
)
from posture_monitor.core.run.timeline import DisplayItem, DisplayTimeline
from posture_monitor.core.run.two_cameras import merged

JOIN_TIMEOUT_S = 5.0
STATS_WINDOW_S = 2.0
RECENT_S = 2.0  # analysed frames kept for pairing with another camera's (CameraPair)
# Two cameras: the other camera's analysed frame is paired with the one on show when it
# was captured at most this far apart, else that camera's values are missing for now.
PAIR_TOLERANCE_S = 0.25


@dataclass
class LiveStats:
    capture_fps: float
    analysis_fps: float
    display_fps: float
    latency_p50_ms: float | None  # capture -> shown
    latency_p95_ms: float | None
    dropped: int  # frames analysis never saw (newest-wins mailbox)
    model: str


class _Rate:
    """Events per second over a sliding window."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()

    def tick(self, t: float) -> None:
        self._times.append(t)

    def rate(self, now: float) -> float:
        while self._times and now - self._times[0] > STATS_WINDOW_S:
            self._times.popleft()
        return len(self._times) / STATS_WINDOW_S


class DisplaySink:
    """Analysed frames into the display timeline."""

    def __init__(self, timeline: DisplayTimeline) -> None:
        self.timeline = timeline

    def write(self, item: Analysed) -> None:
        self.timeline.add_result(item.t_capture, item.result, item.t_done)

    def close(self, status: str) -> None:
        pass


class LiveEngine(MovementModes):
    def __init__(self, open_source: Callable[[], FrameSource],
                 settings: AnalysisSettings | None = None, pace: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.bus = ev.EventBus()
        self.timeline = DisplayTimeline()
        self._capture_rate, self._analysis_rate, self._display_rate = _Rate(), _Rate(), _Rate()
        # Opens the source now: errors here (no camera) go to the caller.
        # A file plays at its own rate unless `pace` says otherwise; analysis always takes
        # the newest frame, the display shows them all.
        self.capture = CaptureWorker(None, open_source, pace=pace, newest_wins=True,
                                     hold_at_end=True, on_status=self._capture_status,
                                     on_frame=self._captured, clock=clock)
        self.pace = self.capture.pace
        self.analysis = AnalysisWorker(self.capture, settings or AnalysisSettings(), self.bus,
                                       lambda: self.camera_info, clock,
                                       on_state=self._state_changed)
        self.analysis.add_sink(DisplaySink(self.timeline))
        self.analysis.on_analysed = self._analysed
        self._recent_lock = threading.Lock()
        self._recent: deque[tuple[float, FrameResult]] = deque()  # (t_capture, result)
        self.analysis.on_sink_error = self._sink_failed
        self._rec_lock = threading.Lock()
        self._recording: list | None = None  # [csv_path, sinks...] while recording
        self._latencies: deque[float] = deque(maxlen=300)
        self._last_shown_t: float | None = None
        # Desk mode: analyse at most `_rate_hz` frames a second (None: every frame it can),
        # `_fast_hz` while a deviation is building (the alert state is "warning").
        self._rate_hz: float | None = None
        self._fast_hz: float | None = None
        self._alert_state: str | None = None
        self._init_movement_modes()

    # --- what the engine runs ----------------------------------------------------
    @property
    def source(self) -> FrameSource | None:
        """The open source; None while a camera is released or lost."""
        return self.capture.source

    @property
    def camera_info(self) -> dict:
        """Description, width and height of the source, also while it is released or
        lost (what a baseline records and a profile is looked up by)."""
        return camera_info(self.capture.last_source)

    @property
    def settings(self) -> AnalysisSettings:
        return self.analysis.settings  # without the classifier if it could not load

    @property
    def model_name(self) -> str:
        pipeline = self.analysis.pipeline
        return pipeline.model.name if pipeline is not None else self.analysis.settings.model

    # --- control -----------------------------------------------------------------
    def start(self) -> None:
        self.capture.start()
        self.analysis.start()

    def stop(self) -> bool:
        """Stop and join both threads, close the source and any recording. True if clean."""
        clean = self.capture.stop()
        clean &= self.analysis.stop(JOIN_TIMEOUT_S)
        self.stop_recording()
        self.stop_exercise()
        self.stop_gait()
        return clean

    @property
    def running(self) -> bool:
        return self.capture.running or self.analysis.thread.is_alive()

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """True once the analysis thread has loaded its models."""
        return self.analysis.ready.wait(timeout)

    def pause(self, paused: bool = True, release_camera: bool = False) -> None:
        """Pause; `release_camera` closes a live source until resumed (the camera light
        goes off and other programs can use it)."""
        self.capture.pause(paused, release_camera)

    @property
    def paused(self) -> bool:
        return self.capture.paused

    def set_rate(self, hz: float | None, fast_hz: float | None = None) -> None:
        """Desk mode: analyse about `hz` frames a second (`fast_hz` while a deviation is
        building); None analyses every frame it can."""
        self._rate_hz, self._fast_hz = hz, fast_hz or hz
        self._apply_rate()

    def _state_changed(self, state: str) -> None:  # on the analysis thread
        self._alert_state = state
        self._apply_rate()

    def _apply_rate(self) -> None:
        hz = self._fast_hz if self._alert_state == "warning" else self._rate_hz
        self.capture.set_rate(hz if self._rate_hz is not None else None)

    def set_baseline(self, baseline, rules=None) -> None:
        """Hand a person's baseline (or None) to the analysis thread, which owns the
        pipeline; applied before the next frame, with a grace period. While a baseline
        is in force, a change of the camera set-up pauses its alerts (SetupChanged)."""
        self.analysis.set_baseline(baseline, rules)

    def calibrate(self, seconds: float, slouch: bool = False, baseline=None) -> None:
        """Take `seconds` of the person's posture from the next frame on; progress and
        the result come as CalibrationProgress and CalibrationFinished. The baseline is
        not applied: the caller decides (set_baseline) once it is saved. `slouch`: the
        second point of a two-point calibration, added to `baseline` (default: the
        baseline in force)."""
        self.analysis.calibrate(seconds, slouch, baseline)

    def cancel_calibration(self) -> None:
        self.analysis.cancel_calibration()

    def choose_person(self, rule: str | int) -> None:
        """Measure 'auto', 'largest' or a person's number (FrameResult.people) from the
        next frame on; a chosen person is kept while in view, then 'auto' again, told
        on the bus as PersonChoice (core/run/analysis_worker.py)."""
        self.analysis.choose_person(rule)

    @property
    def person_rule(self) -> str | int:
        """Whom the analysis measures now ('auto', 'largest' or a person's number)."""
        return self.analysis.person_rule

    def seek(self, index: int) -> None:
        """Jump a video file to frame `index` (applied by the capture thread)."""
        self.capture.seek(index)

    # --- recording ---------------------------------------------------------------
    def start_recording(self, out_dir: Path, stem: str | None = None,
                        record_video: bool = False,
                        session: StoredSession | None = None) -> Path:
        """Record every analysed frame into `out_dir/stem.{csv,json}` (and an .mp4 when
        `record_video`), and into the store's `session` when given (finished with the
        CSV's path by `stop_recording`)."""
        if stem is None:  # two recordings in one second: the second gets "-2"
            base = stem = datetime.now().strftime("session-%Y%m%d-%H%M%S")
            n = 2
            while any((out_dir / f"{stem}{s}").exists()
                      for s in (".csv", ".json", ".mp4", "_reps.csv",
                                *gait_suffixes(True, False))):
                stem, n = f"{base}-{n}", n + 1
        self.wait_ready()
        pipeline = self.analysis.pipeline
        if pipeline is None:
            raise RuntimeError("the pose model did not load: nothing to record")
        source = self.capture.last_source
        # Landmarks always: Review replays the skeleton. Joint angles in exercise mode.
        recorder = open_recorder(out_dir, stem, source.info(), self.settings.to_dict(),
                                 pipeline, landmarks=True,
                                 angles=self._exercise_settings is not None)
        writer = None
        if record_video:
            import cv2

            fps = source.fps or 30.0
            path = out_dir / f"{stem}.mp4"
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                     (source.width, source.height))
        sinks: list = [RecorderSink(recorder, writer)]
        if self._exercise_settings is not None:
            # The recording's own count (from its first frame), into its files and
            # session; the one on screen goes on. It closes first: it adds to the sidecar.
            files = result_files(out_dir, stem, exercise=True, mot=False)
            sinks.insert(0, ExerciseSink(make_tracker(self._exercise_settings), recorder,
                                         files, session=session))
        if self._gait_settings is not None:  # the recording's own walk, as above
            sinks.insert(0, GaitSink(self._gait_settings, recorder,
                                     gait_files(out_dir, stem, True, False), session=session))
        if session is not None:
            session.set_csv_path(recorder.csv_path)
            sinks.append(session)
        with self._rec_lock:
            self._recording = [recorder.csv_path, *sinks]
        for sink in sinks:
            self.analysis.add_sink(sink)
        self.bus.publish(ev.RecordingStarted(recorder.csv_path))
        return recorder.csv_path

    def stop_recording(self, status: str = "complete") -> Path | None:
        """Close the recording (the CSV, then the stored session); its CSV's path."""
        with self._rec_lock:
            recording, self._recording = self._recording, None
        if recording is None:
            return None
        csv_path, *sinks = recording
        for sink in sinks:
            self.analysis.remove_sink(sink)
        problem = None
        for sink in sinks:
            try:
                sink.close(status if problem is None else f"error: {problem}")
            except Exception as exc:  # a full disk: the other sinks still finish
                problem = problem or exc
        self.bus.publish(ev.RecordingFinished(
            csv_path, status if problem is None else f"error: {problem}"))
        if problem is not None:
            raise problem
        return csv_path

    def _sink_failed(self, sink, exc: Exception) -> None:  # on the analysis thread
        """A recording that cannot be written (a full disk) ends with an error status;
        analysis and the display go on."""
        with self._rec_lock:
            ours = self._recording is not None and sink in self._recording[1:]
        if ours:
            with contextlib.suppress(Exception):  # the first problem is the one to tell
                self.stop_recording(f"error: {exc}")
        self.bus.publish(ev.EngineError(f"Recording stopped: {exc}"))

    @property
    def recording(self) -> bool:
        return self._recording is not None

    # --- display -----------------------------------------------------------------
    def pick(self) -> DisplayItem | None:
        """The frame to draw now; None when there is nothing new to draw."""
        now = self._clock()
        item = self.timeline.pick(now, self._last_shown_t)
        if item is None or item.t_capture == self._last_shown_t:
            return None
        self._last_shown_t = item.t_capture
        self._display_rate.tick(now)
        self._latencies.append(now - item.t_capture)
        return item

    def stats(self) -> LiveStats:
        now = self._clock()
        lat = np.array(self._latencies) * 1000 if self._latencies else None
        return LiveStats(self._capture_rate.rate(now), self._analysis_rate.rate(now),
                         self._display_rate.rate(now),
                         float(np.percentile(lat, 50)) if lat is not None else None,
                         float(np.percentile(lat, 95)) if lat is not None else None,
                         self.capture.dropped, self.model_name)

    def result_near(self, t_capture: float, tolerance: float = PAIR_TOLERANCE_S
                    ) -> FrameResult | None:
        """The analysed frame captured nearest to monotonic time `t_capture`, if one was
        within `tolerance` (another camera's frame on show is paired with it)."""
        with self._recent_lock:
            best = min(self._recent, key=lambda tr: abs(tr[0] - t_capture), default=None)
        if best is None or abs(best[0] - t_capture) > tolerance:
            return None
        return best[1]

    # --- from the analysis thread --------------------------------------------------
    def _analysed(self, item: Analysed) -> None:
        self._analysis_rate.tick(item.t_done)
        with self._recent_lock:
            self._recent.append((item.t_capture, item.result))
            while self._recent and item.t_capture - self._recent[0][0] > RECENT_S:
                self._recent.popleft()

    # --- from the capture thread ---------------------------------------------------
    def _captured(self, captured) -> None:
        self._capture_rate.tick(captured.t_capture)
        self.timeline.add_frame(captured)

    def _capture_status(self, status: CaptureStatus) -> None:
        if status.kind == "seek":  # what was captured before is not what comes next
            self.timeline.clear()
            with self._recent_lock:
                self._recent.clear()
            self._last_shown_t = None
            settings = self._exercise_settings
            if settings is not None:  # repetitions need time to run forward: count anew
                self.start_exercise(settings)
            if self._gait_settings is not None:  # so do steps: the walk is analysed anew
                self.start_gait(self._gait_settings)
            return
        if status.kind == "ended" and self._gait is not None:
            self._end_gait(publish=True)  # the whole walk; a seek back analyses it anew
        event = {"lost": ev.CameraLost, "recovered": ev.CameraRecovered,
                 "ended": ev.SourceEnded, "error": ev.EngineError}[status.kind]
        self.bus.publish(event(status.message))


@dataclass
class PairedValues:
    """One moment seen by two cameras: each metric's value and the camera it came from
    ("front", "side", or "" when neither view measured it)."""

    front: FrameResult
    side: FrameResult | None  # the side camera's analysed frame nearest in time, if any
    values: dict[str, tuple[float | None, str]]


class CameraPair:
    """A front and a side camera, each its own engine (capture, analysis, pipeline)."""

    def __init__(self, front: LiveEngine, side: LiveEngine) -> None:
        self.front, self.side = front, side

    def values(self, front: FrameResult, t_capture: float) -> PairedValues:
        """The front camera's frame on show (captured at `t_capture`) with the side
        camera's frame nearest in capture time: each metric from the camera whose view
        shows its plane, else from the other where its view measured it."""
        side = self.side.result_near(t_capture)
        return PairedValues(front, side, {c: merged(c, front, side) for c in METRIC_COLUMNS})
