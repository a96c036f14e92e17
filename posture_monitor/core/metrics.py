"""Compute the posture metrics of one frame from landmarks, following `definitions.METRICS`.

No reading beats a wrong one: a metric is left as None, with a reason in `flags`, when its
view does not apply, a landmark it needs is out of frame or poorly visible, or the
trunk is implausible (hips guessed under a desk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.definitions import FRONTAL_VIEWS, METRICS, SIDE_VIEWS, MetricDef
from posture_monitor.core.landmarks import INDEX
from posture_monitor.core.pose import Pose
from posture_monitor.core.settings import QualitySettings

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

    def __init__(self, pose: Pose, width: int, height: int, q: QualitySettings) -> None:
        self.px = pose.image[:, :2] * (width, height)
        self.pose = pose
        self.q = q

    def problem(self, name: str) -> str | None:
        i = INDEX[name]
        x, y = self.pose.image[i, :2]
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            return f"out_of_frame:{name}"
        if self.pose.visibility[i] < self.q.min_visibility:
            return f"low_visibility:{name}"
        if self.pose.presence[i] < self.q.min_presence:
            return f"low_presence:{name}"
        return None

    def point(self, role: str, side: str | None) -> tuple[np.ndarray | None, str | None]:
        """Pixel position of a role, or (None, reason)."""
        if role.startswith("mid_"):
            base = role[4:]
            names = (f"left_{base}", f"right_{base}")
        elif role in ("ear", "shoulder", "hip", "eye"):
            names = (f"{side}_{role}",)
        else:
            names = (role,)
        for name in names:
            reason = self.problem(name)
            if reason:
                return None, reason
        return np.mean([self.px[INDEX[n]] for n in names], axis=0), None


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


def _measure_one(m: MetricDef, fr: _Frame, side: str | None, along_sign: float,
                 hips_reason: str | None) -> tuple[float | None, str | None]:
    if m.needs_hips and hips_reason:
        return None, hips_reason
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
        if m.kind == "ratio":
            ls, reason_l = fr.point("left_shoulder", side)
            rs, reason_r = fr.point("right_shoulder", side)
            width = float(np.linalg.norm(ls - rs)) if ls is not None and rs is not None else 0
            if width <= 1.0:
                return None, reason_l or reason_r or "implausible:shoulder_width"
            return m.sign * up / width, None
        return m.sign * _angle(m.kind, along, up), None
    return None, reason


def measure(pose: Pose | None, width: int, height: int,
            q: QualitySettings | None = None) -> Measurement:
    """All metrics of one frame. `width`/`height` are the frame's pixel size."""
    q = q or QualitySettings()
    if pose is None:
        return _empty("unknown", None, "no_pose")
    fr = _Frame(pose, width, height, q)
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
            for m in METRICS:
                if view in m.views:
                    out.flags.append(f"{m.column}:{reason or 'facing_unclear'}")
            return out
        along_sign = 1.0 if facing > 0 else -1.0
    else:
        side = None
        dx = fr.px[INDEX["left_shoulder"], 0] - fr.px[INDEX["right_shoulder"], 0]
        along_sign = 1.0 if dx >= 0 else -1.0  # towards the subject's left in the image

    hips_reason = None
    if any(m.needs_hips and view in m.views for m in METRICS):
        hips_reason = _hips_problem(fr, side)
    for m in METRICS:
        if view not in m.views:
            continue  # the view column says why
        value, reason = _measure_one(m, fr, side, along_sign, hips_reason)
        out.values[m.column] = value
        if reason:
            out.flags.append(f"{m.column}:{reason}")
    return out
