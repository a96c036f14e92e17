"""Form checks during a repetition: each a screening cue with a threshold that is a
setting (core/common/settings.py SETTINGS, with the default's source), never a diagnosis.

A check watches one column (a joint angle or a posture metric; sided joints on each
side) while a repetition is under way and fires once per repetition and side, once its
condition has held for `HOLD_S` (a landmark that jumps for a frame or two says nothing),
so the window can speak the cue at once and the repetition's row lists it. The same
`FormWatch` runs live and in `analyze`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from posture_monitor.core.common.settings import SETTINGS
from posture_monitor.core.measure.definitions import METRIC_BY_COLUMN
from posture_monitor.core.measure.joints import JOINT_BY_NAME, SIDES

HOLD_S = 0.2  # a condition must hold this long (6 frames at 30 fps) before its cue


@dataclass(frozen=True)
class FormCheck:
    name: str
    title: str
    source: str  # a joint name (its 2D columns) or a posture metric column
    stat: str  # "above": value > t; "below": value < -t; "rise": value - at start > t;
    # "beyond": |value| > t
    setting: str  # the SETTINGS entry holding the threshold
    cue: str  # what the window says or shows

    def columns(self) -> tuple[tuple[str, str | None], ...]:
        """(column, side) pairs this check watches."""
        if self.source in METRIC_BY_COLUMN:
            return ((self.source, None),)
        joint = JOINT_BY_NAME[self.source]
        if not joint.sided:
            return ((joint.column(), None),)
        return tuple((joint.column(s), s) for s in SIDES)

    def threshold(self, thresholds: dict[str, float] | None = None) -> float:
        if thresholds and self.setting in thresholds:
            return float(thresholds[self.setting])
        return float(SETTINGS[self.setting].default)


CHECKS: dict[str, FormCheck] = {c.name: c for c in (
    FormCheck("trunk_lean", "Trunk lean", "trunk_flex", "above", "form_trunk_lean_deg",
              "Chest up"),
    FormCheck("knee_valgus", "Knee falls inward", "knee_valgus", "above",
              "form_knee_valgus_deg", "Knees out over your toes"),
    FormCheck("heel_lift", "Heel lifts", "heel_lift", "rise", "form_heel_lift_deg",
              "Keep your heels down"),
    FormCheck("lean_back", "Leaning back", "trunk_flex", "below", "form_lean_back_deg",
              "Stand tall, do not lean back"),
    FormCheck("lateral_lean", "Leaning sideways", "lateral_lean_deg", "beyond",
              "form_lateral_lean_deg", "Keep your trunk upright"),
    FormCheck("uneven_arms", "Uneven arm height", "arm_height_diff", "beyond",
              "form_arm_height_diff", "Raise both arms evenly"),
)}


@dataclass
class Fault:
    check: str
    side: str | None
    t: float
    value: float

    @property
    def label(self) -> str:
        return self.check if self.side is None else f"{self.check}:{self.side}"


@dataclass
class FormWatch:
    """The checks of one exercise over one repetition: `start()` when it begins,
    `update(t, values)` per frame (returns the faults new at that frame)."""

    checks: tuple[FormCheck, ...]
    thresholds: dict[str, float] | None = None
    faults: list[Fault] = field(default_factory=list)
    _start: dict[str, float] = field(default_factory=dict)
    _fired: set[str] = field(default_factory=set)
    _since: dict[str, tuple[float, float]] = field(default_factory=dict)

    def start(self, values_at_start: dict[str, float | None]) -> None:
        self.faults, self._fired, self._since = [], set(), {}
        self._start = {c: v for c, v in values_at_start.items() if v is not None}

    def update(self, t: float, values: dict[str, float | None],
               only_side: str | None = None) -> list[Fault]:
        """`only_side`: watch that side's limb only (the near one in a side view)."""
        new = []
        for check in self.checks:
            limit = check.threshold(self.thresholds)
            for column, side in check.columns():
                if only_side is not None and side is not None and side != only_side:
                    continue
                value = values.get(column)
                key = f"{check.name}:{side}"
                if value is None or key in self._fired:
                    continue
                if check.stat == "rise":
                    if column not in self._start:
                        self._start[column] = value  # first reading of this repetition
                        continue
                    hit = value - self._start[column] > limit
                elif check.stat == "above":
                    hit = value > limit
                elif check.stat == "below":
                    hit = value < -limit
                else:
                    hit = abs(value) > limit
                if not hit:
                    self._since.pop(key, None)
                    continue
                since = self._since.setdefault(key, (t, value))
                if t - since[0] >= HOLD_S:
                    self._fired.add(key)
                    fault = Fault(check.name, side, since[0], since[1])
                    self.faults.append(fault)
                    new.append(fault)
        return new
