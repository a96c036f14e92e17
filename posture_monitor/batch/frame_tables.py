"""One video's per-frame CSV in researcher formats: a tidy long table (CSV or Parquet)
and the wide table as Parquet, one file per video, so that a folder of them is the study
(`pyarrow.dataset.dataset(folder)`, `pandas.read_parquet(folder)`, R's
`arrow::open_dataset(folder)`). Keep wide and long files in separate folders: a dataset
is one table.

Long table, one row per frame x measure, frames in order and measures in the CSV's
column order: `video` (the name given), `frame`, `time_s` (s), `person`, `view`,
`measure` (the CSV column), `value` (in the column's unit, see the sidecar's `columns`;
empty when not measured), `reason`. Measures: the posture metrics (2D and 3D), the
joint angles (2D and 3D) when the CSV has them (--angles), posture_confidence and the
imbalance scores; not the landmark, visibility or probability columns (in the wide
table). `reason` comes from the row's flags: the measure's own `column:reason` entry
(`flags` for metrics, `angle_flags` for joint angles); for an empty value without one,
the frame's own reasons (`no_pose`, `view:oblique`, ...), else `view:<view>` when the
metric is not measured in that view (the recorder leaves that to the view column). A
value carries one caveat: `camera_tilt:not_removed` on the 3D columns measured against
the vertical when the camera's tilt was not removed. In Parquet every empty cell is null.

Wide Parquet: `video` first, then every CSV column: int64 (nullable) for frame, person,
pose_detected, alert_event and the two-camera frame and pose columns; float64 for every
measure, probability, visibility, time and landmark column; string for the rest (view,
flags, labels, alert state and reason, ...), text exactly as in the CSV. Types follow the
column names, never the data, so every video of a study has the same schema for the same
options (--angles and --landmarks add columns). The long table's schema is fixed.

Both stream: the CSV is read in blocks and written as it goes (a 30-minute video at
30 fps, 54 000 frames x ~80 measures, never sits in memory whole). Files are written to
a temporary beside the target and renamed (no half file carries the name), user-only.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posture_monitor.core.classify.scoring import SCORE_COLUMNS
from posture_monitor.core.common.private_files import private_file
from posture_monitor.core.measure.camera_tilt import NOT_REMOVED_FLAG
from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN, TILT_COLUMNS
from posture_monitor.core.measure.joints import ANGLE_COLUMNS
from posture_monitor.core.measure.metrics import KEY_LANDMARKS
from posture_monitor.core.records.recorder import CLASSIFIER_COLUMNS, LANDMARK_FIELDS
from posture_monitor.core.records.store_io import safe_cell
from posture_monitor.core.vision.landmarks import NAMES

LONG_COLUMNS = ("video", "frame", "time_s", "person", "view", "measure", "value", "reason")
_ANGLES = frozenset(ANGLE_COLUMNS)
_TILT = frozenset(TILT_COLUMNS)
MEASURES = frozenset(METRIC_BY_COLUMN) | _ANGLES | frozenset(SCORE_COLUMNS) | {
    "posture_confidence"}
INT_COLUMNS = frozenset({"frame", "pose_detected", "person", "alert_event", "front_frame",
                         "side_frame", "front_pose", "side_pose"})
FLOAT_COLUMNS = MEASURES | {c for c in CLASSIFIER_COLUMNS if c.startswith("p_")} | {
    "time_s", "side_time_s", "view_yaw_deg", "quality"} | {
    f"vis_{n}" for n in KEY_LANDMARKS} | {f"{n}_{f}" for n in NAMES for f in LANDMARK_FIELDS}
BLOCK_BYTES = 8 << 20  # CSV bytes per Parquet batch (a few thousand frames)


def measures(header: Sequence[str]) -> list[str]:
    """The long table's measures among a CSV's columns, in the CSV's order."""
    return [c for c in header if c in MEASURES]


def _split(flags: str | None, own_columns: frozenset[str]) -> tuple[dict[str, str], list[str]]:
    """'cva_deg:facing_unclear;view:oblique' -> ({'cva_deg': 'facing_unclear'},
    ['view:oblique']): entries naming a column are that column's, the others the frame's."""
    own: dict[str, str] = {}
    frame: list[str] = []
    for entry in (flags or "").split(";"):
        head, sep, rest = entry.partition(":")
        if sep and head in own_columns:
            own[head] = f"{own[head]};{rest}" if head in own else rest
        elif entry:
            frame.append(entry)
    return own, frame


def reasons(names: Sequence[str], present: Sequence[bool], flags: str | None,
            angle_flags: str | None, view: str | None) -> list[str]:
    """The `reason` of each measure of one row (see the module docstring)."""
    own, frame = _split(flags, MEASURES - _ANGLES)
    tilted = NOT_REMOVED_FLAG in frame
    frame_text = ";".join(f for f in frame if f != NOT_REMOVED_FLAG)
    own_a, frame_a = _split(angle_flags, _ANGLES)
    frame_a_text = ";".join(frame_a)
    out = []
    for name, has in zip(names, present, strict=True):
        if name in _ANGLES:
            out.append(own_a.get(name) or ("" if has else frame_a_text))
        elif has:
            out.append(own.get(name) or (NOT_REMOVED_FLAG if tilted and name in _TILT
                                         else ""))
        else:
            m = METRIC_BY_COLUMN.get(name)
            unseen = m is not None and view and view not in m.views
            out.append(own.get(name) or frame_text or (f"view:{view}" if unseen else ""))
    return out


def write_long_csv(csv_path: Path, out_path: Path, video: str) -> int:
    """The long table of one video's CSV as CSV (values exactly as the CSV has them);
    returns the rows written."""
    rows = 0
    with open(csv_path, newline="", encoding="utf-8") as src, \
            private_file(out_path, newline="") as (fh, _):
        reader = csv.reader(src)
        header = next(reader, [])
        at = {c: i for i, c in enumerate(header)}
        names = measures(header)
        idx = [at[c] for c in names]
        get = {c: at.get(c) for c in ("frame", "time_s", "person", "view", "flags",
                                      "angle_flags")}
        writer = csv.writer(fh)
        writer.writerow(LONG_COLUMNS)
        name = safe_cell(video)
        for r in reader:
            if not r:
                continue
            cell = {k: (r[i] if i is not None else "") for k, i in get.items()}
            values = [r[i] for i in idx]
            why = reasons(names, [v != "" for v in values], cell["flags"],
                          cell["angle_flags"], cell["view"])
            head = [name, cell["frame"], cell["time_s"], cell["person"],
                    safe_cell(cell["view"])]
            writer.writerows([*head, m, v, safe_cell(w)]
                             for m, v, w in zip(names, values, why, strict=True))
            rows += len(names)
    return rows


# pyarrow is imported inside the Parquet functions only: the long CSV and the study
# table need nothing beyond the core, so a batch without Parquet output works without it.
def column_type(name: str):
    """The wide table's Arrow type of a CSV column, by its name (module docstring)."""
    import pyarrow as pa

    if name in INT_COLUMNS:
        return pa.int64()
    return pa.float64() if name in FLOAT_COLUMNS else pa.string()


def long_schema():
    import pyarrow as pa

    return pa.schema([("video", pa.string()), ("frame", pa.int64()),
                      ("time_s", pa.float64()), ("person", pa.int64()),
                      ("view", pa.string()), ("measure", pa.string()),
                      ("value", pa.float64()), ("reason", pa.string())])


def _long_batch(batch, video: str, names: list[str]):
    """The long rows of one wide batch: the row-wise columns repeated per measure (take
    keeps their nulls), the values as one frame-major block."""
    import pyarrow as pa

    n, m = batch.num_rows, len(names)
    rep = pa.array(np.repeat(np.arange(n, dtype=np.int64), m))

    def column(name: str, kind):
        if name in batch.schema.names:
            return batch.column(name).take(rep)
        return pa.nulls(n * m, kind)

    values = np.column_stack([batch.column(c).to_numpy(zero_copy_only=False)
                              for c in names]) if m else np.empty((n, 0))
    present = ~np.isnan(values)
    texts = {c: batch.column(c).to_pylist() if c in batch.schema.names else [None] * n
             for c in ("flags", "angle_flags", "view")}
    why = [w or None for i in range(n) for w in reasons(
        names, present[i].tolist(), texts["flags"][i], texts["angle_flags"][i],
        texts["view"][i])]
    return pa.record_batch([
        pa.array([video] * (n * m), pa.string()), column("frame", pa.int64()),
        column("time_s", pa.float64()), column("person", pa.int64()),
        column("view", pa.string()),
        pa.array(names * n, pa.string()),
        pa.array(values.ravel(), pa.float64(), mask=~present.ravel()),
        pa.array(why, pa.string())], schema=long_schema())


def write_parquet(csv_path: Path, video: str, wide_path: Path, long_path: Path) -> None:
    """The wide table (video + every CSV column, typed) and the long table as Parquet,
    in one streaming pass over the CSV."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    with open(csv_path, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh), [])
    types = {c: column_type(c) for c in header}
    names = measures(header)
    # only "" is empty: pyarrow's defaults would also null a text "NA" or "nan"
    convert = pacsv.ConvertOptions(column_types=types, null_values=[""],
                                   strings_can_be_null=True)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    wide_schema = pa.schema([("video", pa.string()), *((c, types[c]) for c in header)])
    with private_file(wide_path, binary=True) as (wide_fh, _), \
            private_file(long_path, binary=True) as (long_fh, _), \
            pq.ParquetWriter(wide_fh, wide_schema) as wide, \
            pq.ParquetWriter(long_fh, long_schema()) as long:
        reader = pacsv.open_csv(csv_path, read_options=pacsv.ReadOptions(
            block_size=BLOCK_BYTES), parse_options=parse, convert_options=convert) \
            if header else []
        for batch in reader:
            if batch.num_rows == 0:
                continue
            wide.write_batch(pa.record_batch(
                [pa.array([video] * batch.num_rows, pa.string()), *batch.columns],
                schema=wide_schema))
            long.write_batch(_long_batch(batch, video, names))
