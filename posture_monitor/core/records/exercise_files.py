"""Files for movement analysis: `<stem>_reps.csv` (one row per repetition, complete or
not) and OpenSim-style `.mot` tables (angle time series, repetitions).

The `.mot` layout is OpenSim's Storage text format as Sports2D and Pose2Sim write it: a
name line, `version=1`, `nRows=`, `nColumns=` (time included), `inDegrees=yes`,
`endheader`, then tab-separated rows under a header that starts with `time`. A missing
value is written `nan` (OpenSim and NumPy read it; interpolate before inverse
kinematics). Every file is written whole or not at all (temporary file, then rename),
readable by the user only.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

from posture_monitor.core.common.private_files import write_private_text
from posture_monitor.core.records.outputs import output_error
from posture_monitor.core.records.store_io import safe_cell

REP_SUFFIX = "_reps.csv"
ANGLES_MOT_SUFFIX = "_angles.mot"
REPS_MOT_SUFFIX = "_reps.mot"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.3f}"
    if isinstance(value, int):
        return str(value)
    return safe_cell(str(value))


def _write(path: Path, text: str) -> None:
    try:
        write_private_text(path, text, newline="")
    except OSError as exc:
        raise output_error(exc, path, "write the results elsewhere") from None


def write_reps_csv(path: Path, rows: Sequence[dict]) -> Path:
    """One row per repetition; columns are the union of the rows' keys in first-seen
    order (a repetition seen from the front has no side-view angles)."""
    columns = list(dict.fromkeys(k for r in rows for k in r)) or ["rep", "complete"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    _write(path, buf.getvalue())
    return path


def mot_text(name: str, times: Sequence[float], columns: Sequence[str],
             rows: Sequence[Sequence[float | None]]) -> str:
    lines = [name, "version=1", f"nRows={len(rows)}", f"nColumns={len(columns) + 1}",
             "inDegrees=yes", "endheader", "\t".join(["time", *columns])]
    for t, row in zip(times, rows, strict=True):
        cells = [f"{t:.6f}"] + ["nan" if v is None or not math.isfinite(v) else f"{v:.4f}"
                                for v in row]
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def write_mot(path: Path, name: str, times: Sequence[float], columns: Sequence[str],
              rows: Sequence[Sequence[float | None]]) -> Path:
    _write(path, mot_text(name, times, columns, rows))
    return path


def read_mot(path: Path) -> tuple[list[str], list[list[float]]]:
    """(header, rows) of a .mot file written here: the reader tests and users rely on."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    end = lines.index("endheader")
    header = lines[end + 1].split("\t")
    rows = [[float(x) for x in line.split("\t")] for line in lines[end + 2:] if line]
    return header, rows
