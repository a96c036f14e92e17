"""The study table: one row per video from its per-frame CSV and JSON sidecar, for pandas
or R (`DIR/summary.csv` of `posture-monitor batch`). Empty cell = not available.

Columns, in this order (`summary_columns`; the caller's own columns, e.g. the video's
name, come first):

* `status`: complete | interrupted | error | running (the sidecar's status; `running`
  means the run ended without closing its files). `status_detail`: the error's text.
* `frames`: rows of the CSV. `frames_with_person`: rows with pose_detected = 1.
* `seconds_analysed`: s, last time_s - first time_s + the median frame step (100 frames
  at 30 fps = 3.333 s; a camera outage inside a recording counts as analysed time).
* `view_main`: the most common view among the frames with a person (ties: the order
  front, back, left, right, oblique, unknown). `view_share_<view>`: 0-1, share of the
  frames with a person seen in that view (the six shares sum to 1).
* Every posture metric (`METRIC_COLUMNS`, always) and every joint-angle column the CSV
  has (`--angles`): `<col>_median`, `<col>_iqr` (75th - 25th percentile, R's default
  quantile type 7; spread matters as much as level when comparing sessions) and `<col>_n`
  (frames that measured it). Unit = the column's own (deg, cm or ratio; the sidecar's
  `columns` object describes each). Median and IQR are empty when n = 0.
* Posture classifier (only when the video was classified), denominators = frames with a
  person: `label_share_upright`, `label_share_deviated` (one deviation or more) and
  `label_share_abstained` (no label: the view cannot show it, or it was unsure) sum to 1.
  `label_share_<label>` for each deviation: 0-1, frames that show it. A cell such as
  'forward_head+head_tilt' counts for both labels (the classifier is multi-label), so
  these shares may add up to more than label_share_deviated.
* `alerts_started`: count of frames whose alert_event is 1 (an alert starts there).
* With `--exercise`: `exercise_name` (the preset), `exercise_unit` (unit of the counted
  movement: deg, or ratio for hip height from the front), `exercise_reps_complete`,
  `exercise_reps_incomplete`, `exercise_form_faults` (form cues given, all kinds), and
  means over the complete repetitions: `exercise_range_mean`, `exercise_peak_mean`
  (exercise_unit), `exercise_duration_s_mean`, `exercise_to_peak_s_mean`,
  `exercise_from_peak_s_mean` (s), `exercise_peak_velocity_mean` (exercise_unit/s),
  `exercise_left_range_mean`, `exercise_right_range_mean` (deg),
  `exercise_range_symmetry_pct_mean`, `exercise_speed_symmetry_pct_mean` (min/max x 100,
  100 = symmetric).
* With `--gait` (core/movement/gait.py): `gait_person` (the walker's person number),
  `gait_steps`, `gait_cadence_steps_per_min`, `gait_walking_s` (s of steady walking
  analysed), per side (`_left`, `_right`, means): `gait_step_time_s_*`,
  `gait_stride_time_s_*` (s), `gait_stance_pct_*` (% of the stride),
  `gait_step_length_leg_*` (leg lengths, hip to ankle), `gait_step_length_m_*` (m, only
  with --height-cm); `gait_double_support_pct` (% of the stride); symmetry ratios
  min(L, R) / max(L, R) x 100 (100 = symmetric): `gait_step_time_symmetry_pct`,
  `gait_stride_time_symmetry_pct`, `gait_stance_symmetry_pct`,
  `gait_swing_symmetry_pct`, `gait_step_length_symmetry_pct`; `gait_withheld`: why no
  steps were taken, when none were.
"""

from __future__ import annotations

import csv
import io
import math
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from posture_monitor.core.classify.labels import LABEL_NAMES, UPRIGHT
from posture_monitor.core.common.private_files import read_json, write_private_text
from posture_monitor.core.measure.definitions import METRIC_COLUMNS, VIEWS
from posture_monitor.core.measure.joints import ANGLE_COLUMNS
from posture_monitor.core.records.store_io import safe_cell


def _stat_columns(columns: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{c}_{s}" for c in columns for s in ("median", "iqr", "n"))


BASE_COLUMNS = ("status", "status_detail", "frames", "frames_with_person",
                "seconds_analysed", "view_main", *(f"view_share_{v}" for v in VIEWS))
METRIC_SUMMARY = _stat_columns(METRIC_COLUMNS)
ANGLE_SUMMARY = _stat_columns(ANGLE_COLUMNS)
LABEL_SUMMARY = ("label_share_upright", "label_share_deviated", "label_share_abstained",
                 *(f"label_share_{n}" for n in LABEL_NAMES))
ALERT_SUMMARY = ("alerts_started",)
# the sidecar's per-repetition means kept in the table (tracker.summary_measures)
EXERCISE_MEANS = ("range", "peak", "duration_s", "to_peak_s", "from_peak_s", "peak_velocity",
                  "left_range", "right_range", "range_symmetry_pct", "speed_symmetry_pct")
EXERCISE_SUMMARY = ("exercise_name", "exercise_unit", "exercise_reps_complete",
                    "exercise_reps_incomplete", "exercise_form_faults",
                    *(f"exercise_{k}_mean" for k in EXERCISE_MEANS))
GAIT_PER_SIDE = ("step_time_s", "stride_time_s", "stance_pct", "step_length_leg",
                 "step_length_m")
# sidecar symmetry key -> column stem (the unit suffix dropped: a ratio has none)
GAIT_SYMMETRY = {"step_time_s": "step_time", "stride_time_s": "stride_time",
                 "stance_s": "stance", "swing_s": "swing", "step_length_leg": "step_length"}
GAIT_SUMMARY = ("gait_person", "gait_steps", "gait_cadence_steps_per_min", "gait_walking_s",
                *(f"gait_{k}_{f}" for k in GAIT_PER_SIDE for f in ("left", "right")),
                "gait_double_support_pct",
                *(f"gait_{s}_symmetry_pct" for s in GAIT_SYMMETRY.values()), "gait_withheld")
# Groups after the fixed ones: a column is in the table only when some row has it.
OPTIONAL_COLUMNS = ANGLE_SUMMARY + LABEL_SUMMARY + ALERT_SUMMARY + EXERCISE_SUMMARY + \
    GAIT_SUMMARY


def _num(v: object) -> float | int | None:
    """A sidecar number as it is (int stays int); None for anything else or non-finite."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return v if isinstance(v, int) or math.isfinite(v) else None


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _stats(values: array) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    a = np.frombuffer(values, dtype=np.float64)
    q25, q50, q75 = np.percentile(a, (25, 50, 75))  # linear = R's type 7
    return float(q50), float(q75 - q25)


def _frames(csv_path: Path, row: dict, classified: bool) -> None:
    """The per-frame part, in one pass over the CSV (values kept as C doubles: a 30-min
    video at 30 fps is 54 000 rows x ~80 columns)."""
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        at = {c: i for i, c in enumerate(header)}
        measured = [c for c in METRIC_COLUMNS if c in at] + \
            [c for c in ANGLE_COLUMNS if c in at]
        cols = [(c, at[c], array("d")) for c in measured]
        i_pose, i_view, i_label, i_alert, i_time = (
            at.get(c) for c in ("pose_detected", "view", "posture_label", "alert_event",
                                "time_s"))
        frames = with_person = alerts = 0
        alert_cells = False
        times = array("d")
        views: Counter[str] = Counter()
        labels: Counter[str] = Counter()
        for r in reader:
            if not r:
                continue
            frames += 1
            for _, i, values in cols:
                if r[i]:
                    values.append(float(r[i]))
            if i_time is not None and r[i_time]:
                times.append(float(r[i_time]))
            if i_alert is not None and r[i_alert]:
                alert_cells = True
                alerts += r[i_alert] == "1"
            if i_pose is None or r[i_pose] != "1":
                continue
            with_person += 1
            if i_view is not None:
                views[r[i_view]] += 1
            if i_label is not None:
                label = r[i_label]
                if not label:
                    labels["abstained"] += 1
                elif label == UPRIGHT:
                    labels[UPRIGHT] += 1
                else:
                    labels["deviated"] += 1
                    labels.update(set(label.split("+")))  # each deviation once a frame
    row["frames"] = frames
    row["frames_with_person"] = with_person if i_pose is not None else None
    steps = np.diff(np.frombuffer(times, dtype=np.float64)) if len(times) > 1 else None
    step = float(np.median(steps[steps > 0])) if steps is not None and (steps > 0).any() \
        else 0.0
    row["seconds_analysed"] = times[-1] - times[0] + step if times else None
    order = {v: k for k, v in enumerate(VIEWS)}
    row["view_main"] = min(views, key=lambda v: (-views[v], order.get(v, len(order)), v)) \
        if views else None
    seen = sum(views.values())
    for v in VIEWS:
        row[f"view_share_{v}"] = _share(views[v], seen)
    for c, _, values in cols:
        row[f"{c}_median"], row[f"{c}_iqr"] = _stats(values)
        row[f"{c}_n"] = len(values)
    if classified and i_label is not None:
        for name in (UPRIGHT, "deviated", "abstained", *LABEL_NAMES):
            row[f"label_share_{name}"] = _share(labels[name], with_person)
    if i_alert is not None:
        row["alerts_started"] = alerts if alert_cells else None  # photos: no alerts


def _exercise(ex: dict, row: dict) -> None:
    s = ex.get("summary") if isinstance(ex.get("summary"), dict) else {}
    # the counted movement's unit: what the repetitions report, else what was to count
    units = [r.get("unit") for r in ex.get("per_rep") or [] if isinstance(r, dict)] or \
        [c.get("unit") for c in (ex.get("counted") or {}).values() if isinstance(c, dict)]
    units = [u for u in dict.fromkeys(units) if isinstance(u, str)]
    faults = ex.get("form_faults") if isinstance(ex.get("form_faults"), dict) else {}
    row["exercise_name"] = ex.get("preset") if isinstance(ex.get("preset"), str) else None
    row["exercise_unit"] = "|".join(units) or None
    row["exercise_reps_complete"] = _num(ex.get("reps"))
    row["exercise_reps_incomplete"] = _num(ex.get("incomplete"))
    row["exercise_form_faults"] = sum(n for n in faults.values() if _num(n) is not None)
    for k in EXERCISE_MEANS:
        row[f"exercise_{k}_mean"] = _num(s.get(k))


def _gait(g: dict, row: dict) -> None:
    def get(*keys: str) -> object:
        v: object = g
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        return v

    spans = [s for s in g.get("analysed_s") or [] if isinstance(s, list) and len(s) == 2]
    row["gait_person"] = _num(get("person", "analysed"))
    row["gait_steps"] = _num(g.get("steps"))
    row["gait_cadence_steps_per_min"] = _num(g.get("cadence_steps_per_min"))
    row["gait_walking_s"] = sum(float(b) - float(a) for a, b in spans) if spans else None
    for k in GAIT_PER_SIDE:
        for foot in ("left", "right"):
            row[f"gait_{k}_{foot}"] = _num(get(k, foot, "mean"))
    row["gait_double_support_pct"] = _num(get("double_support_pct", "mean"))
    for key, stem in GAIT_SYMMETRY.items():
        row[f"gait_{stem}_symmetry_pct"] = _num(get("symmetry", key, "ratio_pct"))
    withheld = g.get("withheld")
    row["gait_withheld"] = withheld if isinstance(withheld, str) else None


def summary_row(csv_path: Path, json_path: Path) -> dict[str, object]:
    """One video's row (keys: the columns above; None = empty). ValueError when the
    sidecar is not readable JSON or a numeric cell of the CSV is not a number."""
    try:
        meta = read_json(Path(json_path))
    except ValueError as exc:
        raise ValueError(f"{json_path}: {exc}") from None
    meta = meta if isinstance(meta, dict) else {}
    status = meta.get("status") if isinstance(meta.get("status"), str) else ""
    word, _, detail = status.partition(":")
    row: dict[str, object] = {"status": word.strip() or None,
                              "status_detail": detail.strip() or None}
    # labels only where the video was classified: a run without the classifier has the
    # column but never a label, which is no "abstained in every frame"
    try:
        _frames(Path(csv_path), row, classified=bool(meta.get("classifier")))
    except ValueError as exc:  # a cell that is no number: say which file
        raise ValueError(f"{csv_path}: {exc}") from None
    if isinstance(meta.get("exercise"), dict):
        _exercise(meta["exercise"], row)
    if isinstance(meta.get("gait"), dict):
        _gait(meta["gait"], row)
    return row


def summary_columns(rows: Sequence[dict]) -> list[str]:
    """Fixed columns, then the optional groups' columns that some row has, in the order
    of the module docstring; then any other key the rows carry, in first-seen order."""
    keys = dict.fromkeys(k for r in rows for k in r)
    cols = [*BASE_COLUMNS, *METRIC_SUMMARY, *(c for c in OPTIONAL_COLUMNS if c in keys)]
    known = set(cols) | set(OPTIONAL_COLUMNS)
    return cols + [k for k in keys if k not in known]


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""  # repr: the shortest exact digits
    return safe_cell(str(v))  # free text: no spreadsheet formula


def write_summary(path: Path, rows: Sequence[dict], first: Sequence[str] = ()) -> None:
    """The study table: `first` (the caller's columns), then `summary_columns(rows)`;
    atomically (a crash leaves the previous file) and readable by the user only."""
    columns = list(dict.fromkeys(first))
    columns += [c for c in summary_columns(rows) if c not in set(columns)]
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in columns])
    write_private_text(Path(path), text.getvalue(), newline="")
