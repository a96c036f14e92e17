"""Files of a gait analysis: `<stem>_gait.csv` (one row per heel strike: foot, times,
step and stride timing, step length, why a value is empty), `<stem>_gait_cycles.csv`
(every stride's knee and hip angle on 0-100 % of the gait cycle, long format: one row
per stride, joint and percent) and, with --mot, `<stem>_gait.mot` (the walker's
sagittal angles in every frame, OpenSim Storage format as in exercise_files.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from posture_monitor.core.records.exercise_files import _cell, _write, write_mot

GAIT_SUFFIX = "_gait.csv"
CYCLES_SUFFIX = "_gait_cycles.csv"
GAIT_MOT_SUFFIX = "_gait.mot"

# the columns of <stem>_gait.csv in this order (a value a step could not have is empty)
STEP_COLUMNS = ("pass", "direction", "foot", "heel_strike_s", "toe_off_s",
                "next_heel_strike_s", "step_time_s", "stride_time_s", "stance_s", "swing_s",
                "stance_pct", "swing_pct", "double_support_s", "double_support_pct",
                "step_length_leg", "step_length_m", "complete", "reason")


def write_steps_csv(path: Path, rows: list[dict]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(STEP_COLUMNS)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in STEP_COLUMNS])
    _write(path, buf.getvalue())
    return path


def write_cycles_csv(path: Path, curves: dict[str, dict[str, list]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("joint", "foot", "stride", "cycle_pct", "angle_deg"))
    for joint, feet in curves.items():
        for foot, strides in feet.items():
            for k, curve in enumerate(strides, start=1):
                step = 100.0 / (len(curve) - 1)
                for i, v in enumerate(curve):
                    w.writerow((f"{joint}_deg", foot, k, f"{i * step:g}", _cell(float(v))))
    _write(path, buf.getvalue())
    return path


def write_gait_mot(path: Path, times, angles: dict) -> Path:
    columns = list(angles)
    rows = [[None if v != v else float(v) for v in vals]
            for vals in zip(*(angles[c] for c in columns), strict=True)] if columns else []
    return write_mot(path, "gait_angles", list(times) if columns else [], columns, rows)
