"""The per-repetition measures of an exercise by name: which names exist for a preset,
what each is called in words, its unit, and a session's summary rebuilt from its rows.

The names are the keys of `RepResult.measures()` (tracker.py): what the sidecar's
`per_rep` rows and `summary` hold, and what goals, progress and reliability refer to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN
from posture_monitor.core.measure.joints import ANGLE_COLUMNS, COLUMN_INFO, JOINT_BY_NAME
from posture_monitor.core.movement.exercises import FREE, PRESETS, preset_names
from posture_monitor.core.movement.tracker import ExerciseTracker, title

# Measures every repetition has (whatever the joints), in the order lists show them.
FIXED: dict[str, tuple[str, str | None]] = {  # name -> (words, unit; None = the counted)
    "range": ("range of motion (counted movement)", None),
    "peak": ("peak of the counted movement", None),
    "range_symmetry_pct": ("range symmetry (min/max, %)", "%"),
    "range_si_pct": ("range symmetry index (|L-R|/mean, %, 0 = symmetric)", "%"),
    "speed_symmetry_pct": ("speed symmetry (min/max, %)", "%"),
    "speed_si_pct": ("speed symmetry index (|L-R|/mean, %, 0 = symmetric)", "%"),
    # the symmetry joint's sides (every sided joint is an angle)
    "left_range": ("left side's range", "deg"),
    "right_range": ("right side's range", "deg"),
    "left_peak_speed": ("left side's peak speed", "deg/s"),
    "right_peak_speed": ("right side's peak speed", "deg/s"),
    "duration_s": ("duration of a repetition", "s"),
    "to_peak_s": ("time to the peak", "s"),
    "from_peak_s": ("time back from the peak", "s"),
    "peak_velocity": ("peak speed of the counted movement", "/s"),
}
_STATS = {"min": "minimum", "max": "maximum", "range": "range"}
# Row keys that are not measures: where the repetition lies in time, and text.
NOT_MEASURES = frozenset({"rep", "complete", "reason", "start_s", "peak_s", "end_s",
                          "view", "signal", "unit", "rest", "sides_from", "faults"})
# The largest value a percentage measure can take (a goal's value is checked against it).
PERCENT_MAX = {"range_symmetry_pct": 100.0, "speed_symmetry_pct": 100.0,
               "range_si_pct": 200.0, "speed_si_pct": 200.0}


def counted(name: str) -> bool:
    """True for a measure of the counted signal, whose unit depends on what was counted
    (a squat from the side counts knee degrees, from the front hip height)."""
    return name in FIXED and FIXED[name][1] in (None, "/s")


def column_of(name: str) -> tuple[str, str] | None:
    """(column, statistic) of a column-based name such as knee_flex_r_deg_max."""
    for stat in _STATS:
        col = name.removesuffix(f"_{stat}")
        if col != name and (col in COLUMN_INFO or col in METRIC_BY_COLUMN):
            return col, stat
    return None


def measure_title(name: str) -> str:
    """'Knee flexion (right) maximum' for knee_flex_r_deg_max; the name itself when
    unknown (an older file's measure still reads)."""
    if name in FIXED:
        return FIXED[name][0]
    found = column_of(name)
    if found is None:
        return name
    col, stat = found
    return f"{title(col)} {_STATS[stat]}"


def measure_unit(name: str, counted_unit: str = "deg") -> str:
    """'deg', 'ratio', '%', 's' or 'deg/s'; `counted_unit` for the counted signal's."""
    if name in FIXED:
        unit = FIXED[name][1]
        if unit is None:
            return counted_unit
        return counted_unit + unit if unit == "/s" else unit
    found = column_of(name)
    if found is None:
        return ""
    col = found[0]
    if col in COLUMN_INFO:
        return COLUMN_INFO[col][0].unit
    return METRIC_BY_COLUMN[col].unit


def preset_columns(preset: str) -> tuple[str, ...]:
    """The columns a preset's repetitions report (min, max and range of each)."""
    if preset == FREE:
        return ANGLE_COLUMNS
    return ExerciseTracker(PRESETS[preset]).columns


def known_preset(preset: str) -> bool:
    return preset in preset_names()


def valid_measures(preset: str, stored: Iterable[str] = ()) -> list[str]:
    """The names a goal may use for `preset`: the fixed ones, min/max/range of the
    preset's columns, and whatever stored sessions of it hold."""
    names = list(FIXED)
    names += [f"{c}_{s}" for c in preset_columns(preset) for s in _STATS]
    names += [n for n in stored if n not in NOT_MEASURES]
    return list(dict.fromkeys(names))


def describe_valid(preset: str, stored: Iterable[str] = ()) -> str:
    """The valid names in one line: the fixed ones, then the columns."""
    cols = list(dict.fromkeys(
        [*preset_columns(preset),
         *(f[0] for n in stored if (f := column_of(n)) is not None)]))
    shown = cols if len(cols) <= 24 else [*cols[:24], "..."]
    return (f"{', '.join(FIXED)}, or a column's _min, _max or _range (columns: "
            f"{', '.join(shown)})")


def primary_columns(exercise: dict) -> list[str]:
    """The 2D columns of the joint counted from the side (else from the front), both
    sides when sided: the table's "mean max per side"."""
    counted = exercise.get("counted") or {}
    joint = (counted.get("side") or counted.get("front") or {}).get("column")
    j = JOINT_BY_NAME.get(joint) if isinstance(joint, str) else None
    return list(j.columns()) if j is not None else []


def summary_from_rows(rows: Sequence[dict]) -> dict[str, float | None]:
    """Means over the complete rows of every measure, with the counts: what
    `tracker.summary_measures` gives, rebuilt from stored rows (an import trusts no
    summary it is handed)."""
    complete = [r for r in rows if r.get("complete") in (1, True)]
    out: dict[str, float | None] = {"reps": float(len(complete)),
                                    "incomplete": float(len(rows) - len(complete))}
    keys = dict.fromkeys(k for r in complete for k in r if k not in NOT_MEASURES
                         and not isinstance(r[k], str))  # a text column is no measure
    for k in keys:
        vals = [float(v) for r in complete if _number(v := r.get(k))]
        out[k] = float(np.mean(vals)) if vals else None
    return out


def rep_values(rows: Sequence[dict], name: str) -> list[float | None]:
    """One measure of the complete repetitions in order (None where a row lacks it)."""
    return [float(v) if _number(v := r.get(name)) else None
            for r in rows if r.get("complete") in (1, True)]


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
