"""What a stored sample and a session summary hold: the sample columns, the ranges a
stored value may take (anything outside reads as no reading, never as a crash), and the
summary of a session's samples. Plain data and numpy; no database here (store.py)."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import numpy as np

from posture_monitor.core.measure.definitions import (
    METRIC_BY_COLUMN,
    METRIC_COLUMNS,
    SUMMARY_COLUMNS,
)

TEXT_COLUMNS = ("view", "posture_label", "alert_state")
SAMPLE_COLUMNS = ("frame", "time_s", "view", *METRIC_COLUMNS, "posture_label",
                  "score_overall", "alert_state")
# Which medians a session summary carries: the metric table's `summary` flag.
SUMMARY_METRICS = SUMMARY_COLUMNS
PRESENT_STATES = ("ok", "warning", "alert")  # "away" and photos (NULL) are not sitting
ALERT_STATES = (*PRESENT_STATES, "away")

# What a stored sample may hold (issue 11): imports are checked against it, and a value
# outside it in a row an older version stored reads as no reading, never as a crash.
FRAME_MAX = 2**31 - 1
UNIT_RANGES = {"deg": (-360.0, 360.0), "ratio": (-100.0, 100.0), "cm": (-1000.0, 1000.0)}
VALUE_RANGES: dict[str, tuple[float, float]] = {
    "time_s": (0.0, 1e7),  # seconds since the start: up to 115 days
    **{c: UNIT_RANGES[METRIC_BY_COLUMN[c].unit] for c in METRIC_COLUMNS},
    "score_overall": (0.0, 100.0),
}
SUMMARY_RANGES: dict[str, tuple[float, float]] = {
    "frames": (0, FRAME_MAX + 1), "duration_s": (0.0, 1e7), "good_share": (0.0, 1.0),
    **{c: VALUE_RANGES[c] for c in SUMMARY_METRICS},
}


def _number(value: Any) -> float | None:
    """None for missing, empty, NaN or infinite (stored as NULL); float otherwise."""
    if value is None or value == "":
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def sample_tuple(row: dict) -> tuple:
    """A sample row (CSV-style strings or numbers) as the tuple of SAMPLE_COLUMNS.

    Raises KeyError without frame, ValueError on a value that is no number."""
    out: list[Any] = []
    for col in SAMPLE_COLUMNS:
        v = row.get(col)
        if col == "frame":
            out.append(int(float(row["frame"])))
        elif col in TEXT_COLUMNS:
            out.append(None if v is None or v == "" else str(v))
        else:
            out.append(_number(v))
    return tuple(out)


def _finite(value: Any, lo: float, hi: float) -> Any:
    """`value` when it is a real number within [lo, hi], else None (for stored data that
    an older version let in: NaN, infinity, text in a number column)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return value if lo <= value <= hi else None  # False for NaN
    except OverflowError:
        return None


def _float_column(values: list, col: str) -> np.ndarray:
    """Stored numbers as float64, NaN for NULL and for anything outside VALUE_RANGES."""
    lo, hi = VALUE_RANGES.get(col, (-math.inf, math.inf))
    try:
        a = np.array([np.nan if v is None else v for v in values], dtype=float)
    except (TypeError, ValueError, OverflowError):  # text or a huge integer in the column
        a = np.array([np.nan if (f := _finite(v, lo, hi)) is None else f for v in values],
                     dtype=float)
    with np.errstate(invalid="ignore"):
        a[~((a >= lo) & (a <= hi))] = np.nan
    return a


def _frame_column(values: list) -> np.ndarray:
    try:
        return np.array(values, dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        return np.array([v if isinstance(v, int) and not isinstance(v, bool)
                         and 0 <= v <= FRAME_MAX else -1 for v in values], dtype=np.int64)


def _json_object(text: Any) -> dict | None:
    """A stored JSON object, or None when the text is missing or not one."""
    if not isinstance(text, str):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def clean_summary(summary: dict) -> dict:
    """A stored summary with every number a reader formats made safe: a value outside
    SUMMARY_RANGES (NaN, infinity, text) becomes None ("no reading")."""
    out = dict(summary)
    for key, (lo, hi) in SUMMARY_RANGES.items():
        if key in out:
            out[key] = _finite(out[key], lo, hi)
    if "labels" in out:
        labels = out["labels"]
        out["labels"] = ({str(k): v for k, v in labels.items()
                          if isinstance(v, int) and not isinstance(v, bool)}
                         if isinstance(labels, dict) else {})
    return out


def parse_time(text: Any) -> datetime | None:
    """A stored ISO time (timezone-aware, UTC when it names none), or None."""
    if not isinstance(text, str):
        return None
    try:  # Python 3.10's fromisoformat does not accept a trailing "Z"
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _median(values: np.ndarray) -> float | None:
    v = values[~np.isnan(values)]
    return float(np.median(v)) if v.size else None


def summarize(samples: dict[str, np.ndarray]) -> dict:
    """frames, duration_s, the median of each SUMMARY_METRICS column (key = column, None
    without a value), good_share ('ok' among frames with the person present, None when
    none), and labels: how often each posture label was given."""
    t = np.asarray(samples["time_s"], dtype=float)
    t = t[~np.isnan(t)]
    states = [s for s in samples["alert_state"] if s in PRESENT_STATES]
    labels = Counter(s for s in samples["posture_label"] if s)
    return {
        "frames": int(len(samples["frame"])),
        "duration_s": float(t.max() - t.min()) if t.size else 0.0,
        # medians flat under the metric's own column name: what lists and reports read
        **{c: _median(np.asarray(samples.get(c, ()), dtype=float)) for c in SUMMARY_METRICS},
        "good_share": states.count("ok") / len(states) if states else None,
        "labels": dict(labels.most_common()),
    }
