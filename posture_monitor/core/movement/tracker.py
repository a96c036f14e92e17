"""One exercise over a stream of frames: the counted signal, repetitions with their
statistics, form cues, and the session's summary. Used alike by `analyze --exercise`
(frame after frame of a file) and the window's exercise mode (live).

Per repetition: start, peak and end time, duration and the two phases (to the peak and
back), the counted signal's rest, peak, range and peak speed, every reported joint's
minimum, maximum and range (2D where the view shows the joint's plane, else its 3D
column), the symmetry joint's left and right range and peak speed with their symmetry
index and ratio (kinematics.py), and the form cues that fired.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, METRIC_BY_COLUMN, SIDE_VIEWS
from posture_monitor.core.measure.joints import COLUMN_INFO, JOINT_BY_NAME, SIDES, column_title
from posture_monitor.core.movement.exercises import ExercisePreset, Primary
from posture_monitor.core.movement.form import CHECKS, Fault, FormWatch
from posture_monitor.core.movement.kinematics import (
    symmetry_index,
    symmetry_ratio,
    trailing_velocity,
    velocity,
)
from posture_monitor.core.movement.reps import Movement, RepCounter, RepRule

SIDE_CHOICES = ("both", "left", "right")
# Frames kept for the repetition under way (and for looking back to where it began):
# trimmed to this many whenever twice as many are held and nothing is under way.
KEEP_FRAMES = 900  # 30 s at 30 fps


def view_family(view: str) -> str | None:
    if view in SIDE_VIEWS:
        return "side"
    if view in FRONTAL_VIEWS:
        return "front"
    return None


@dataclass
class RepResult:
    movement: Movement
    family: str
    view: str
    signal: str  # the counted column(s), e.g. "knee_flex (mean of both sides)"
    unit: str
    duration_s: float
    to_peak_s: float
    from_peak_s: float
    peak_velocity: float | None  # the counted signal's, units per second
    angles: dict[str, tuple[float, float, float]]  # column -> (min, max, range)
    side_range: dict[str, float | None]
    side_speed: dict[str, float | None]
    faults: list[str] = field(default_factory=list)
    sides_from: str = ""  # "2D" or "3D": which columns the left/right figures come from

    @property
    def complete(self) -> bool:
        return self.movement.complete

    @property
    def range(self) -> float:
        return abs(self.movement.excursion)

    def symmetry(self) -> dict[str, float | None]:
        r, s = self.side_range, self.side_speed
        return {"range_si_pct": symmetry_index(r.get("left"), r.get("right")),
                "range_symmetry_pct": symmetry_ratio(r.get("left"), r.get("right")),
                "speed_si_pct": symmetry_index(s.get("left"), s.get("right")),
                "speed_symmetry_pct": symmetry_ratio(s.get("left"), s.get("right"))}

    def measures(self) -> dict[str, float | None]:
        """This repetition's numbers by name (the per-rep values summaries, goals and
        reliability are built from)."""
        out: dict[str, float | None] = {
            "range": self.range, "peak": self.movement.peak_value,
            "duration_s": self.duration_s, "to_peak_s": self.to_peak_s,
            "from_peak_s": self.from_peak_s, "peak_velocity": self.peak_velocity}
        for col, (lo, hi, rng) in self.angles.items():
            out[f"{col}_min"], out[f"{col}_max"], out[f"{col}_range"] = lo, hi, rng
        for side in SIDES:
            out[f"{side}_range"] = self.side_range.get(side)
            out[f"{side}_peak_speed"] = self.side_speed.get(side)
        out.update(self.symmetry())
        return out

    def row(self) -> dict[str, object]:
        """One row of <stem>_reps.csv."""
        m = self.movement
        row: dict[str, object] = {
            "rep": m.index, "complete": int(m.complete), "reason": m.reason,
            "start_s": m.start_s, "peak_s": m.peak_s, "end_s": m.end_s,
            "view": self.view, "signal": self.signal, "unit": self.unit, "rest": m.rest,
            "sides_from": self.sides_from}
        row.update(self.measures())
        row["faults"] = ";".join(self.faults)
        return row


@dataclass
class RepFinished:
    rep: RepResult


@dataclass
class FormCue:
    fault: Fault
    title: str
    cue: str


class ExerciseTracker:
    """Feed `update(t, view, values)` per frame (values: joint columns and posture
    metrics); it returns what happened at that frame (RepFinished, FormCue). `finish()`
    at the end reports a repetition still under way."""

    def __init__(self, preset: ExercisePreset, side: str = "both",
                 thresholds: dict[str, float] | None = None) -> None:
        if side not in SIDE_CHOICES:
            raise ValueError(f"side must be one of {SIDE_CHOICES}")
        self.preset, self.side = preset, side
        self.counters = {f: RepCounter(RepRule(p.direction, p.target, p.rest,
                                               min_duration_s=preset.min_duration_s))
                         for f, p in preset.primary.items()}
        self.watch = FormWatch(tuple(CHECKS[c] for c in preset.checks), thresholds)
        self.thresholds = thresholds or {}
        self.reps: list[RepResult] = []
        self.times: list[float] = []
        self.views: list[str] = []
        self.signal: list[float | None] = []
        self.values: list[dict[str, float | None]] = []
        self.columns = self._columns()
        self.faults = Counter()
        self._moving: str | None = None  # the family whose counter is under way

    def _columns(self) -> tuple[str, ...]:
        cols: list[str] = []
        for name in self.preset.joints:
            j = JOINT_BY_NAME[name]
            cols += j.columns() + j.columns(three_d=True)
        for check in self.watch.checks:
            cols += [c for c, _ in check.columns()]
        return tuple(dict.fromkeys(cols))

    # -- the counted signal -------------------------------------------------------
    def _sides(self) -> tuple[str, ...]:
        return SIDES if self.side == "both" else (self.side,)

    def primary_value(self, family: str | None, values: dict[str, float | None]
                      ) -> float | None:
        p = self.preset.primary.get(family) if family else None
        if p is None:
            return None
        joint = JOINT_BY_NAME[p.joint]
        if not joint.sided:
            return values.get(joint.column())
        got = [v for s in self._sides() if (v := values.get(joint.column(s))) is not None]
        if not got:
            return None
        return max(got) if p.combine == "max" and p.direction >= 0 else (
            min(got) if p.combine == "max" else float(np.mean(got)))

    def signal_name(self, p: Primary) -> str:
        joint = JOINT_BY_NAME[p.joint]
        if not joint.sided:
            return joint.column()
        if self.side != "both":
            return joint.column(self.side)
        how = "mean of both sides" if p.combine == "mean" else "the side that moves most"
        return f"{joint.name} ({how})"

    # -- per frame ------------------------------------------------------------------
    def update(self, t: float, view: str, values: dict[str, float | None]) -> list:
        family = view_family(view)
        value = self.primary_value(family, values)
        self.times.append(t)
        self.views.append(view)
        self.signal.append(value)
        self.values.append({c: values.get(c) for c in self.columns})
        events: list = []
        if len(self.times) > 2 * KEEP_FRAMES and self.state == "rest":
            self._trim()
        for fam, counter in self.counters.items():
            was = counter.state
            for movement in counter.update(t, value if fam == family else None):
                events.append(self._finished(fam, movement))
            if was == "rest" and counter.state != "rest":
                self._moving = fam
                events += self._begin_watch(movement_start=counter.start_s)
            elif counter.state != "rest" and self._moving == fam:
                events += self._cues(self.watch.update(t, self.values[-1], _near(view)))
        return events

    def _trim(self) -> None:
        """Forget frames no repetition can reach any more (the window may count for
        hours); the newest KEEP_FRAMES stay, enough for a repetition to look back to its
        start."""
        cut = len(self.times) - KEEP_FRAMES
        for buffer in (self.times, self.views, self.signal, self.values):
            del buffer[:cut]

    def finish(self) -> list:
        events = []
        for fam, counter in self.counters.items():
            for movement in counter.finish(self.times[-1] if self.times else None):
                events.append(self._finished(fam, movement))
        return events

    def _begin_watch(self, movement_start: float) -> list:
        """A repetition began (its start lies a little back, where it left rest): the
        checks start from the values there and see the frames since."""
        first = next(i for i, t in enumerate(self.times) if t >= movement_start)
        self.watch.start(self.values[first])
        events = []
        for i in range(first, len(self.times)):
            events += self._cues(self.watch.update(self.times[i], self.values[i],
                                                   _near(self.views[i])))
        return events

    def _cues(self, faults: list[Fault]) -> list:
        out = []
        for f in faults:
            check = CHECKS[f.check]
            self.faults[f.label] += 1
            out.append(FormCue(f, check.title, check.cue))
        return out

    @property
    def velocity_now(self) -> float | None:
        """The counted signal's speed at the newest frame (for live plots)."""
        return trailing_velocity(self.times, self.signal)

    @property
    def state(self) -> str:
        states = {c.state for c in self.counters.values()}
        return "moving" if states - {"rest"} else "rest"

    def complete_count(self) -> int:
        return sum(r.complete for r in self.reps)

    # -- a repetition's statistics --------------------------------------------------
    def _finished(self, family: str, m: Movement) -> RepFinished:
        p = self.preset.primary[family]
        idx = [i for i, t in enumerate(self.times) if m.start_s <= t <= m.end_s]
        t = np.array([self.times[i] for i in idx])
        views = Counter(self.views[i] for i in idx)
        view = views.most_common(1)[0][0] if views else ""
        sig = np.array([np.nan if self.signal[i] is None else self.signal[i] for i in idx])
        v = velocity(t, sig)
        angles = {}
        for col in self.columns:
            x = np.array([np.nan if (a := self.values[i].get(col)) is None else a
                          for i in idx])
            if np.isfinite(x).any():
                lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
                angles[col] = (lo, hi, hi - lo)
        side_range, side_speed, sides_from = self._sides_of(family, idx, t)
        faults = [f.label for f in self.watch.faults if m.start_s <= f.t <= m.end_s] \
            if self._moving == family else []
        self._moving = None
        rep = RepResult(m, family, view, self.signal_name(p), JOINT_BY_NAME[p.joint].unit,
                        m.end_s - m.start_s, m.peak_s - m.start_s, m.end_s - m.peak_s,
                        _finite_max(np.abs(v)), angles, side_range, side_speed, faults,
                        sides_from)
        self.reps.append(rep)
        return RepFinished(rep)

    def _sides_of(self, family: str, idx: list[int], t: np.ndarray
                  ) -> tuple[dict[str, float | None], dict[str, float | None], str]:
        """Left and right range and peak speed of the symmetry joint. 2D only where the
        view shows the joint's plane with both sides in sight (the front, for a frontal
        joint); a side view hides the far limb behind the body, and a front view cannot
        read a sagittal angle, so there both sides are compared in 3D (model-based)."""
        name = self.preset.symmetry
        if name is None:
            return {}, {}, ""
        joint = JOINT_BY_NAME[name]
        three_d = not (family == "front" and joint.views & FRONTAL_VIEWS)
        if three_d and not joint.has_3d:
            return {}, {}, ""
        ranges, speeds = {}, {}
        for s in SIDES:
            col = joint.column(s, three_d)
            x = np.array([np.nan if (a := self.values[i].get(col)) is None else a
                          for i in idx])
            ok = np.isfinite(x)
            ranges[s] = float(np.nanmax(x) - np.nanmin(x)) if ok.sum() >= 2 else None
            speeds[s] = _finite_max(np.abs(velocity(t, x))) if ok.sum() >= 3 else None
        return ranges, speeds, "3D" if three_d else "2D"

    # -- the session ----------------------------------------------------------------
    def summary(self) -> dict:
        """The sidecar's `exercise` object (and what the store keeps)."""
        complete = [r for r in self.reps if r.complete]
        return {
            "preset": self.preset.name,
            "title": self.preset.title,
            "side": self.side,
            "counted": {f: {"signal": self.signal_name(p), "column": p.joint,
                            "direction": p.direction, "target": p.target,
                            "unit": JOINT_BY_NAME[p.joint].unit, "target_source": p.source}
                        for f, p in self.preset.primary.items()},
            "view_to_film": self.preset.view,
            "reps": len(complete),
            "incomplete": len(self.reps) - len(complete),
            "discarded_movements": sum(c.discarded for c in self.counters.values()),
            "form_checks": {c.name: {"title": c.title, "threshold": c.threshold(
                self.thresholds), "setting": c.setting} for c in self.watch.checks},
            "form_faults": dict(self.faults),
            "per_rep": [_plain(r.row()) for r in self.reps],
            "summary": summary_measures(self.reps),
            "columns": {c: title(c) for c in self.columns},
            "symmetry": ("SI = |L - R| / (0.5 (L + R)) x 100 % (0 = symmetric); symmetry "
                         "= min/max x 100 % (100 = symmetric)"),
        }


def title(column: str) -> str:
    """A tracked column in words: a joint angle's title, or a posture metric's."""
    if column in COLUMN_INFO:
        return column_title(column)
    return METRIC_BY_COLUMN[column].short


def summary_measures(reps: list[RepResult]) -> dict[str, float | None]:
    """Means over the complete repetitions of every per-rep measure, with the counts."""
    complete = [r for r in reps if r.complete]
    out: dict[str, float | None] = {"reps": float(len(complete)),
                                    "incomplete": float(len(reps) - len(complete))}
    keys = dict.fromkeys(k for r in complete for k in r.measures())
    for k in keys:
        vals = [v for r in complete if (v := r.measures().get(k)) is not None
                and math.isfinite(v)]
        out[k] = float(np.mean(vals)) if vals else None
    return out


def _near(view: str) -> str | None:
    """The side facing the camera in a side view (form cues read only that limb: the far
    one is hidden behind the body), else None (both)."""
    return view if view in SIDE_VIEWS else None


def _finite_max(x: np.ndarray) -> float | None:
    x = x[np.isfinite(x)]
    return float(x.max()) if x.size else None


def _plain(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()}
