"""A patient's gait across visits, from the stored gait sessions (oldest first, as
gait_store.gait_sessions gives them): the value of a measure per visit, its noise, the
smallest-real-change band around the first visit, and how far the latest visit is from
a goal. Plain data, shared by the report and the command line.

How the noise is obtained, and what it is not. The store keeps, per visit, each foot's
mean, SD and count of the steps (not the steps themselves), so no ICC is computed here:
the ICC(3,1) of core/movement/reliability.py needs the single values of every session.
What the per-visit numbers do give is the standard error of each visit's mean:

* a per-foot mean (step time, stance %, step length): SEM = step-to-step SD / sqrt(n),
  n the steps of that foot with a value;
* cadence = 60 / mean step time of all steps: the step times of both feet pooled (mean,
  SD, n), then SEM(cadence) = 60 x SEM(mean step time) / mean step time^2 (first-order
  error propagation);
* a symmetry ratio 100 x min(L, R) / max(L, R): SEM = ratio x sqrt((SEM_L / L)^2 +
  (SEM_R / R)^2), from the two feet's means (first-order; near 100 % the ratio is capped
  and the true spread is smaller than this).

The band uses SEM = the root mean square of those visits' SEMs (the visits whose SD is
known: 2 or more values), and MDC95 = 1.96 x sqrt(2) x SEM (reliability.mdc95): the
difference between two visit means that is larger than 95 % of the differences that
step-to-step scatter alone would make. It is within-session noise only: whatever makes
whole visits differ (another camera place, another day, shoes, walking speed asked for)
is not in it, so the real noise between visits is at least this large. With few steps
the SD itself is rough (ROUGH_BELOW_DF degrees of freedom), and the report says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from posture_monitor.core.movement.reliability import ROUGH_BELOW_DF, mdc95
from posture_monitor.core.records.exercise_progress import Band, GoalProgress
from posture_monitor.core.records.gait_store import (
    MEASURE_BY_NAME,
    GaitMeasure,
    foot_stats,
    measure_value,
)

FEET = ("left", "right")


def series(visits: list[dict], measure: str) -> list[float | None]:
    """The measure's value per visit (None where a visit has none)."""
    m = MEASURE_BY_NAME[measure]
    return [measure_value(v["gait"], m) for v in visits]


def _sem_of_mean(sd: float | None, n: int) -> float | None:
    return sd / math.sqrt(n) if sd is not None and n >= 2 else None


def _pooled(gait: dict, key: str) -> tuple[float | None, float | None, int]:
    """Mean, SD and n of both feet's values of `key` together, from each foot's mean,
    SD and n (the exact pooled sample variance; a foot of one value adds no spread)."""
    parts = [foot_stats(gait, key, f) for f in FEET]
    parts = [(m, sd or 0.0, n) for m, sd, n in parts if m is not None and n >= 1]
    total = sum(n for _, _, n in parts)
    if total < 2:
        return None, None, total
    mean = sum(m * n for m, _, n in parts) / total
    ss = sum((n - 1) * sd ** 2 + n * (m - mean) ** 2 for m, sd, n in parts)
    return mean, math.sqrt(ss / (total - 1)), total


def visit_sem(gait: dict, m: GaitMeasure) -> tuple[float | None, int]:
    """The standard error of one visit's value of `m`, and the degrees of freedom of the
    SD it rests on; (None, 0) where the visit cannot give one."""
    if m.kind == "foot":
        _, sd, n = foot_stats(gait, m.key, m.side)
        return _sem_of_mean(sd, n), max(n - 1, 0)
    if m.kind == "cadence":
        mean, sd, n = _pooled(gait, "step_time_s")
        se = _sem_of_mean(sd, n)
        if se is None or not mean:
            return None, 0
        return 60.0 * se / mean ** 2, n - 1
    ratio = measure_value(gait, m)
    sides = [foot_stats(gait, m.key, f) for f in FEET]
    ses = [_sem_of_mean(sd, n) for _, sd, n in sides]
    if ratio is None or any(s is None for s in ses) or any(not mean for mean, _, _ in sides):
        return None, 0
    rel = math.sqrt(sum((se / abs(mean)) ** 2 for se, (mean, _, _) in zip(ses, sides,
                                                                         strict=True)))
    return ratio * rel, sum(n - 1 for _, _, n in sides)


@dataclass(frozen=True)
class Noise:
    """A measure's SEM of a visit value and its MDC95, or the reason there is none."""

    sem: float | None = None
    mdc95: float | None = None
    visits_used: int = 0
    df: int = 0  # degrees of freedom of the SDs the SEM rests on, all visits together
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.sem is not None

    @property
    def rough(self) -> bool:
        return self.ok and self.df < ROUGH_BELOW_DF


def measure_noise(visits: list[dict], measure: str) -> Noise:
    m = MEASURE_BY_NAME[measure]
    found = [s for s in (visit_sem(v["gait"], m) for v in visits) if s[0] is not None]
    if not found:
        need = ("2 or more steps of each foot" if m.kind != "foot"
                else f"2 or more {m.side} steps")
        return Noise(reason=f"needs a visit with {need} that have this value")
    sem = math.sqrt(sum(s ** 2 for s, _ in found) / len(found))
    return Noise(sem, mdc95(sem), len(found), sum(df for _, df in found))


def band(values: list[float | None], noise: Noise) -> Band:
    """First visit's value +- the MDC95; `reason` when there is none."""
    first = next((v for v in values if v is not None), None)
    if first is None:
        return Band(None, None, reason="no visit has this measure")
    if not noise.ok:
        return Band(first, None, reason=f"no band yet: {noise.reason}")
    return Band(first, noise.mdc95, noise.df)


def fmt(value: float | None, m: GaitMeasure, unit: bool = True) -> str:
    if value is None:
        return "no reading"
    return f"{value:.{m.digits}f} {m.unit if unit else ''}".rstrip()


def change_text(values: list[float | None], b: Band, measure: str) -> str:
    """'Change since the first visit: +0.050 s (beyond the 0.021 s smallest real
    change)' and the like."""
    m = MEASURE_BY_NAME[measure]
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return "Change since the first visit: needs two visits with a value"
    change = known[-1] - known[0]
    text = f"Change since the first visit: {change:+.{m.digits}f} {m.unit}"
    if not b.ok:
        return f"{text} ({b.reason})"
    side = "within" if abs(change) < b.half_width else "beyond"
    return f"{text} ({side} the {fmt(b.half_width, m)} smallest real change)"


def goal_progress(goal: dict, visits: list[dict], noise: Noise | None = None
                  ) -> GoalProgress:
    """The latest visit's value against the goal: met or not, and how far to go; a gap
    smaller than the MDC95 is said to be within measurement noise."""
    m = MEASURE_BY_NAME.get(goal["measure"])
    if m is None:  # a goal this version does not know: shown, not followed
        return GoalProgress(None, None, None, None, "not a gait measure of this version")
    values = series(visits, m.name)
    idx = next((i for i in reversed(range(len(values))) if values[i] is not None), None)
    if idx is None:
        return GoalProgress(None, None, None, None, "no visit with this measure yet")
    latest, target = values[idx], goal["value"]
    gap = target - latest if goal["direction"] == "at_least" else latest - target
    when = visits[idx].get("started")
    shown = f"latest {fmt(latest, m)}"
    if gap <= 0:
        return GoalProgress(latest, when, True, 0.0, f"met ({shown})")
    text = f"not yet, {fmt(gap, m)} to go ({shown})"
    if noise is not None and noise.ok and gap < noise.mdc95:
        text += f"; the gap is within the {fmt(noise.mdc95, m)} measurement noise"
    return GoalProgress(latest, when, False, gap, text)


def goal_status(goal: dict, visits: list[dict]) -> GoalProgress:
    """`goal_progress` with the measure's own MDC95 from the visits."""
    noise = (measure_noise(visits, goal["measure"]) if goal["measure"] in MEASURE_BY_NAME
             else None)
    return goal_progress(goal, visits, noise)


def visit_row(visit: dict) -> dict:
    """Counts of one visit: heel strikes and full strides per foot."""
    g = visit["gait"]
    strides = g.get("strides") or {}
    steps = g.get("steps")
    return {"steps": steps if isinstance(steps, int) else 0,
            "strides": {f: strides.get(f) if isinstance(strides.get(f), int) else 0
                        for f in FEET}}
