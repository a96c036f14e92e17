"""Run one source through the pipeline into a recorder: the body of `analyze`."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from posture_monitor.core.capture.sources import FrameSource
from posture_monitor.core.capture.worker import CaptureStatus, CaptureWorker
from posture_monitor.core.common.errors import CalibrationError, SourceError
from posture_monitor.core.common.settings import AnalysisSettings
from posture_monitor.core.measure.camera_tilt import CameraTilt, UprightCalibration, tilt_record
from posture_monitor.core.measure.definitions import METRIC_COLUMNS
from posture_monitor.core.posture.baseline import Baseline, WindowCalibration, camera_info
from posture_monitor.core.posture.pipeline import PosePipeline
from posture_monitor.core.run.exercise_sink import (
    AnglesMotSink,
    ExerciseSink,
    make_tracker,
    result_files,
)
from posture_monitor.core.run.gait_sink import GaitSink, gait_files
from posture_monitor.core.run.people_sink import PeopleSink, person_files, person_stem
from posture_monitor.core.run.sinks import (
    Analysed,
    RecorderSink,
    ResultSink,
    StoredSession,
    open_recorder,
)
from posture_monitor.core.run.trc_sink import TrcSink
from posture_monitor.core.vision.model_files import ModelFile

ProgressFn = Callable[[int, int | None], None]


@dataclass
class AnalysisReport:
    csv_path: Path
    json_path: Path
    frames: int = 0
    with_pose: int = 0
    views: Counter = field(default_factory=Counter)
    postures: Counter = field(default_factory=Counter)  # classifier labels, "" = abstained
    medians: dict[str, float | None] = field(default_factory=dict)
    measured: dict[str, int] = field(default_factory=dict)  # frames with a value, per metric
    # per-stage totals in milliseconds: decode (reader thread), pose, metrics, write
    stage_ms: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    alerts: int = 0  # alerts started
    baseline: dict | None = None  # what the sidecar records of --baseline-from
    exercise: dict | None = None  # the sidecar's exercise object (--exercise)
    gait: dict | None = None  # the sidecar's gait object (--gait)
    people: dict | None = None  # the sidecar's people object (who was seen, measured)
    trc: dict | None = None  # the sidecar's trc object (--opensim: the marker file)


def baseline_record(baseline: Baseline, window: tuple[float, float], mode: str,
                    in_force_from_s: float, rules) -> dict:
    """The sidecar's `baseline`: the seconds used, how it was applied, the view, each
    metric's median/spread/n, and the alert rules that compared with it."""
    return {"from_s": list(window), "mode": mode, "in_force_from_s": in_force_from_s,
            **baseline.to_dict(), "alert_rules": [asdict(r) for r in rules]}


def first_pass_baseline(source: FrameSource, settings: AnalysisSettings, model: ModelFile,
                        window: tuple[float, float],
                        stop: threading.Event | None = None) -> Baseline:
    """`--baseline-from` on a seekable file: a pass over START..END only (own pipeline, no
    classifier), then the source is rewound to its first frame."""
    calibration = WindowCalibration(*window)  # takes only frames from START on
    _first_pass(source, settings, model, window, stop, calibration.add, "--baseline-from")
    return calibration.baseline(camera_info(source))


def first_pass_tilt(source: FrameSource, settings: AnalysisSettings, model: ModelFile,
                    window: tuple[float, float], stop: threading.Event | None = None
                    ) -> CameraTilt:
    """`--camera-tilt-from START:END`: the camera's pitch and roll from those seconds,
    while the person stands or sits upright (core/measure/camera_tilt.py), then the
    source is rewound; one-line CalibrationError when they cannot give one."""
    calibration = UprightCalibration(settings.quality)
    start = window[0]

    def add(result) -> None:
        if result.frame.time_s >= start:
            calibration.add(result.pose)

    flag = "--camera-tilt-from"
    _first_pass(source, settings, model, window, stop, add, flag)
    tilt, why = calibration.estimate()
    if tilt is None:
        raise CalibrationError(f"{flag} {window[0]:g}:{window[1]:g}: no camera tilt from "
                               f"those seconds ({why}): choose seconds where the person "
                               "stands or sits upright and still, in view")
    return tilt


def _first_pass(source: FrameSource, settings: AnalysisSettings, model: ModelFile,
                window: tuple[float, float], stop: threading.Event | None,
                consume: Callable, flag: str) -> None:
    """Every frame of START..END of a seekable file through its own pipeline (no
    classifier) into `consume`; the source is rewound to its first frame after."""
    if not hasattr(source, "seek") or source.is_live:
        raise CalibrationError(f"{flag} needs a video file here (a camera cannot go back)")
    start, end = window
    fps = source.fps or 30.0
    if source.frame_count:
        length = source.frame_count / fps
        if end > length + 1e-6:
            raise CalibrationError(
                f"{flag} {start:g}:{end:g} goes beyond the end of "
                f"{source.description} ({length:.1f} s long): choose seconds within it")
    index = math.ceil(start * fps - 1e-6)
    if index > 0:
        # Frame START x fps is at START only at a constant rate: where the container's
        # clock puts it later (a variable rate), go through the file from its start.
        source.seek(index)  # type: ignore[attr-defined]
        probe = source.read()
        if probe is None or probe.time_s > start + 1.5 / fps:
            index = 0
    source.seek(index)  # type: ignore[attr-defined]
    last_t = None
    # closing(): the capture thread has ended before the source is rewound
    with PosePipeline(replace(settings, classifier="none"), sequence=True,
                      model=model) as pipeline, \
            closing(CaptureWorker(source).frames()) as frames:
        for frame in frames:
            if (stop is not None and stop.is_set()) or frame.time_s >= end:
                break
            last_t = frame.time_s
            consume(pipeline.process(frame))
        else:
            if last_t is None or last_t + 1.5 / fps < end:
                ends = f"{last_t + 1 / fps:.1f} s" if last_t is not None else "before it"
                raise CalibrationError(
                    f"{flag} {start:g}:{end:g} goes beyond the end of "
                    f"{source.description} (it ends at {ends}): choose seconds within it")
    source.seek(0)  # type: ignore[attr-defined]


class StatsSink:
    """The run's tallies for the summary line: frames, views, postures, alerts, medians."""

    def __init__(self, report: AnalysisReport) -> None:
        self.report = report
        self.values: dict[str, list[float]] = {c: [] for c in METRIC_COLUMNS}
        self.stage = {"pose": 0.0, "metrics": 0.0}

    def write(self, item: Analysed) -> None:
        result, report = item.result, self.report
        self.stage["pose"] += result.pose_ms
        self.stage["metrics"] += result.metrics_ms
        m = result.measurement
        report.frames += 1
        report.with_pose += result.pose is not None
        report.views[m.view] += 1
        report.postures[result.classification.label or ""] += 1
        report.alerts += bool(result.alert is not None and result.alert.new_alert)
        for col, v in m.values.items():
            if v is not None:
                self.values[col].append(v)

    def close(self, status: str) -> None:
        self.report.medians = {c: (float(np.median(v)) if v else None)
                               for c, v in self.values.items()}
        self.report.measured = {c: len(v) for c, v in self.values.items()}


def _close_all(sinks: list[ResultSink], status: str, quiet: bool) -> None:
    """Close every sink in order; the first error is raised after all were tried (or
    dropped when `quiet`: an exception is already on its way out). A recorder that could
    not finish its files turns a "complete" run into an error for the sinks after it."""
    first: BaseException | None = None
    for sink in sinks:
        try:
            sink.close(status)
        except Exception as exc:
            first = first or exc
            if status == "complete":
                status = f"error: {exc}"
    if first is not None and not quiet:
        raise first


def analyze_source(source: FrameSource, out_dir: Path, stem: str, settings: AnalysisSettings,
                   model: ModelFile, progress: ProgressFn | None = None,
                   stop: threading.Event | None = None,
                   max_frames: int | None = None,
                   sinks: Sequence[ResultSink] = (),
                   baseline_from: tuple[float, float] | None = None,
                   overwrite: bool = False,
                   reopen: Callable[[], FrameSource] | None = None,
                   on_status: Callable[[CaptureStatus], None] | None = None,
                   camera_tilt_from: tuple[float, float] | None = None) -> AnalysisReport:
    """Analyse every frame of `source` into `out_dir/stem.{csv,json}`; an existing result
    there is replaced only with `overwrite` (else OutputError, before any frame).

    Frames come from the capture worker (every frame of a file, the newest of a camera);
    a camera that is lost is re-opened with `reopen` every few seconds and the run goes
    on, `on_status` hearing of the loss and the recovery. Each analysed frame goes to the
    recorder, then to `sinks` (e.g. the session store), then to the statistics; all are
    closed with the run's status.

    Errors from the source (a truncated video) propagate after the recorder has closed
    the files with an error status: rows already written are kept. A failed write (a
    full disk) is an OutputError, with the rows that reached the disk kept.

    `baseline_from` (START, END in seconds): the person's neutral baseline from those
    seconds, taken with the window's calibration code, and alerts on deviations from it.
    A file: a first pass over START..END, then the whole file with the baseline in force
    from the first frame (grace from the first frame). A camera: taken live over
    START..END and in force from END on (grace from END).
    """
    stop = stop or threading.Event()
    tracker = make_tracker(settings.exercise) if settings.exercise.name else None
    baseline, live_calibration = None, None
    if baseline_from is not None:
        if not source.is_sequence:
            raise CalibrationError("--baseline-from needs a video or a camera: photos have "
                                   "no stream time to take seconds from")
        if source.is_live or not hasattr(source, "seek"):
            live_calibration = WindowCalibration(*baseline_from)
        else:
            baseline = first_pass_baseline(source, settings, model, baseline_from, stop)
    if settings.trc and not source.is_sequence:
        raise SourceError("--opensim needs a video or a camera: a marker file is a time "
                          "series, photos have none")
    tilt = None
    if camera_tilt_from is not None:
        tilt = first_pass_tilt(source, settings, model, camera_tilt_from, stop)
    t_start = time.perf_counter()
    write_ms = 0.0
    with PosePipeline(settings, sequence=source.is_sequence, model=model) as pipeline:
        pipeline.camera_tilt = tilt
        recorder = open_recorder(out_dir, stem, source.info(), settings.to_dict(), pipeline,
                                 settings.landmarks, overwrite, angles=settings.angles)
        record = tilt_record(tilt)
        if camera_tilt_from is not None:
            record["from_s"] = list(camera_tilt_from)
        recorder.add_meta({"camera_tilt": record})
        report = AnalysisReport(recorder.csv_path, recorder.json_path)
        stats = StatsSink(report)
        # Movement sinks close before the recorder: they add to its sidecar.
        files = result_files(out_dir, stem, tracker is not None, settings.mot, settings.trc)
        movement: list[ResultSink] = []
        exercise = None
        if tracker is not None:
            session = next((s for s in sinks if isinstance(s, StoredSession)), None)
            exercise = ExerciseSink(tracker, recorder, files, session=session)
            movement.append(exercise)
        if settings.mot:
            movement.append(AnglesMotSink(files["angles_mot"], recorder))
        trc = None
        if settings.trc:
            info = source.info()
            trc = TrcSink(files["trc"], info["fps"],
                          (info["width"], info["height"]) if info["width"] else None,
                          settings.quality, settings.height_cm, recorder)
            movement.append(trc)
        gait = None
        if settings.gait.enabled:
            session = next((s for s in sinks if isinstance(s, StoredSession)), None)
            gait = GaitSink(settings.gait, recorder,
                            gait_files(out_dir, stem, True, settings.mot), session=session)
            movement.append(gait)
        people = None
        if source.is_sequence:
            open_person = None
            if settings.all_people:
                for stale in person_files(out_dir, stem):  # only with --overwrite, see cli
                    stale.unlink()

                def open_person(pid: int):
                    return open_recorder(out_dir, person_stem(stem, pid), source.info(),
                                         settings.to_dict(), pipeline, settings.landmarks,
                                         overwrite, angles=settings.angles)
            people = PeopleSink(recorder, settings.people_sought, settings.person,
                                open_person)
            movement.append(people)
        writers: list[ResultSink] = [*movement, RecorderSink(recorder), *sinks]
        capture = CaptureWorker(source, reopen, on_status=on_status)
        try:
            for frame in capture.frames():
                if stop.is_set():
                    break
                if baseline is not None and report.frames == 0:
                    # in force from the first frame; the grace period starts there too
                    pipeline.set_baseline(baseline, frame.time_s)
                    report.baseline = baseline_record(
                        baseline, baseline_from, "first pass over the file", frame.time_s,
                        pipeline.alerts.rules)
                    recorder.add_meta({"baseline": report.baseline})
                elif live_calibration is not None and live_calibration.passed(frame.time_s):
                    live = live_calibration.baseline(camera_info(source))
                    live_calibration = None
                    pipeline.set_baseline(live, frame.time_s)  # from END on, grace from END
                    report.baseline = baseline_record(live, baseline_from, "live",
                                                      frame.time_s, pipeline.alerts.rules)
                    recorder.add_meta({"baseline": report.baseline})
                result = pipeline.process(frame)
                if live_calibration is not None:
                    live_calibration.add(result)
                t0 = time.perf_counter()
                item = Analysed(result, t0, t0)
                for sink in writers:
                    sink.write(item)
                write_ms += (time.perf_counter() - t0) * 1e3
                stats.write(item)
                if progress:
                    progress(report.frames, source.frame_count)
                if max_frames and report.frames >= max_frames:
                    break
            if live_calibration is not None:
                raise CalibrationError(
                    f"--baseline-from {baseline_from[0]:g}:{baseline_from[1]:g}: the input "
                    "ended before those seconds were over: choose earlier seconds")
        except BaseException as exc:
            capture.stop()
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"error: {exc}"
            _close_all([*writers, stats], status, quiet=True)
            raise
        capture.stop()
        _close_all([*writers, stats], "complete", quiet=False)
    if exercise is not None:
        report.exercise = exercise.summary
    if gait is not None:
        report.gait = gait.summary
    if people is not None:
        report.people = people.summary
    if trc is not None:
        report.trc = trc.summary
    report.wall_s = time.perf_counter() - t_start
    report.stage_ms = {"decode": capture.decode_ms, **stats.stage, "write": write_ms}
    if capture.newest_wins:
        report.stage_ms["dropped_frames"] = capture.dropped
    return report
