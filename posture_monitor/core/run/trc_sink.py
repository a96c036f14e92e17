"""The measured person's landmarks as an OpenSim marker file, `<stem>.trc`, as a result
sink (`analyze --opensim`). Every analysed frame is one row (a frame without the person
too: all NaN), so the file lines up with the CSV row for row. The scale needs every
frame (core/movement/markers.py), so the file is written at close, whatever the run's
status (an interrupted run keeps the frames it saw), and its path, scale and basis go
into the sidecar's `trc` object.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posture_monitor.core.common.settings import QualitySettings
from posture_monitor.core.movement.markers import (
    MARKER_NAMES,
    choose_scale,
    height_sample,
    markers_m,
    to_pixels,
    visible,
    world_fit,
)
from posture_monitor.core.records.recorder import SessionRecorder
from posture_monitor.core.records.trc_files import write_trc
from posture_monitor.core.run.sinks import Analysed


class TrcSink:
    def __init__(self, path: Path, rate: float | None, size: tuple[int, int] | None,
                 quality: QualitySettings, height_cm: float | None = None,
                 recorder: SessionRecorder | None = None) -> None:
        self.path, self.recorder = path, recorder
        self.rate, self.size, self.height_cm = rate, size, height_cm
        self.min_visibility, self.min_presence = quality.min_visibility, quality.min_presence
        self.frames: list[int] = []
        self.times: list[float] = []
        # per frame: None (no person) or (pixels, counted, picture height)
        self.points: list[tuple[np.ndarray, np.ndarray, int] | None] = []
        self.heights: list[tuple[float, float]] = []
        self.fits: list[float] = []
        self.summary: dict | None = None
        self._closed = False

    def write(self, item: Analysed) -> None:
        r = item.result
        self.frames.append(r.frame.index)
        self.times.append(r.frame.time_s)
        pose = r.pose
        image = r.frame.image
        size = (image.shape[1], image.shape[0]) if image is not None else self.size
        if pose is None or size is None:
            self.points.append(None)
            return
        px = to_pixels(pose, *size)
        counted = visible(pose, self.min_visibility, self.min_presence)
        self.points.append((px, counted, size[1]))
        sample = height_sample(px, counted)
        if sample is not None:
            self.heights.append(sample)
        fit = world_fit(px, pose.world, counted)
        if fit is not None:
            self.fits.append(fit)

    def close(self, status: str) -> None:
        if self._closed:
            return
        self._closed = True
        scale = choose_scale(self.heights, self.fits, self.height_cm)
        coords = np.full((len(self.frames), len(MARKER_NAMES), 3), np.nan)
        for row, p in enumerate(self.points):
            if p is not None and scale.m_per_px is not None:
                coords[row] = markers_m(p[0], p[1], p[2], scale.m_per_px)
        write_trc(self.path, self._rate(), self.frames, self.times, MARKER_NAMES, coords)
        self.summary = {
            "file": str(self.path),
            "rows": len(self.frames),
            "rows_with_markers": int(np.isfinite(coords[:, :, 0]).any(axis=1).sum()),
            "data_rate_hz": self._rate(),
            "units": "m",
            "axes": "X right, Y up, Z 0 (the picture's plane: a monocular 2D estimate)",
            "origin": "the picture's bottom-left corner",
            "markers": "MediaPipe Pose's 33 landmarks under its own names (as Pose2Sim's "
                       "OpenSim marker set for BlazePose)",
            "missing": f"nan: no person, or the landmark under {self.min_visibility:g} "
                       f"visibility or {self.min_presence:g} presence",
            "scale_m_per_px": scale.m_per_px,
            "scale_basis": scale.basis,
            **scale.detail,
        }
        if self.recorder is not None:
            self.recorder.add_meta({"trc": self.summary})

    def _rate(self) -> float:
        """The source's frame rate; a camera that gives none: from the rows' times."""
        if self.rate:
            return float(self.rate)
        if len(self.times) > 1 and self.times[-1] > self.times[0]:
            return round((len(self.times) - 1) / (self.times[-1] - self.times[0]), 3)
        return 0.0
