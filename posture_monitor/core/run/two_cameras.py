"""Two synchronized cameras in one table: `analyze --front A --side B`.

Each camera has its own pose pipeline (its own tracking, smoothing and view). The rows
follow the front camera's frames; each takes the side camera's frame nearest in time
(both clocks start at their first frame: synchronized recordings), none when the nearest
is further than half a frame period of the slower camera. Every value comes from the
camera whose view shows its plane (sagittal measures from the side camera, frontal ones
from the front camera, 3D ones by the plane they describe); where that camera has no
reading but the other camera's view did measure it (the person turned), the other's is
taken. `<column>_source` says which camera each value came from.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from posture_monitor.core.capture.sources import FrameSource
from posture_monitor.core.common.errors import SourceError
from posture_monitor.core.common.settings import AnalysisSettings
from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, METRIC_BY_COLUMN, METRIC_COLUMNS
from posture_monitor.core.measure.joints import ANGLE_COLUMNS, COLUMN_INFO
from posture_monitor.core.posture.pipeline import FrameResult, PosePipeline
from posture_monitor.core.records.recorder import SessionRecorder, _fmt
from posture_monitor.core.records.store_io import safe_cell
from posture_monitor.core.run.sinks import pose_model_info
from posture_monitor.core.vision.model_files import ModelFile

CAMERAS = ("front", "side")
_BASE = ["frame", "time_s", "front_frame", "side_frame", "side_time_s", "front_pose",
         "side_pose", "front_view", "side_view"]


def primary_camera(column: str) -> str:
    """The camera whose view shows the plane of `column`."""
    if column in METRIC_BY_COLUMN:
        views = METRIC_BY_COLUMN[column].views
        return "front" if set(views) <= set(FRONTAL_VIEWS) else "side"
    joint, _, _ = COLUMN_INFO[column]
    return "front" if joint.plane == "frontal" else "side"


def pair_columns(angles: bool) -> list[str]:
    values = list(METRIC_COLUMNS) + (list(ANGLE_COLUMNS) if angles else [])
    return _BASE + [c for v in values for c in (v, f"{v}_source")]


def _value(result: FrameResult | None, column: str) -> float | None:
    if result is None:
        return None
    if column in METRIC_BY_COLUMN:
        return result.measurement.values.get(column)
    return result.angles.values.get(column)


def merged(column: str, front: FrameResult | None, side: FrameResult | None
           ) -> tuple[float | None, str]:
    """(value, source camera) of one column for one row."""
    first = primary_camera(column)
    order = (first, "side" if first == "front" else "front")
    by_camera = {"front": front, "side": side}
    for camera in order:
        v = _value(by_camera[camera], column)
        if v is not None:
            return v, camera
    return None, ""


def _digits(column: str) -> int:
    if column in METRIC_BY_COLUMN:
        return 3 if METRIC_BY_COLUMN[column].unit == "ratio" else 2
    return 3 if COLUMN_INFO[column][0].unit == "ratio" else 2


@dataclass
class PairReport:
    csv_path: Path
    json_path: Path
    frames: int = 0
    with_pose: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAMERAS, 0))
    unmatched: int = 0  # front frames with no side frame close enough
    sources: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> camera -> n
    fps: dict[str, float] = field(default_factory=dict)  # each stream's analysed frames / s
    wall_s: float = 0.0


class _Stream:
    """One camera's frames analysed by its own pipeline, on its own thread (MediaPipe
    releases the GIL while it runs, so two streams use two cores)."""

    def __init__(self, name: str, source: FrameSource, settings: AnalysisSettings,
                 model: ModelFile) -> None:
        self.name, self.source = name, source
        self.settings, self.model = settings, model
        self.pipeline: PosePipeline | None = None  # made on its own thread (MediaPipe's rule)
        self.started = threading.Event()
        self.out: deque[FrameResult | BaseException | None] = deque()
        self.ready = threading.Condition()
        self.thread = threading.Thread(target=self._run, name=f"analysis-{name}", daemon=True)
        self.stop = threading.Event()
        self.count = 0

    def _run(self) -> None:
        try:
            self.pipeline = PosePipeline(self.settings, sequence=True, model=self.model)
            with self.ready:
                self.started.set()
                self.ready.notify_all()
            for frame in self.source:
                if self.stop.is_set():
                    break
                result = self.pipeline.process(frame)
                with self.ready:
                    # a bounded lead: the other camera may be slower
                    self.ready.wait_for(lambda: len(self.out) < 64 or self.stop.is_set())
                    self.out.append(result)
                    self.count += 1
                    self.ready.notify_all()
        except BaseException as exc:  # handed to the merging thread, which raises it
            with self.ready:
                self.out.append(exc)
                self.ready.notify_all()
        with self.ready:
            self.out.append(None)  # the end
            self.ready.notify_all()

    def peek_started(self) -> PosePipeline | None:
        """The pipeline once made; None when making it failed (the error is queued)."""
        with self.ready:
            self.ready.wait_for(lambda: self.started.is_set() or bool(self.out))
        return self.pipeline if self.started.is_set() else None

    def peek(self) -> FrameResult | None:
        with self.ready:
            self.ready.wait_for(lambda: bool(self.out))
            item = self.out[0]
        if isinstance(item, BaseException):
            raise item
        return item

    def pop(self) -> None:
        with self.ready:
            self.out.popleft()
            self.ready.notify_all()

    def close(self) -> None:
        self.stop.set()
        with self.ready:
            self.ready.notify_all()
        self.thread.join(timeout=10)
        if self.pipeline is not None:
            self.pipeline.close()


def analyze_pair(front: FrameSource, side: FrameSource, out_dir: Path, stem: str,
                 settings: AnalysisSettings, model: ModelFile, overwrite: bool = False,
                 stop: threading.Event | None = None,
                 progress: Callable[[int, int | None], None] | None = None,
                 max_frames: int | None = None) -> PairReport:
    stop = stop or threading.Event()
    columns = pair_columns(settings.angles)
    values = [c for c in columns[len(_BASE):] if not c.endswith("_source")]
    streams = {"front": _Stream("front", front, settings, model),
               "side": _Stream("side", side, settings, model)}
    for s in streams.values():
        s.thread.start()
    try:
        for s in streams.values():
            if s.peek_started() is None:  # a pipeline that could not start: its error
                s.peek()
        first = streams["front"].pipeline
        info = {"kind": "two_cameras", "front": front.info(), "side": side.info()}
        recorder = SessionRecorder(
            out_dir, stem, info, settings.to_dict(), pose_model_info(model),
            classifier=first.classifier.info() if first.classifier else None,
            overwrite=overwrite, angles=settings.angles, columns=columns)
    except BaseException:
        for s in streams.values():
            s.close()
        raise
    report = PairReport(recorder.csv_path, recorder.json_path,
                        sources={c: dict.fromkeys(CAMERAS, 0) for c in values})
    fps = [s for s in (getattr(front, "fps", None), getattr(side, "fps", None)) if s]
    tolerance = 0.5 / min(fps) + 1e-3 if fps else 0.05
    t0 = time.perf_counter()
    status = "complete"
    try:
        while not stop.is_set():
            f = streams["front"].peek()
            if f is None:
                break
            streams["front"].pop()
            # the side frames up to this moment: keep the nearest, drop the older ones
            match = None
            while True:
                s = streams["side"].peek()
                if s is None or s.frame.time_s > f.frame.time_s + tolerance:
                    break
                if abs(s.frame.time_s - f.frame.time_s) <= tolerance and (
                        match is None or abs(s.frame.time_s - f.frame.time_s)
                        < abs(match.frame.time_s - f.frame.time_s)):
                    match = s
                streams["side"].pop()
            recorder.write_cells(_row(report, f, match, values),
                                 f.pose is not None or (match is not None
                                                        and match.pose is not None))
            if progress:
                progress(report.frames, front.frame_count)
            if max_frames and report.frames >= max_frames:
                break
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    except SourceError as exc:
        status = f"error: {exc}"
        raise
    finally:
        for s in streams.values():
            s.close()
        report.wall_s = time.perf_counter() - t0
        report.fps = {n: s.count / report.wall_s for n, s in streams.items()
                      if report.wall_s > 0}
        recorder.add_meta({"two_cameras": {
            "alignment": "each front frame with the side frame nearest in time, within "
                         f"{tolerance:.3f} s (both clocks start at the first frame)",
            "unmatched_front_frames": report.unmatched,
            "with_pose": report.with_pose,
            "values_from": report.sources,
            "rule": "each value from the camera whose view shows its plane (sagittal: "
                    "side, frontal: front), else from the other where its view measured "
                    "it; <column>_source names it",
            "analysed_fps": {k: round(v, 1) for k, v in report.fps.items()},
        }})
        recorder.close(status)
    return report


def _row(report: PairReport, f: FrameResult, s: FrameResult | None,
         values: list[str]) -> list[str]:
    report.frames += 1
    report.with_pose["front"] += f.pose is not None
    if s is None:
        report.unmatched += 1
    else:
        report.with_pose["side"] += s.pose is not None
    row = [str(report.frames - 1), f"{f.frame.time_s:.3f}", str(f.frame.index),
           "" if s is None else str(s.frame.index),
           "" if s is None else f"{s.frame.time_s:.3f}",
           "1" if f.pose is not None else "0",
           "" if s is None else ("1" if s.pose is not None else "0"),
           safe_cell(f.measurement.view), "" if s is None else safe_cell(s.measurement.view)]
    for c in values:
        v, camera = merged(c, f, s)
        if camera:
            report.sources[c][camera] += 1
        row += [_fmt(v, _digits(c)), camera]
    return row

