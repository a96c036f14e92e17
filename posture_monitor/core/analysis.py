"""Run one source through the pipeline into a recorder: the body of `analyze`."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posture_monitor.core.definitions import METRIC_COLUMNS
from posture_monitor.core.frames import iter_frames
from posture_monitor.core.model_files import ModelFile
from posture_monitor.core.pipeline import FrameResult, PosePipeline
from posture_monitor.core.recorder import SessionRecorder
from posture_monitor.core.settings import AnalysisSettings
from posture_monitor.core.sources import FrameSource

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


def analyze_source(source: FrameSource, out_dir: Path, stem: str, settings: AnalysisSettings,
                   model: ModelFile, progress: ProgressFn | None = None,
                   stop: threading.Event | None = None,
                   max_frames: int | None = None,
                   on_result: Callable[[FrameResult], None] | None = None) -> AnalysisReport:
    """Analyse every frame of `source` into `out_dir/stem.{csv,json}`.

    Errors from the source (a truncated video) propagate after the recorder has closed
    the files with an error status: rows already written are kept.
    """
    stop = stop or threading.Event()
    values: dict[str, list[float]] = {c: [] for c in METRIC_COLUMNS}
    timings: dict[str, float] = {"decode_ms": 0.0}
    stage = {"pose": 0.0, "metrics": 0.0, "write": 0.0}
    images = source.kind in ("image", "folder")
    t_start = time.perf_counter()
    with PosePipeline(settings, sequence=source.is_sequence, model=model) as pipeline:
        recorder = SessionRecorder(
            out_dir, stem, source.info(), settings.to_dict(),
            {"name": model.name, "file": model.path.name, "sha256": model.sha256},
            images=images, landmarks=settings.landmarks,
            classifier=pipeline.classifier.info() if pipeline.classifier else None,
        )
        report = AnalysisReport(recorder.csv_path, recorder.json_path)
        with recorder:
            for frame in iter_frames(source, stop, timings):
                result = pipeline.process(frame)
                t0 = time.perf_counter()
                recorder.write(result)
                if on_result is not None:
                    on_result(result)  # e.g. the session store's sample writer
                stage["write"] += (time.perf_counter() - t0) * 1e3
                stage["pose"] += result.pose_ms
                stage["metrics"] += result.metrics_ms
                m = result.measurement
                report.frames += 1
                report.with_pose += result.pose is not None
                report.views[m.view] += 1
                report.postures[result.classification.label or ""] += 1
                for col, v in m.values.items():
                    if v is not None:
                        values[col].append(v)
                if progress:
                    progress(report.frames, source.frame_count)
                if max_frames and report.frames >= max_frames:
                    break
    report.wall_s = time.perf_counter() - t_start
    report.stage_ms = {"decode": timings["decode_ms"], **stage}
    if "dropped" in timings:
        report.stage_ms["dropped_frames"] = timings["dropped"]
    report.medians = {c: (float(np.median(v)) if v else None) for c, v in values.items()}
    report.measured = {c: len(v) for c, v in values.items()}
    return report
