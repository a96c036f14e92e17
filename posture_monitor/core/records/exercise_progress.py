"""A patient's progress in one exercise, from its stored sessions (oldest first, as
exercise_store.exercise_sessions gives them): the value of a measure per visit, its
repeatability (ICC, SEM, MDC95; core/movement/reliability.py), the smallest-real-change
band around the first visit, and how far the latest visit is from a goal. Plain data,
shared by the report, the history window and the command line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from posture_monitor.core.movement.measures import primary_columns, rep_values
from posture_monitor.core.movement.reliability import Repeatability, repeatability
from posture_monitor.core.records.exercise_store import comparable, counted_unit

# What the per-visit table and the reliability table show, besides goals' measures.
RANGE = "range"
SYMMETRY = "range_symmetry_pct"


def _value(v: object) -> float | None:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    return float(v) if ok else None


def latest_counted_unit(visits: list[dict]) -> str | None:
    """The unit the latest visit that says was counted in: counted-signal measures are
    compared over the visits counted in it."""
    for v in reversed(visits):
        unit = counted_unit(v["exercise"])
        if unit:
            return unit
    return None


def series(visits: list[dict], measure: str, unit: str | None = None) -> list[float | None]:
    """The session mean of `measure` per visit (None where it has none, or where it was
    counted on another signal than `unit`)."""
    return [_value((v["exercise"].get("summary") or {}).get(measure))
            if comparable(measure, unit, v["exercise"]) else None for v in visits]


def measure_repeatability(visits: list[dict], measure: str,
                          unit: str | None = None) -> Repeatability:
    """ICC(3,1), SEM and MDC95 of `measure` over the visits' complete repetitions."""
    per_session = [rep_values(v["exercise"].get("per_rep") or [], measure)
                   for v in visits if comparable(measure, unit, v["exercise"])]
    return repeatability(per_session)


@dataclass(frozen=True)
class Band:
    """First visit's value +- the MDC95 of a session mean; `reason` when there is none."""

    centre: float | None
    half_width: float | None
    n_reps: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.centre is not None and self.half_width is not None


def band(values: list[float | None], rel: Repeatability) -> Band:
    first = next((v for v in values if v is not None), None)
    if first is None:
        return Band(None, None, reason="no visit has this measure")
    if not rel.ok:
        return Band(first, None, reason=f"no band yet: {rel.reason}")
    return Band(first, rel.mdc95_mean, rel.n_reps)


def change_text(values: list[float | None], b: Band, unit: str) -> str:
    """'Change since the first visit: +12.0 deg (beyond the 6.1 deg smallest real
    change)' and the like."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return "Change since the first visit: needs two visits with a value"
    change = known[-1] - known[0]
    text = f"Change since the first visit: {change:+.1f} {unit}".rstrip()
    if not b.ok:
        return text + f" ({b.reason})"
    side = "within" if abs(change) < b.half_width else "beyond"
    return text + f" ({side} the {b.half_width:.1f} {unit} smallest real change)".replace(
        "  ", " ")


@dataclass(frozen=True)
class GoalProgress:
    latest: float | None  # the latest visit's value that has one
    when: str | None  # that visit's start
    met: bool | None
    to_go: float | None  # how far from the goal (0 when met)
    text: str


def goal_progress(goal: dict, visits: list[dict], mdc: float | None = None) -> GoalProgress:
    """The latest visit's value against the goal: met or not, and how far to go. With
    the measure's MDC95 of a session mean, a gap smaller than it is said to be within
    measurement noise."""
    values = series(visits, goal["measure"], goal.get("unit"))
    idx = next((i for i in reversed(range(len(values))) if values[i] is not None), None)
    unit = goal.get("unit") or ""
    if idx is None:
        return GoalProgress(None, None, None, None, "no visit with this measure yet")
    latest, target = values[idx], goal["value"]
    gap = target - latest if goal["direction"] == "at_least" else latest - target
    when = visits[idx].get("started")
    shown = f"latest {latest:.1f} {unit}".rstrip()
    if gap <= 0:
        return GoalProgress(latest, when, True, 0.0, f"met ({shown})")
    text = f"not yet, {gap:.1f} {unit} to go ({shown})".replace("  ", " ")
    if mdc is not None and gap < mdc:
        text += f"; the gap is within the {mdc:.1f} {unit} measurement noise".replace(
            "  ", " ")
    return GoalProgress(latest, when, False, gap, text)


def goal_status(goal: dict, visits: list[dict]) -> GoalProgress:
    """`goal_progress` with the measure's own MDC95 of a session mean from the visits."""
    rel = measure_repeatability(visits, goal["measure"], goal.get("unit"))
    return goal_progress(goal, visits, rel.mdc95_mean if rel.ok else None)


def table_measures(visits: list[dict]) -> list[str]:
    """The per-visit and reliability tables' measures: the counted range, the primary
    joint's maximum per side (the columns some visit has), the range symmetry."""
    cols = primary_columns(visits[-1]["exercise"]) if visits else []
    have = {k for v in visits for k in (v["exercise"].get("summary") or {})
            if _value(v["exercise"]["summary"][k]) is not None}
    maxima = [f"{c}_max" for c in cols if f"{c}_max" in have]
    return [RANGE, *maxima, SYMMETRY]


def visit_row(visit: dict) -> dict:
    """Counts of one visit: complete and incomplete repetitions."""
    e = visit["exercise"]
    reps = _value(e.get("reps"))
    inc = _value(e.get("incomplete"))
    return {"reps": int(reps) if reps is not None else 0,
            "incomplete": int(inc) if inc is not None else 0,
            "unit": counted_unit(e) or ""}
