"""Per-frame CSV and its JSON sidecar: the one format `analyze` and the app both write.

Rows are flushed at least once a second, and the sidecar is rewritten atomically at the
start and at the end with the run's status, so an interrupted or failed run still leaves
a valid CSV of everything processed and a sidecar that says how it ended.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

from posture_monitor import __version__
from posture_monitor.core.definitions import METRIC_BY_COLUMN, METRIC_COLUMNS, metric_table
from posture_monitor.core.labels import LABEL_NAMES, label_table
from posture_monitor.core.landmarks import NAMES
from posture_monitor.core.metrics import KEY_LANDMARKS
from posture_monitor.core.pipeline import FrameResult
from posture_monitor.core.scoring import SCORE_COLUMNS

CLASSIFIER_COLUMNS = ("posture_label", "posture_confidence",
                      *(f"p_{n}" for n in LABEL_NAMES), *SCORE_COLUMNS)
ALERT_COLUMNS = ("alert_state", "alert_event", "alert_reason")

FLUSH_INTERVAL_S = 1.0
LANDMARK_FIELDS = ("x", "y", "z", "vis", "pres", "wx", "wy", "wz")

BASE_UNITS: dict[str, str] = {
    "frame": "index (0-based)",
    "file": "image file name",
    "time_s": "s since the start of the source",
    "pose_detected": "1 = a person was found, 0 = not",
    "view": "front | back | left | right | oblique | unknown (left = subject's left side "
    "faces the camera)",
    "view_yaw_deg": "deg, yaw of the shoulder line (0 = facing the camera)",
    "quality": "0-1, mean MediaPipe visibility of nose, ears, shoulders, hips",
    "flags": "';'-separated reasons for empty metrics: 'metric:reason' or a frame-level reason",
    "posture_label": "classifier: 'upright', deviations joined by '+' (most probable first), "
    "empty when it abstains",
    "posture_confidence": "0-1: mean probability of the reported deviations, or 1 - the "
    "highest probability for 'upright'",
    "score_head_neck": "0-100 imbalance score (forward head, head tilt), smoothed over time",
    "score_shoulders": "0-100 imbalance score (shoulder asymmetry), smoothed over time",
    "score_trunk": "0-100 imbalance score (trunk flexion, extension, lateral lean), smoothed",
    "score_overall": "0-100, the worst region score",
    "alert_state": "ok | warning | alert | away (empty for photos): core/alerts.py",
    "alert_event": "1 on the frame an alert starts",
    "alert_reason": "why the state is warning or alert, e.g. 'Trunk flexion for 12 s: ...'",
}


def csv_columns(images: bool = False, landmarks: bool = False) -> list[str]:
    cols = ["frame"] + (["file"] if images else []) + ["time_s", "pose_detected", "view",
                                                        "view_yaw_deg"]
    cols += list(METRIC_COLUMNS)
    cols += ["quality"] + [f"vis_{n}" for n in KEY_LANDMARKS] + ["flags"]
    cols += list(CLASSIFIER_COLUMNS) + list(ALERT_COLUMNS)
    if landmarks:
        cols += [f"{n}_{f}" for n in NAMES for f in LANDMARK_FIELDS]
    return cols


def column_units(columns: list[str]) -> dict[str, str]:
    units = {}
    for c in columns:
        if c in BASE_UNITS:
            units[c] = BASE_UNITS[c]
        elif c in METRIC_BY_COLUMN:
            m = METRIC_BY_COLUMN[c]
            units[c] = f"{m.unit}: {m.convention}"
        elif c.startswith("p_"):
            units[c] = "0-1, classifier probability of this label (empty: view cannot show it)"
        elif c.startswith("vis_"):
            units[c] = "0-1, MediaPipe visibility"
        elif c.endswith(("_wx", "_wy", "_wz")):
            units[c] = "m, world landmark (origin between the hips)"
        elif c.endswith(("_x", "_y")):
            units[c] = "0-1, normalized image coordinate"
        elif c.endswith("_z"):
            units[c] = "relative depth, same scale as x"
        else:
            units[c] = "0-1"
    return units


def _fmt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


class SessionRecorder:
    """Writes `<stem>.csv` and `<stem>.json` into a folder; use as a context manager."""

    def __init__(self, out_dir: Path, stem: str, source_info: dict, settings: dict,
                 model: dict, images: bool = False, landmarks: bool = False,
                 classifier: dict | None = None) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.csv_path = out_dir / f"{stem}.csv"
        self.json_path = out_dir / f"{stem}.json"
        self.columns = csv_columns(images, landmarks)
        self.landmarks = landmarks
        self.images = images
        self.rows = 0
        self.detected = 0
        self._started = datetime.now(timezone.utc)
        self._meta = {
            "software": {"name": "posture-monitor", "version": __version__,
                         "python": platform.python_version()},
            "model": model,
            "classifier": classifier,
            "labels": label_table(),
            "source": source_info,
            "settings": settings,
            "started": self._started.isoformat(),
            "columns": column_units(self.columns),
            "metrics": metric_table(),
        }
        self._fh = open(self.csv_path, "w", newline="", encoding="utf-8")  # noqa: SIM115
        self._writer = csv.writer(self._fh)
        self._writer.writerow(self.columns)
        self._last_flush = time.monotonic()
        self._write_sidecar("running")

    def write(self, result: FrameResult) -> None:
        m = result.measurement
        pose = result.pose
        row: list[str] = [str(result.frame.index)]
        if self.images:
            row.append(result.frame.name or "")
        row += [f"{result.frame.time_s:.3f}", "1" if pose is not None else "0", m.view,
                _fmt(m.yaw_deg, 1)]
        for col in METRIC_COLUMNS:
            row.append(_fmt(m.values[col], 3 if METRIC_BY_COLUMN[col].unit == "ratio" else 2))
        row.append(_fmt(m.quality, 3))
        row += [_fmt(m.visibility.get(n), 3) for n in KEY_LANDMARKS]
        row.append(";".join(m.flags))
        c = result.classification
        row += [c.label or "", _fmt(c.confidence, 3)]
        row += [_fmt(c.probabilities[n], 3) for n in LABEL_NAMES]
        row += [_fmt(result.scores[s], 1) for s in SCORE_COLUMNS]
        a = result.alert
        row += ["", "", ""] if a is None else [a.state.value, "1" if a.new_alert else "0",
                                               a.reason or ""]
        if self.landmarks:
            if pose is None:
                row += [""] * (len(NAMES) * len(LANDMARK_FIELDS))
            else:
                for i in range(len(NAMES)):
                    x, y, z = pose.image[i]
                    wx, wy, wz = pose.world[i]
                    row += [f"{x:.5f}", f"{y:.5f}", f"{z:.5f}", f"{pose.visibility[i]:.3f}",
                            f"{pose.presence[i]:.3f}", f"{wx:.4f}", f"{wy:.4f}", f"{wz:.4f}"]
        self._writer.writerow(row)
        self.rows += 1
        self.detected += pose is not None
        now = time.monotonic()
        if now - self._last_flush >= FLUSH_INTERVAL_S:
            self._fh.flush()
            self._last_flush = now

    def add_meta(self, items: dict) -> None:
        """Add entries to the sidecar (e.g. the baseline in force), written at once."""
        self._meta.update(items)
        self._write_sidecar("running")

    def _write_sidecar(self, status: str, extra: dict | None = None) -> None:
        meta = dict(self._meta)
        meta["status"] = status
        meta["frames_written"] = self.rows
        meta["frames_with_pose"] = self.detected
        if extra:
            meta.update(extra)
        tmp = self.json_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        os.replace(tmp, self.json_path)

    def close(self, status: str = "complete", extra: dict | None = None) -> None:
        if self._fh.closed:
            return
        self._fh.close()
        finished = datetime.now(timezone.utc)
        self._write_sidecar(status, {"finished": finished.isoformat(),
                                     "duration_s": (finished - self._started).total_seconds()}
                            | (extra or {}))

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close("complete")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close("interrupted")
        else:
            self.close(f"error: {exc}")
