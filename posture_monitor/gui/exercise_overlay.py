"""Exercise mode on the picture: the counted joint's angle as an arc at that joint with
its value, in the style of the posture overlay (measured segment and arc in orange, the
reference in blue). A flexion is drawn against the straight line it is measured from
(the thigh continued past the knee), so the arc spans the very angle the label gives;
the hips' height is a vertical mark from the ankles up to the hips.

Only drawing: the value is the frame's own joint column (core/measure/joints.py); which
joint and which sides count is the exercise tracker's choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posture_monitor.core.measure.definitions import SIDE_VIEWS
from posture_monitor.core.measure.joints import JOINT_BY_NAME, SIDES
from posture_monitor.gui.overlay import MEASURED, REFERENCE, _angle_marks, _Painter, _Points

# Kinds (JointDef.kind) measured as the bend away from the line of the first segment
# continued through the joint.
_BENDS = ("flexion_backward", "flexion_forward", "bend", "flexion_up", "valgus")
ARC_FRAC = 0.4  # arc radius as a share of the measured segment (the CVA arc's)


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return v / n if n > 1.0 else None  # under a pixel: no direction to speak of


@dataclass(frozen=True)
class ExerciseMark:
    """What to draw for one frame: the counted joint (a JointDef name), the sides that
    count ("left", "right"), the frame's joint columns and the decimals to show."""

    joint: str
    sides: tuple[str, ...]
    values: dict[str, float | None]
    decimals: int = 0

    def __call__(self, pp: _Painter, pts: _Points, view: str) -> None:
        joint = JOINT_BY_NAME[self.joint]
        if not joint.sided:
            near = view if view in SIDE_VIEWS else "left"  # "{s}" of an unsided joint
            self._draw(pp, pts, near, self.values.get(joint.column()))
            return
        sides = self.sides
        if len(sides) == len(SIDES) and view in SIDE_VIEWS:
            sides = (view,)  # the far limb is hidden behind the body: mark the near one
        for side in sides:
            self._draw(pp, pts, side, self.values.get(joint.column(side)))

    def _text(self, value: float) -> str:
        joint = JOINT_BY_NAME[self.joint]
        if joint.unit == "deg":
            return f"{joint.short} {value:.{self.decimals}f}°"
        return f"{joint.short} {value:.2f}"

    def _draw(self, pp: _Painter, pts: _Points, side: str, value: float | None) -> None:
        joint = JOINT_BY_NAME[self.joint]
        points = [_point(pts, role, side) for role in joint.points]
        if value is None or any(p is None for p in points):
            return  # withheld or out of sight: nothing honest to draw
        kind, text = joint.kind, self._text(value)
        if kind in _BENDS or kind in ("shoulder_flexion", "abduction"):
            if kind in _BENDS:
                first, vertex, end = points
                along = _unit(vertex - first)  # the first segment, continued
            elif kind == "shoulder_flexion":  # hip, shoulder, elbow: from the trunk line
                first, vertex, end = points
                along = _unit(first - vertex)
            else:  # mid hip, mid shoulder, shoulder, elbow: the trunk line at the shoulder
                mid_hip, mid_sh, vertex, end = points
                along = _unit(mid_hip - mid_sh)
            length = float(np.linalg.norm(end - vertex))
            if along is None or length <= 1.0:
                return
            _angle_marks(pp, vertex, end, vertex + along * length * 0.8, ARC_FRAC)
            _tag_beyond_line(pp, text, vertex, along, end - vertex)
        elif kind == "segment_from_vertical":  # hip, shoulder: against the vertical
            hip, sh = points
            _angle_marks(pp, hip, sh, hip - (0.0, float(np.linalg.norm(sh - hip)) * 0.8),
                         0.3)
            pp.tag(text, hip, -1.0 if sh[0] > hip[0] else 1.0)
        elif kind == "hip_height":  # mid hip, mid ankle: a height, not an angle
            hip, ankle = points
            foot = np.array([hip[0], ankle[1]])
            tick = max(pp.radius * 2.5, abs(foot[1] - hip[1]) * 0.08)
            pp.line(foot - (tick, 0.0), foot + (tick, 0.0), REFERENCE)
            pp.line(hip - (tick, 0.0), hip + (tick, 0.0), MEASURED)
            pp.line(foot, hip, MEASURED)
            pp.tag(text, (foot + hip) / 2, 1.0)
        else:  # heel lift, pelvic tilt, arm height: the value beside its points
            pp.tag(text, np.mean(points, axis=0), 1.0)


def _tag_beyond_line(pp: _Painter, text: str, at: np.ndarray, along: np.ndarray,
                     away_from: np.ndarray) -> None:
    """The value beside `at`, on the side of the line through it (direction `along`)
    that `away_from` does not point to: the measured segment and its arc lie on the
    other side, and the line itself (a thigh, or the trunk) is not covered either."""
    normal = np.array([-along[1], along[0]])
    if float(np.dot(normal, away_from)) > 0:
        normal = -normal
    w, h = pp.box_size([text])
    # centre far enough out along the normal that the box clears the line
    reach = pp.radius * 2.0 + (abs(normal[0]) * w + abs(normal[1]) * h) / 2
    centre = at + normal * reach
    pp.box([text], centre[0] - w / 2, centre[1] - h / 2)


def _point(pts: _Points, role: str, side: str) -> np.ndarray | None:
    """A landmark role of the joint table in screen pixels: "{s}_knee" on `side`,
    "mid_hip" the two hips' midpoint, "left_hip" as named; None when not usable."""
    mid = role.startswith("mid_")
    names = [f"{s}_{role[4:]}" for s in SIDES] if mid else [role.format(s=side)]
    if not pts.ok(*names):
        return None
    return np.mean([pts[n] for n in names], axis=0)
