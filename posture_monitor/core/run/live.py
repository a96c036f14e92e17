"""Live analysis without Qt: a capture thread, an analysis thread, and the display timeline.

Capture reads the source (a camera at its own rate, a video file paced at its frame
rate) and offers every frame to the timeline and the newest one to analysis through a
one-slot mailbox: the newest frame wins, stale ones are dropped and counted, so latency
cannot grow. Analysis owns the pipeline (one MediaPipe landmarker per thread) and the
session recorder, which is the same `SessionRecorder` `analyze` uses. The GUI only polls
`pick()` and `stats()` on a timer and reads `events()`.

A lost camera (read errors, or blank frames from a privacy shutter) is reported once, the
source is re-opened every `RETRY_S` seconds, and recovery is announced; a recording stays
open meanwhile. Threads stop on an Event and are joined; nothing is killed.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np

from posture_monitor.core.capture.frames import LatestFrameMailbox
from posture_monitor.core.capture.sources import FrameSource
from posture_monitor.core.common.errors import SourceError
from posture_monitor.core.common.settings import AnalysisSettings
from posture_monitor.core.posture.pipeline import FrameResult, PosePipeline
from posture_monitor.core.records.recorder import SessionRecorder
from posture_monitor.core.run.timeline import Captured, DisplayItem, DisplayTimeline

RETRY_S = 2.0  # re-open a lost camera this often (postured's choice, which users praised)
BLANK_STD = 20.0  # a frame this flat is a closed privacy shutter or a dead feed
BLANK_FRAMES = 15  # ...for this many frames in a row (0.5 s at 30 fps)
JOIN_TIMEOUT_S = 5.0
STATS_WINDOW_S = 2.0


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


class LiveEngine:
    def __init__(self, open_source: Callable[[], FrameSource],
                 settings: AnalysisSettings | None = None, pace: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._open_source = open_source
        self.settings = settings or AnalysisSettings()
        self._clock = clock
        self.source = open_source()  # errors here (no camera) go to the caller
        self.pace = (not self.source.is_live) if pace is None else pace
        self.timeline = DisplayTimeline()
        self._mailbox = LatestFrameMailbox()
        self._stop = threading.Event()
        self._paused = threading.Event()
        self._source_lock = threading.Lock()
        self._rec_lock = threading.Lock()
        self._recorder: SessionRecorder | None = None
        self._on_result = None
        self._video_writer = None
        self._events: queue.Queue[tuple[str, str]] = queue.Queue()
        self._capture_rate, self._analysis_rate, self._display_rate = _Rate(), _Rate(), _Rate()
        self._latencies: deque[float] = deque(maxlen=300)
        self._last_shown_t: float | None = None
        self.model_name = self.settings.model
        self.classifier_info: dict | None = None
        self.pose_model_info: dict = {}
        self._ready = threading.Event()
        self._seek_to: int | None = None
        # Desk mode: analyse at most `_rate_hz` frames a second (None: every frame it can),
        # `_fast_hz` while a deviation is building; the frames between are grabbed, not
        # decoded, so a camera stays real-time at little cost.
        self._rate_hz: float | None = None
        self._fast_hz: float | None = None
        self._release_on_pause = False
        self._pending_baseline: tuple | None = None
        self.last_result: FrameResult | None = None
        self.alert_state = None
        self._threads = [threading.Thread(target=self._capture_loop, name="capture", daemon=True),
                         threading.Thread(target=self._analysis_loop, name="analysis",
                                          daemon=True)]

    # --- control -----------------------------------------------------------------
    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> bool:
        """Stop and join both threads, close the source and any recording. True if clean."""
        self._stop.set()
        self._paused.clear()  # the analysis thread polls the mailbox every 0.2 s
        clean = True
        for t in self._threads:
            if t.is_alive():
                t.join(JOIN_TIMEOUT_S)
                clean &= not t.is_alive()
        self.stop_recording()
        with self._source_lock:
            if self.source is not None:
                self.source.close()
        return clean

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def wait_ready(self, timeout: float = 30.0) -> bool:
        """True once the analysis thread has loaded its models."""
        return self._ready.wait(timeout)

    def pause(self, paused: bool = True, release_camera: bool = False) -> None:
        """Pause; `release_camera` closes a live source until resumed (the camera light
        goes off and other programs can use it)."""
        self._release_on_pause = release_camera
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    def set_rate(self, hz: float | None, fast_hz: float | None = None) -> None:
        """Desk mode: analyse about `hz` frames a second (`fast_hz` while a deviation is
        building); None analyses every frame it can."""
        self._rate_hz, self._fast_hz = hz, fast_hz or hz

    def set_baseline(self, baseline, rules=None) -> None:
        """Hand a person's baseline (or None) to the analysis thread, which owns the
        pipeline; applied before the next frame, with a grace period."""
        self._pending_baseline = (baseline, rules)

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    def seek(self, index: int) -> None:
        """Jump a video file to frame `index` (applied by the capture thread)."""
        self._seek_to = max(0, int(index))

    def events(self) -> list[tuple[str, str]]:
        """(kind, message) since the last call: camera_lost, camera_recovered, ended, error,
        warning."""
        out = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    # --- recording ---------------------------------------------------------------
    def start_recording(self, out_dir: Path, stem: str | None = None,
                        record_video: bool = False, on_result=None) -> Path:
        """Record every analysed frame into `out_dir/stem.{csv,json}` (and an .mp4 when
        `record_video`); `on_result` also receives each result (the session store)."""
        if stem is None:  # two recordings in one second: the second gets "-2"
            base = stem = datetime.now().strftime("session-%Y%m%d-%H%M%S")
            n = 2
            while any((out_dir / f"{stem}{s}").exists() for s in (".csv", ".json", ".mp4")):
                stem, n = f"{base}-{n}", n + 1
        images = self.source.kind in ("image", "folder")
        recorder = SessionRecorder(out_dir, stem, self.source.info(), self.settings.to_dict(),
                                   self.pose_model_info, images=images,
                                   # Landmarks always: Review replays the skeleton
                                   landmarks=True,
                                   classifier=self.classifier_info)
        writer = None
        if record_video:
            import cv2

            fps = self.source.fps or 30.0
            path = out_dir / f"{stem}.mp4"
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                     (self.source.width, self.source.height))
        with self._rec_lock:
            self._recorder, self._video_writer = recorder, writer
            self._on_result = on_result
        return recorder.csv_path

    def stop_recording(self) -> Path | None:
        with self._rec_lock:
            recorder, writer = self._recorder, self._video_writer
            self._recorder = self._video_writer = self._on_result = None
        if writer is not None:
            writer.release()
        if recorder is None:
            return None
        recorder.close("complete")
        return recorder.csv_path

    @property
    def recording(self) -> bool:
        return self._recorder is not None

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
                         self._mailbox.dropped, self.model_name)

    # --- threads -----------------------------------------------------------------
    def _current_rate(self) -> float | None:
        if self._rate_hz is None:
            return None
        building = self.alert_state is not None and self.alert_state.value == "warning"
        return self._fast_hz if building else self._rate_hz

    def _capture_loop(self) -> None:
        blank_run, lost = 0, False
        t_start, first_time = self._clock(), None
        next_due = 0.0
        while not self._stop.is_set():
            if self._paused.is_set():
                if self._release_on_pause and self.source is not None and self.source.is_live:
                    with self._source_lock:
                        self.source.close()
                        self.source = None
                time.sleep(0.02)
                t_start, first_time = None, None  # re-anchor the pacing on resume
                continue
            if self.source is None:  # released while paused: open it again
                try:
                    source = self._open_source()
                except SourceError as exc:
                    self._report_lost(str(exc))
                    self._reopen()
                    continue
                with self._source_lock:
                    self.source = source
            rate = self._current_rate()
            if rate is not None and self._clock() < next_due:
                with self._source_lock:
                    self.source.grab()  # keep the camera real-time, skip decoding
                continue
            if rate is not None:
                next_due = self._clock() + 1.0 / rate
            if self._seek_to is not None and hasattr(self.source, "seek"):
                with self._source_lock:
                    self.source.seek(self._seek_to)
                self._seek_to, t_start, first_time = None, None, None
                self.timeline.clear()
                self._last_shown_t = None
            try:
                with self._source_lock:
                    frame = self.source.read() if self.source is not None else None
            except SourceError as exc:
                if not self.source.is_live:
                    self._events.put(("error", str(exc)))
                    return
                self._report_lost(str(exc))
                self._reopen()
                continue
            if frame is None:
                self._events.put(("ended", "end of the video"))
                return
            now = self._clock()
            if self.pace:  # play a file at its own frame rate
                if t_start is None or first_time is None:
                    t_start, first_time = now, frame.time_s
                wait = t_start + (frame.time_s - first_time) - now
                if wait > 0:
                    self._stop.wait(wait)
                    now = self._clock()
            if frame.image is not None and frame.image.std() < BLANK_STD:
                blank_run += 1
                if blank_run == BLANK_FRAMES:
                    lost = True
                    self._events.put(("camera_lost", "the camera shows a blank picture "
                                      "(privacy shutter or lens covered?)"))
                continue
            blank_run = 0
            if lost:
                lost = False
                self._events.put(("camera_recovered", "the picture is back"))
            self._capture_rate.tick(now)
            captured = Captured(frame, now)
            self.timeline.add_frame(captured)
            self._mailbox.put(captured)

    def _report_lost(self, message: str) -> None:
        self._events.put(("camera_lost", f"{message}; retrying every {RETRY_S:.0f} s"))

    def _reopen(self) -> None:
        with self._source_lock:
            if self.source is not None:
                self.source.close()
            self.source = None
        while not self._stop.wait(RETRY_S):
            try:
                source = self._open_source()
            except SourceError:
                continue
            with self._source_lock:
                self.source = source
            self._events.put(("camera_recovered", "camera reconnected"))
            return

    def _analysis_loop(self) -> None:
        try:
            pipeline = self._open_pipeline()
        except Exception as exc:  # a model that cannot load: tell the window, do not die
            self._events.put(("error", str(exc)))
            self._ready.set()
            return
        self.model_name = pipeline.model.name
        self.pose_model_info = {"name": pipeline.model.name, "file": pipeline.model.path.name,
                                "sha256": pipeline.model.sha256}
        self.classifier_info = pipeline.classifier.info() if pipeline.classifier else None
        self._ready.set()
        with pipeline:
            while not self._stop.is_set():
                captured = self._mailbox.get(timeout=0.2)
                if not isinstance(captured, Captured):
                    continue
                if self._pending_baseline is not None:
                    (baseline, rules), self._pending_baseline = self._pending_baseline, None
                    pipeline.set_baseline(baseline, captured.frame.time_s, rules)
                result = pipeline.process(captured.frame)
                self.last_result = result
                if result.alert is not None:
                    self.alert_state = result.alert.state
                done = self._clock()
                self._analysis_rate.tick(done)
                self.timeline.add_result(captured.t_capture, result, done)
                self._record(result)

    def _open_pipeline(self) -> PosePipeline:
        """The pipeline; a posture classifier that cannot load (missing, or built for
        other features) costs only the posture labels: the measurements go on without it,
        and a warning says so."""
        sequence = self.source.is_sequence
        try:
            return PosePipeline(self.settings, sequence=sequence)
        except Exception as exc:
            if self.settings.classifier == "none":
                raise
            fallback = replace(self.settings, classifier="none")
            try:
                pipeline = PosePipeline(fallback, sequence=sequence)
            except Exception:
                raise exc from None  # not the classifier: report the first problem
            self.settings = fallback  # what recordings' sidecars then say was used
            self._events.put(("warning", f"Posture classifier not available ({exc}); "
                                         "measurements go on without posture labels."))
            return pipeline

    def _record(self, result: FrameResult) -> None:
        with self._rec_lock:
            if self._recorder is not None:
                self._recorder.write(result)
            if self._on_result is not None:
                self._on_result(result)
            if self._video_writer is not None and result.frame.image is not None:
                self._video_writer.write(result.frame.image)
