"""Per-frame CSV and its JSON sidecar: the one format `analyze` and the app both write.

Rows are flushed at least once a second, and the sidecar is rewritten atomically at the
start and at the end with the run's status, so an interrupted or failed run still leaves
a valid CSV of everything processed and a sidecar that says how it ended.

An existing result is never replaced unless the caller asks (`overwrite`). A failed write
(a full disk, a read-only place) raises `OutputError`, one line naming the file and the
fix, after the CSV has been cut back to its last whole row: every row that reached the
disk is kept, and no half row is left for a reader to trip over. Free-text cells get the
same spreadsheet-formula guard as exports (`store_io.safe_cell`): an image file name such
as `=HYPERLINK(...).jpg` is written as `'=HYPERLINK(...).jpg`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from posture_monitor import __version__
from posture_monitor.core.classify.labels import LABEL_NAMES, label_table
from posture_monitor.core.classify.scoring import SCORE_COLUMNS
from posture_monitor.core.common.errors import OutputError
from posture_monitor.core.common.private_files import write_private_text
from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN, METRIC_COLUMNS, metric_table
from posture_monitor.core.measure.joints import ANGLE_COLUMNS, COLUMN_INFO, joint_table
from posture_monitor.core.measure.metrics import KEY_LANDMARKS
from posture_monitor.core.posture.pipeline import FrameResult
from posture_monitor.core.records.outputs import output_error
from posture_monitor.core.records.store_io import safe_cell
from posture_monitor.core.vision.landmarks import NAMES
from posture_monitor.core.vision.pose import Pose

CLASSIFIER_COLUMNS = ("posture_label", "posture_confidence",
                      *(f"p_{n}" for n in LABEL_NAMES), *SCORE_COLUMNS)
ALERT_COLUMNS = ("alert_state", "alert_event", "alert_reason")

FLUSH_INTERVAL_S = 1.0
FLUSH_BYTES = 1 << 16  # and whenever this much is waiting (landmark rows are ~2 kB)
LANDMARK_FIELDS = ("x", "y", "z", "vis", "pres", "wx", "wy", "wz")


def pose_from_row(row: dict) -> Pose:
    """The Pose a CSV row's landmark columns hold (`<name>_<field>`, as written below by
    `--landmarks` and the window's recordings): the one reader for session review and
    training. ValueError when a column is missing or a value is not a finite number."""
    try:
        v = np.array([[float(row[f"{n}_{f}"]) for f in LANDMARK_FIELDS] for n in NAMES])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"landmark column missing or empty ({exc})") from None
    if not np.isfinite(v).all():
        raise ValueError("a landmark value is not a finite number")
    return Pose(v[:, 0:3], v[:, 5:8], v[:, 3], v[:, 4])

BASE_UNITS: dict[str, str] = {
    "frame": "index (0-based)",
    "file": "image file name",
    "time_s": "s since the start of the source",
    "pose_detected": "1 = a person was found, 0 = not",
    "person": "number of the person this row measures (the same person keeps it across "
    "frames; the sidecar's people list); empty when nobody is measured",
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
    "alert_state": "ok | warning | alert | away (empty for photos): core/posture/alerts.py",
    "alert_event": "1 on the frame an alert starts",
    "alert_reason": "why the state is warning or alert, e.g. 'Trunk flexion for 12 s: ...'",
    "angle_flags": "';'-separated reasons for empty joint-angle columns: 'column:reason'",
    # two cameras in one table (analyze --front A --side B)
    "front_frame": "index of the front camera's frame of this row",
    "side_frame": "index of the side camera's frame nearest in time (empty: none close)",
    "side_time_s": "s, the side camera's own time of that frame",
    "front_pose": "1 = the front camera found the person, 0 = not",
    "side_pose": "1 = the side camera found the person, 0 = not",
    "front_view": "the view the front camera had (front | back | left | right | ...)",
    "side_view": "the view the side camera had",
}


def csv_columns(images: bool = False, landmarks: bool = False,
                angles: bool = False) -> list[str]:
    cols = ["frame"] + (["file"] if images else []) + ["time_s", "pose_detected", "person",
                                                        "view", "view_yaw_deg"]
    cols += list(METRIC_COLUMNS)
    cols += ["quality"] + [f"vis_{n}" for n in KEY_LANDMARKS] + ["flags"]
    cols += list(CLASSIFIER_COLUMNS) + list(ALERT_COLUMNS)
    if angles:
        cols += list(ANGLE_COLUMNS) + ["angle_flags"]
    if landmarks:
        cols += [f"{n}_{f}" for n in NAMES for f in LANDMARK_FIELDS]
    return cols


def column_units(columns: list[str]) -> dict[str, str]:
    units = {}
    for c in columns:
        if c in BASE_UNITS:
            units[c] = BASE_UNITS[c]
        elif c.endswith("_source"):
            units[c] = (f"front | side: the camera {c[:-7]} was taken from (the one whose "
                        "view shows its plane, else the other where its view did); empty: "
                        "neither measured it")
        elif c in METRIC_BY_COLUMN:
            m = METRIC_BY_COLUMN[c]
            units[c] = f"{m.unit}: {m.convention}"
        elif c in COLUMN_INFO:
            joint, _, three_d = COLUMN_INFO[c]
            how = ("3D, model-based estimate from MediaPipe's world landmarks (every view)"
                   if three_d else f"2D, {joint.plane} plane, only in views "
                   f"{'/'.join(sorted(joint.views))}")
            units[c] = f"{joint.unit}: {joint.convention} ({how})"
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
    """Writes `<stem>.csv` and `<stem>.json` into a folder; use as a context manager.

    `overwrite=False` (the default) refuses to replace an existing CSV or sidecar."""

    def __init__(self, out_dir: Path, stem: str, source_info: dict, settings: dict,
                 model: dict, images: bool = False, landmarks: bool = False,
                 classifier: dict | None = None, overwrite: bool = False,
                 angles: bool = False, columns: list[str] | None = None) -> None:
        self.csv_path = out_dir / f"{stem}.csv"
        self.json_path = out_dir / f"{stem}.json"
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise output_error(exc, out_dir) from None
        # `columns`: a table of another shape (two cameras merged, core/run/two_cameras.py),
        # whose rows come through write_cells; the file handling is the same
        self.columns = columns or csv_columns(images, landmarks, angles)
        self.landmarks = landmarks
        self.angles = angles
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
        if angles:
            self._meta["joints"] = joint_table()
        if not overwrite and (self.json_path.exists() or self.json_path.is_symlink()):
            raise OutputError(f"{self.json_path} exists already: it is not replaced without "
                              "being asked (--overwrite); choose another folder or name")
        try:
            # Unbuffered, and "x" (create, fail if it exists) unless asked to replace: the
            # recorder itself knows which rows reached the disk.
            mode = "wb" if overwrite else "xb"
            self._fh = open(self.csv_path, mode, buffering=0)  # noqa: SIM115
        except FileExistsError:
            raise OutputError(f"{self.csv_path} exists already: it is not replaced without "
                              "being asked (--overwrite); choose another folder or name"
                              ) from None
        except OSError as exc:
            raise output_error(exc, self.csv_path) from None
        self._text = io.StringIO()
        self._writer = csv.writer(self._text)
        self._pending: list[tuple[bytes, bool]] = []  # rows not yet on disk, with a pose?
        self._pending_bytes = 0
        self._on_disk = 0  # bytes of whole rows on disk
        self._error: OutputError | None = None  # the write that failed
        self._last_flush = time.monotonic()
        try:
            self._add_row(self.columns, False)
            self._flush(header=True)
            self._write_sidecar("running")
        except BaseException:
            # Nothing recorded yet: leave no empty file that would block the next try.
            self._fh.close()
            self.csv_path.unlink(missing_ok=True)
            raise

    def write(self, result: FrameResult) -> None:
        m = result.measurement
        pose = result.pose
        row: list[str] = [str(result.frame.index)]
        if self.images:
            row.append(safe_cell(result.frame.name or ""))
        row += [f"{result.frame.time_s:.3f}", "1" if pose is not None else "0",
                "" if result.person_id is None else str(result.person_id),
                safe_cell(m.view), _fmt(m.yaw_deg, 1)]
        for col in METRIC_COLUMNS:
            row.append(_fmt(m.values[col], 3 if METRIC_BY_COLUMN[col].unit == "ratio" else 2))
        row.append(_fmt(m.quality, 3))
        row += [_fmt(m.visibility.get(n), 3) for n in KEY_LANDMARKS]
        row.append(safe_cell(";".join(m.flags)))
        c = result.classification
        row += [safe_cell(c.label or ""), _fmt(c.confidence, 3)]
        row += [_fmt(c.probabilities[n], 3) for n in LABEL_NAMES]
        row += [_fmt(result.scores[s], 1) for s in SCORE_COLUMNS]
        a = result.alert
        row += ["", "", ""] if a is None else [safe_cell(a.state.value),
                                               "1" if a.new_alert else "0",
                                               safe_cell(a.reason or "")]
        if self.angles:
            values = result.angles.values
            row += [_fmt(values[c], 3 if COLUMN_INFO[c][0].unit == "ratio" else 2)
                    for c in ANGLE_COLUMNS]
            row.append(safe_cell(";".join(result.angles.flags)))
        if self.landmarks:
            if pose is None:
                row += [""] * (len(NAMES) * len(LANDMARK_FIELDS))
            else:
                for i in range(len(NAMES)):
                    x, y, z = pose.image[i]
                    wx, wy, wz = pose.world[i]
                    row += [f"{x:.5f}", f"{y:.5f}", f"{z:.5f}", f"{pose.visibility[i]:.3f}",
                            f"{pose.presence[i]:.3f}", f"{wx:.4f}", f"{wy:.4f}", f"{wz:.4f}"]
        self.write_cells(row, pose is not None)

    def write_cells(self, row: list[str], with_pose: bool) -> None:
        """One row of ready cells (as many as the columns)."""
        self._add_row(row, with_pose)
        if (self._pending_bytes >= FLUSH_BYTES
                or time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S):
            self._flush()

    def _add_row(self, row: list[str], with_pose: bool) -> None:
        self._writer.writerow(row)
        data = self._text.getvalue().encode("utf-8")
        self._text.seek(0)
        self._text.truncate(0)
        self._pending.append((data, with_pose))
        self._pending_bytes += len(data)

    def _flush(self, header: bool = False) -> None:
        """Write the waiting rows. On a failed write the file is cut back to the last
        whole row on disk and OutputError says how many rows are kept."""
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        if self._error is not None:
            raise self._error  # no row is added to a file after a failed write
        if not pending:
            return
        data = memoryview(b"".join(chunk for chunk, _ in pending))
        done = 0
        try:
            while done < len(data):
                done += self._fh.write(data[done:])
        except OSError as exc:
            whole = 0  # the whole rows among the bytes that reached the disk
            for chunk, with_pose in pending:
                if whole + len(chunk) > done:
                    break
                whole += len(chunk)
                if not header:
                    self.rows += 1
                    self.detected += with_pose
            with contextlib.suppress(OSError):  # shrinking a file needs no free space
                os.truncate(self._fh.fileno(), self._on_disk + whole)  # no half row
            self._on_disk += whole
            kept = "" if header else (f"; the {self.rows} rows written before are kept"
                                      if self.rows else "; no row could be written")
            self._error = output_error(exc, self.csv_path, "write the results elsewhere",
                                       kept)
            raise self._error from None
        self._on_disk += done
        if not header:
            self.rows += len(pending)
            self.detected += sum(with_pose for _, with_pose in pending)
        self._last_flush = time.monotonic()

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
        # atomic (temporary file, then rename): a failure leaves the previous sidecar whole
        try:
            write_private_text(self.json_path, json.dumps(meta, indent=2, default=str))
        except OSError as exc:
            raise output_error(exc, self.json_path, "write the results elsewhere") from None

    def close(self, status: str = "complete", extra: dict | None = None) -> None:
        """Write the waiting rows and the final sidecar. A write error is raised after
        both were tried (the CSV keeps its whole rows, the sidecar says how it ended
        where the disk still takes it)."""
        if self._fh.closed:
            return
        error: OutputError | None = None
        try:
            self._flush()
        except OutputError as exc:
            error = exc
            if not status.startswith("error"):
                status = f"error: {exc}"
        finally:
            self._fh.close()
        finished = datetime.now(timezone.utc)
        try:
            self._write_sidecar(status, {"finished": finished.isoformat(),
                                         "duration_s": (finished - self._started
                                                        ).total_seconds()} | (extra or {}))
        except OutputError as exc:
            error = error or exc
        if error is not None:
            raise error

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close("complete")
            return
        try:
            if issubclass(exc_type, KeyboardInterrupt):
                self.close("interrupted")
            else:
                self.close(f"error: {exc}")
        except OutputError:
            pass  # the exception on its way out is the one to report
