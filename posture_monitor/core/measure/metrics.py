"""Compute the posture metrics of one frame from landmarks, following `definitions.METRICS`.

No reading beats a wrong one: a metric is left as None, with a reason in `flags`, when its
view does not apply, a landmark it needs is out of frame or poorly visible, or the
trunk is implausible (hips guessed under a desk). The 3D metrics of every view read the
world landmarks in level axes when the camera's tilt is given (camera_tilt.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.common.settings import QualitySettings
from posture_monitor.core.measure.camera_tilt import NOT_REMOVED_FLAG, CameraTilt, landmark_problem
from posture_monitor.core.measure.definitions import (
    ANY_VIEW,
    FRONTAL_VIEWS,
    METRICS,
    SIDE_VIEWS,
    TILT_KINDS,
    MetricDef,
)
from posture_monitor.core.vision.landmarks import INDEX
from posture_monitor.core.vision.pose import Pose

# Landmarks whose visibility goes into the CSV (the ones metrics rest on).
KEY_LANDMARKS = ("nose", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                 "left_hip", "right_hip")  # fmt: skip


@dataclass
class Measurement:
    view: str  # one of definitions.VIEWS
    yaw_deg: float | None  # shoulder-line yaw the view was read from
    values: dict[str, float | None]  # metric column -> value or None
    flags: list[str] = field(default_factory=list)  # "metric:reason" or a frame-level reason
    quality: float | None = None  # mean visibility of the key landmarks
    visibility: dict[str, float] = field(default_factory=dict)


def _empty(view: str, yaw: float | None, flag: str) -> Measurement:
    return Measurement(view, yaw, {m.column: None for m in METRICS}, [flag])


def shoulder_yaw_deg(pose: Pose) -> float:
    """Yaw of the right->left shoulder line in world coordinates.

    0 = facing the camera; negative = the subject's left side turned towards the camera
    (left shoulder nearer); +-180 = back to the camera.
    """
    d = pose.world[INDEX["left_shoulder"]] - pose.world[INDEX["right_shoulder"]]
    return math.degrees(math.atan2(d[2], d[0]))


def classify_view(yaw_deg: float, q: QualitySettings) -> str:
    a = abs(yaw_deg)
    if a <= q.front_max_yaw_deg:
        return "front"
    if a >= q.back_min_yaw_deg:
        return "back"
    if q.side_min_yaw_deg <= a <= q.side_max_yaw_deg:
        return "left" if yaw_deg < 0 else "right"
    return "oblique"


class _Frame:
    """Landmark access for one frame in pixels, with per-landmark usability."""

    def __init__(self, pose: Pose, width: int, height: int, q: QualitySettings,
                 tilt: CameraTilt | None = None) -> None:
        self.px = pose.image[:, :2] * (width, height)
        self.pose = pose
        self.q = q
        # World landmarks in level axes (y along gravity) when the camera's tilt is known;
        # else the camera's own axes. Only the 3D kinds that measure against the vertical
        # read these: head_fwd_cm keeps the camera's axes (its alerts compare within a
        # set-up, calibrated so).
        self.level = pose.world if tilt is None else tilt.level(pose.world)

    def problem(self, name: str) -> str | None:
        return landmark_problem(self.pose, name, self.q)

    @staticmethod
    def _names(role: str, side: str | None) -> tuple[str, ...]:
        if role.startswith("mid_"):
            base = role[4:]
            return (f"left_{base}", f"right_{base}")
        if role in ("ear", "shoulder", "hip", "eye"):
            return (f"{side}_{role}",)
        return (role,)

    def point(self, role: str, side: str | None, world: bool = False
              ) -> tuple[np.ndarray | None, str | None]:
        """Pixel position (or world position in metres) of a role, or (None, reason).

        World points obey the same visibility rules: MediaPipe's 3D guess of an occluded
        ear is no better than its 2D guess."""
        names = self._names(role, side)
        for name in names:
            reason = self.problem(name)
            if reason:
                return None, reason
        source = self.pose.world if world else self.px
        return np.mean([source[INDEX[n]] for n in names], axis=0), None

    def points(self, roles: tuple[str, ...]) -> tuple[list[np.ndarray] | None, str | None]:
        """Level world positions of several roles, or (None, the first reason)."""
        out = []
        for role in roles:
            names = self._names(role, None)
            reason = next((r for n in names if (r := self.problem(n))), None)
            if reason:
                return None, reason
            out.append(np.mean([self.level[INDEX[n]] for n in names], axis=0))
        return out, None

    def body_axes(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(forward, up) unit vectors of the body in world coordinates: up is the camera's
        up (MediaPipe's world y points down), forward is horizontal, perpendicular to the
        shoulder line and pointing where the face points. None when degenerate."""
        w = self.pose.world
        shoulder_line = w[INDEX["left_shoulder"]] - w[INDEX["right_shoulder"]]
        up = np.array([0.0, -1.0, 0.0])
        forward = np.cross(shoulder_line, up)  # right-handed: left x up = towards the face
        forward[1] = 0.0
        norm = float(np.linalg.norm(forward))
        if norm < 1e-6:
            return None
        return forward / norm, up


def _angle(kind: str, along: float, up: float) -> float:
    if kind == "from_horizontal":
        return math.degrees(math.atan2(up, along))
    return math.degrees(math.atan2(along, up))  # from_vertical


def _hips_problem(fr: _Frame, side: str | None) -> str | None:
    """Reject hips MediaPipe guessed (desk, out of frame) that still look visible."""
    q = fr.q
    hips = ("left", "right") if side is None else (side,)
    for s in hips:
        reason = fr.problem(f"{s}_hip")
        if reason:
            return reason
    w = fr.pose.world
    torso_m = float(np.linalg.norm(
        (w[INDEX["left_shoulder"]] + w[INDEX["right_shoulder"]]) / 2
        - (w[INDEX["left_hip"]] + w[INDEX["right_hip"]]) / 2
    ))
    if not q.torso_min_m <= torso_m <= q.torso_max_m:
        return "implausible:torso_length"
    s = side or "left"
    neck_px = np.linalg.norm(fr.px[INDEX[f"{s}_ear"]] - fr.px[INDEX[f"{s}_shoulder"]])
    torso_px = np.linalg.norm(fr.px[INDEX[f"{s}_hip"]] - fr.px[INDEX[f"{s}_shoulder"]])
    if torso_px < q.torso_min_neck_ratio * neck_px:
        return "implausible:torso_short"
    return None


# Average adult head for the frontal pitch estimate (cm): the nose tip sits this far ahead
# of and below the tragus, and the tragi this far apart (bitragion breadth about 14-15 cm,
# e.g. ANSUR II 2012 means 14.6 men / 13.9 women). The same geometry as the synthetic
# generator's head (training/synthetic.py), so training and measurement agree.
NOSE_AHEAD_OF_TRAGUS_CM = 10.5
NOSE_BELOW_TRAGUS_CM = 2.0
BITRAGION_CM = 15.0


def _face_pitch_deg(mid_ear: np.ndarray, nose: np.ndarray, left_ear: np.ndarray,
                    right_ear: np.ndarray) -> float | None:
    """Chin down (+) / up (-) from a front view, from how far the nose sits below the ear
    line relative to the ear-to-ear width. Measured perpendicular to the ear line, so a
    tilted head does not read as pitch. A nose tip `a` ahead and `d` below the tragus drops
    a*sin(p) + d*cos(p) below the ear line at pitch p; solved for p."""
    ear_line = left_ear - right_ear
    width = float(np.linalg.norm(ear_line))
    if width < 1.0:
        return None
    down = np.array([-ear_line[1], ear_line[0]]) / width  # ear line turned 90 deg
    if down[1] < 0:
        down = -down  # image y grows downwards: "down" must point down the picture
    drop_cm = float(np.dot(nose - mid_ear, down)) / width * BITRAGION_CM
    a, d = NOSE_AHEAD_OF_TRAGUS_CM, NOSE_BELOW_TRAGUS_CM
    r = math.hypot(a, d)
    s = max(-1.0, min(1.0, drop_cm / r))
    return math.degrees(math.asin(s) - math.atan2(d, a))


def _measure_world(m: MetricDef, fr: _Frame, side: str | None) -> tuple[float | None, str | None]:
    """head_fwd_cm, from MediaPipe's world landmarks in the camera's axes (front view)."""
    start_role, end_role = m.segments[0]
    a, reason = fr.point(start_role, side, world=True)
    if a is None:
        return None, reason
    b, reason = fr.point(end_role, side, world=True)
    if b is None:
        return None, reason
    axes = fr.body_axes()
    if axes is None:
        return None, "implausible:shoulder_width"
    forward, _ = axes
    return m.sign * float(np.dot(b - a, forward)) * 100.0, None  # forward_3d_cm


UP = np.array([0.0, -1.0, 0.0])  # level (and camera) axes: y points down
# Below this share of its length in the horizontal, the shoulder line gives no forward
# direction (the person lies on their side: more than about 75 deg of shoulder tilt).
MIN_HORIZONTAL_SHOULDER = 0.25


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return None if n < 1e-9 else v / n


def _measure_3d(m: MetricDef, fr: _Frame) -> tuple[float | None, str | None]:
    """The every-view 3D kinds (definitions.py), in level world axes."""
    start_role, end_role = m.segments[0]
    p, reason = fr.points((start_role, end_role, "left_shoulder", "right_shoulder"))
    if p is None:
        return None, reason
    a, b, ls, rs = p
    d = b - a
    if m.kind == "neck_sagittal_3d":
        hip, reason = fr.points(("mid_hip",))
        if hip is None:
            return None, reason
        # The trunk's own frame (as joint_angles' 3D angles): up along the trunk, left the
        # shoulder line made perpendicular to it, forward = left x up (where the face is).
        up = _unit(a - hip[0])
        left = None if up is None else _unit((ls - rs) - np.dot(ls - rs, up) * up)
        if up is None or left is None:
            return None, "implausible:trunk"
        forward = np.cross(left, up)
        return m.sign * math.degrees(math.atan2(float(np.dot(d, forward)),
                                                float(np.dot(d, up)))), None
    shoulder = ls - rs
    horizontal = np.array([shoulder[0], 0.0, shoulder[2]])
    if np.linalg.norm(horizontal) < MIN_HORIZONTAL_SHOULDER * np.linalg.norm(shoulder):
        return None, "implausible:shoulder_line"
    left = horizontal / np.linalg.norm(horizontal)
    forward = np.cross(left, UP)  # right-handed axes: left x up points where the face does
    if m.kind == "forward_level_cm":
        return m.sign * float(np.dot(d, forward)) * 100.0, None
    rise = float(np.dot(d, UP))
    if m.kind == "tilt_3d":
        return math.degrees(math.atan2(float(np.linalg.norm(d - rise * UP)), rise)), None
    across = forward if m.kind == "sagittal_3d" else left  # frontal_3d
    return m.sign * math.degrees(math.atan2(float(np.dot(d, across)), rise)), None


def _shoulder_width_px(fr: _Frame, side: str | None) -> tuple[float, str | None]:
    ls, reason_l = fr.point("left_shoulder", side)
    rs, reason_r = fr.point("right_shoulder", side)
    width = float(np.linalg.norm(ls - rs)) if ls is not None and rs is not None else 0.0
    if width <= 1.0:
        return 0.0, reason_l or reason_r or "implausible:shoulder_width"
    return width, None


def _measure_one(m: MetricDef, fr: _Frame, side: str | None, along_sign: float,
                 hips_reason: str | None) -> tuple[float | None, str | None]:
    if m.needs_hips and hips_reason:
        return None, hips_reason
    if m.kind == "forward_3d_cm":
        return _measure_world(m, fr, side)
    reason = None
    for start_role, end_role in m.segments:  # first usable segment wins
        a, reason = fr.point(start_role, side)
        if a is None:
            continue
        b, reason = fr.point(end_role, side)
        if b is None:
            continue
        along = (b[0] - a[0]) * along_sign
        up = a[1] - b[1]  # image y grows downwards
        if m.kind in ("ratio", "width_ratio"):
            width, reason = _shoulder_width_px(fr, side)
            if reason:
                return None, reason
            size = up if m.kind == "ratio" else float(np.linalg.norm(b - a))
            return m.sign * size / width, None
        if m.kind == "face_pitch":
            le, reason = fr.point("left_ear", side)
            re, reason_r = fr.point("right_ear", side)
            if le is None or re is None:
                return None, reason or reason_r
            pitch = _face_pitch_deg(a, b, le, re)
            if pitch is None:
                return None, "implausible:ear_width"
            return m.sign * pitch, None
        return m.sign * _angle(m.kind, along, up), None
    return None, reason


def measure(pose: Pose | None, width: int, height: int, q: QualitySettings | None = None,
            tilt: CameraTilt | None = None) -> Measurement:
    """All metrics of one frame. `width`/`height` are the frame's pixel size; `tilt` is the
    stream's camera tilt (camera_tilt.py), None when it was not estimated."""
    q = q or QualitySettings()
    if pose is None:
        return _empty("unknown", None, "no_pose")
    fr = _Frame(pose, width, height, q, tilt)
    out = _measure_frame(fr, q)
    if tilt is None and any(out.values[m.column] is not None for m in METRICS
                            if m.kind in TILT_KINDS):
        out.flags.append(NOT_REMOVED_FLAG)  # last: the reasons for empty values come first
    return out


def _measure_frame(fr: _Frame, q: QualitySettings) -> Measurement:
    pose = fr.pose
    shoulder_issue = fr.problem("left_shoulder") or fr.problem("right_shoulder")
    visibility = {n: float(pose.visibility[INDEX[n]]) for n in KEY_LANDMARKS}
    quality = float(np.mean(list(visibility.values())))
    if shoulder_issue:
        out = _empty("unknown", None, f"view:{shoulder_issue}")
        out.quality, out.visibility = quality, visibility
        return out
    yaw = shoulder_yaw_deg(pose)
    view = classify_view(yaw, q)
    out = Measurement(view, yaw, {m.column: None for m in METRICS}, [], quality, visibility)
    _measure_any_view(out, fr)
    if view not in SIDE_VIEWS and view not in FRONTAL_VIEWS:
        # oblique: 2D angles would be biased; back: left and right may be swapped
        out.flags.append(f"view:{view}")
        return out

    if view in SIDE_VIEWS:
        side = view  # the subject's side that faces the camera
        ear, reason = fr.point("ear", side)
        nose = fr.px[INDEX["nose"]]
        shoulder = fr.px[INDEX[f"{side}_shoulder"]]
        facing = 0.0 if ear is None else float(nose[0] - ear[0])
        neck = 0.0 if ear is None else float(np.linalg.norm(ear - shoulder))
        if ear is None or abs(facing) < q.min_facing_offset * max(neck, 1.0):
            # Without knowing which way the person faces, "forward" has no sign.
            for m in _view_metrics(view):
                out.flags.append(f"{m.column}:{reason or 'facing_unclear'}")
            return out
        along_sign = 1.0 if facing > 0 else -1.0
    else:
        side = None
        dx = fr.px[INDEX["left_shoulder"], 0] - fr.px[INDEX["right_shoulder"], 0]
        along_sign = 1.0 if dx >= 0 else -1.0  # towards the subject's left in the image

    metrics = _view_metrics(view)
    hips_reason = None
    if any(m.needs_hips for m in metrics):
        hips_reason = _hips_problem(fr, side)
    for m in metrics:
        value, reason = _measure_one(m, fr, side, along_sign, hips_reason)
        out.values[m.column] = value
        if reason:
            out.flags.append(f"{m.column}:{reason}")
    return out


def _view_metrics(view: str) -> list[MetricDef]:
    """The 2D (and front-view 3D) metrics measured in `view`; the view column says why the
    others are empty. The every-view 3D ones are measured by _measure_any_view."""
    return [m for m in METRICS if view in m.views and m.views != ANY_VIEW]


def _measure_any_view(out: Measurement, fr: _Frame) -> None:
    """The 3D metrics of every view: before any view-specific early return, so oblique and
    back views (and side views of unclear facing) still read them."""
    metrics = [m for m in METRICS if m.views == ANY_VIEW]
    hips_reason = _hips_problem(fr, None) if any(m.needs_hips for m in metrics) else None
    for m in metrics:
        value, reason = (None, hips_reason) if m.needs_hips and hips_reason else _measure_3d(
            m, fr)
        out.values[m.column] = value
        if reason:
            out.flags.append(f"{m.column}:{reason}")
