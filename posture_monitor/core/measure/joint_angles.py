"""Joint angles of one frame, following the table in joints.py: 2D in pixels (y up, turned
so +x is the person's forward or outward side) in the views whose plane the camera sees,
3D from MediaPipe's world landmarks in a trunk frame in every view; each empty value says
why in `flags`. Exact geometry of every angle and sign: tests/test_joint_geometry.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.common.settings import QualitySettings
from posture_monitor.core.measure.definitions import FRONTAL_VIEWS, SIDE_VIEWS
from posture_monitor.core.measure.joints import (
    ANGLE_COLUMNS,
    JOINT_BY_NAME,
    JOINTS,
    SIDES,
    JointDef,
)
from posture_monitor.core.vision.landmarks import INDEX
from posture_monitor.core.vision.pose import Pose


@dataclass
class JointMeasurement:
    values: dict[str, float | None] = field(
        default_factory=lambda: dict.fromkeys(ANGLE_COLUMNS))
    flags: list[str] = field(default_factory=list)  # "column:reason" where empty


def _signed(u: np.ndarray, v: np.ndarray) -> float:
    """Angle from u to v in degrees, counter-clockwise positive, in (-180, 180]."""
    return math.degrees(math.atan2(u[0] * v[1] - u[1] * v[0], u[0] * v[0] + u[1] * v[1]))


def _unsigned(u: np.ndarray, v: np.ndarray) -> float | None:
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    if nu < 1e-9 or nv < 1e-9:
        return None
    return math.degrees(math.acos(max(-1.0, min(1.0, float(np.dot(u, v)) / (nu * nv)))))


class _Points:
    """Landmark positions of one frame: 2D in pixels with y up (the functions below turn
    +x to the person's forward or outward side), and 3D world; usability of each
    landmark is worked out once per frame."""

    def __init__(self, pose: Pose, width: int, height: int, q: QualitySettings) -> None:
        self.pose, self.q = pose, q
        self.px = np.column_stack([pose.image[:, 0] * width, -pose.image[:, 1] * height])
        self._problems: dict[str, str | None] = {}
        self._frame: tuple | None = None

    def problem(self, name: str) -> str | None:
        if name not in self._problems:
            i = INDEX[name]
            x, y = self.pose.image[i, :2]
            reason = None
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                reason = f"out_of_frame:{name}"
            elif self.pose.visibility[i] < self.q.min_visibility:
                reason = f"low_visibility:{name}"
            elif self.pose.presence[i] < self.q.min_presence:
                reason = f"low_presence:{name}"
            self._problems[name] = reason
        return self._problems[name]

    @staticmethod
    def names(role: str, side: str | None) -> tuple[str, ...]:
        role = role.replace("{s}", side or "")
        if role.startswith("mid_"):
            return (f"left_{role[4:]}", f"right_{role[4:]}")
        return (role,)

    def get(self, roles: tuple[str, ...], side: str | None, world: bool
            ) -> tuple[list[np.ndarray] | None, str | None]:
        src = self.pose.world if world else self.px
        out = []
        for role in roles:
            names = self.names(role, side)
            for n in names:
                reason = self.problem(n)
                if reason:
                    return None, reason
            if len(names) == 1:
                out.append(src[INDEX[names[0]]])
            else:
                out.append((src[INDEX[names[0]]] + src[INDEX[names[1]]]) * 0.5)
        return out, None

    def body_frame(self) -> tuple | None:
        if self._frame is None:
            self._frame = (_body_frame(self.pose.world),)
        return self._frame[0]


def _flexion(kind: str, p: list[np.ndarray], forward: float) -> float | None:
    """Sagittal angles in the image. Coordinates are turned so +x points where the person
    faces (`forward` = +1 or -1), y up; rotating a segment that points down towards the
    front is counter-clockwise (positive in _signed)."""
    f = np.array([forward, 1.0])
    a, b, c = ([x * f for x in p] + [None])[:3]
    if kind == "flexion_backward":  # knee: the shank swings back relative to the thigh
        return -_signed(b - a, c - b)
    if kind == "flexion_forward":  # hip: the thigh forward of the trunk line
        return _signed(b - a, c - b)
    if kind == "bend":  # elbow: how far the forearm turns off the upper arm's line
        return _unsigned(b - a, c - b)
    if kind == "flexion_up":  # neck: the neck tips forward off the trunk line (clockwise)
        return -_signed(b - a, c - b)
    if kind == "shoulder_flexion":  # the arm swings forward from the trunk's down line
        ang = _signed(a - b, c - b)
        return ang + 360.0 if ang < -90.0 else ang  # overhead is 180, not -180
    if kind == "dorsiflexion":  # foot vs shank, 90 deg at neutral
        knee, ankle, heel, toe = a, b, c, p[3] * f
        ang = _signed(ankle - knee, toe - heel)
        return ang - 90.0
    if kind == "foot_pitch":  # heel above the toes: the heel->toe line points down
        heel, toe = a, b
        return -math.degrees(math.atan2(toe[1] - heel[1], toe[0] - heel[0]))
    if kind == "segment_from_vertical":
        d = b - a
        return math.degrees(math.atan2(d[0], d[1]))
    raise ValueError(kind)


def sagittal_angle(joint: str, points: list[np.ndarray], forward: float) -> float | None:
    """A sagittal angle of the table (knee_flex, hip_flex, ankle_dorsi, ...) from the
    caller's own 2D points (pixels, y up) in the table's order: for analyses that hold
    repaired landmarks (gait). Same definition and sign as the CSV's columns."""
    return _flexion(JOINT_BY_NAME[joint].kind, points, forward)


def _frontal(kind: str, p: list[np.ndarray], side: str | None, left_dir: float,
             shoulder_width: float) -> float | None:
    """Frontal angles in the image (y up). `left_dir`: +1 if the subject's left is image
    right (facing the camera). "Outward" for a side is towards that side of the body."""
    if kind == "line_tilt":  # right -> left line vs horizontal, + = subject's left higher
        d = p[1] - p[0]
        return math.degrees(math.atan2(d[1], d[0] * left_dir))
    outward = left_dir if side == "left" else -left_dir
    f = np.array([outward, 1.0])  # +x = outward for this side
    if kind == "abduction":  # arm away from the trunk's down line, towards outward
        hip_mid, sh_mid, sh, elbow = (x * f for x in p)
        ang = _signed(hip_mid - sh_mid, elbow - sh)
        return ang + 360.0 if ang < -90.0 else ang
    if kind == "valgus":  # the shank turns outward off the thigh line when the knee
        hip, knee, ankle = (x * f for x in p)  # falls inward
        return _signed(knee - hip, ankle - knee)
    if kind == "height_difference":  # left wrist minus right wrist, in shoulder widths
        return (p[0][1] - p[1][1]) / shoulder_width
    raise ValueError(kind)


def _hip_height(p: list[np.ndarray], shank_px: float) -> float | None:
    hip, ankle = p[0], p[1]
    return (hip[1] - ankle[1]) / shank_px if shank_px > 1.0 else None


def _body_frame(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(up, forward, left) unit vectors of the trunk in world coordinates: up from mid-hip
    to mid-shoulder, left along the hip line made perpendicular to up, forward = left x up
    (right-handed; where the face points). None when degenerate."""
    lh, rh = w[INDEX["left_hip"]], w[INDEX["right_hip"]]
    ls, rs = w[INDEX["left_shoulder"]], w[INDEX["right_shoulder"]]
    up = (ls + rs) / 2 - (lh + rh) / 2
    left = (lh - rh) + (ls - rs)
    n_up = float(np.linalg.norm(up))
    if n_up < 1e-6:
        return None
    up = up / n_up
    left = left - np.dot(left, up) * up
    n_left = float(np.linalg.norm(left))
    if n_left < 1e-6:
        return None
    left = left / n_left
    # MediaPipe world: x right, y down, z away from the camera (right-handed), so
    # left x up points where the face does (as metrics.body_axes; tested on built poses).
    forward = np.cross(left, up)
    return up, forward, left


def _angle_3d(j: JointDef, side: str, pts: _Points) -> tuple[float | None, str | None]:
    roles = {"knee_flex": ("{s}_hip", "{s}_knee", "{s}_ankle"),
             "elbow_flex": ("{s}_shoulder", "{s}_elbow", "{s}_wrist"),
             "hip_flex": ("{s}_hip", "{s}_knee"),
             "shoulder_flex": ("{s}_shoulder", "{s}_elbow"),
             "shoulder_abd": ("{s}_shoulder", "{s}_elbow")}[j.name]
    p, reason = pts.get(roles, side, world=True)
    if p is None:
        return None, reason
    if j.name in ("knee_flex", "elbow_flex"):  # the bend between two segments
        ang = _unsigned(p[1] - p[0], p[2] - p[1])
        return (ang, None) if ang is not None else (None, "implausible:segment_length")
    trunk, reason = pts.get(("mid_hip", "mid_shoulder"), None, world=True)
    if trunk is None:
        return None, reason
    frame = pts.body_frame()
    if frame is None:
        return None, "implausible:trunk"
    up, forward, left = frame
    seg = p[1] - p[0]
    down = float(np.dot(seg, -up))
    if j.name in ("hip_flex", "shoulder_flex"):  # in the body's sagittal plane
        ang = math.degrees(math.atan2(float(np.dot(seg, forward)), down))
        return (ang + 360.0 if ang < -90.0 else ang), None
    outward = left if side == "left" else -left  # shoulder_abd: in the frontal plane
    ang = math.degrees(math.atan2(float(np.dot(seg, outward)), down))
    return (ang + 360.0 if ang < -90.0 else ang), None


def measure_joints(pose: Pose | None, width: int, height: int, view: str,
                   q: QualitySettings | None = None) -> JointMeasurement:
    """Every joint angle of one frame. `view` comes from metrics.measure (the same rule:
    side views from the shoulder line's yaw); in a side view "forward" is where the nose
    points, and the angles are withheld when that is unclear."""
    q = q or QualitySettings()
    out = JointMeasurement()
    if pose is None:
        out.flags.append("no_pose")
        return out
    pts = _Points(pose, width, height, q)
    forward = None
    if view in SIDE_VIEWS:
        ear, reason = pts.get(("{s}_ear",), view, world=False)
        if ear is not None:
            dx = float(pose.image[INDEX["nose"], 0] * width) - float(ear[0][0])
            forward = 1.0 if dx > 0 else -1.0 if dx < 0 else None
    left_dir = None
    if view in FRONTAL_VIEWS:
        dx = pose.image[INDEX["left_shoulder"], 0] - pose.image[INDEX["right_shoulder"], 0]
        left_dir = 1.0 if dx >= 0 else -1.0
    shoulder_width = 0.0
    if view in FRONTAL_VIEWS:
        sw, _ = pts.get(("left_shoulder", "right_shoulder"), None, world=False)
        if sw is not None:
            shoulder_width = float(np.linalg.norm(sw[0] - sw[1]))

    for j in JOINTS:
        for side in (SIDES if j.sided else (None,)):
            col = j.column(side)
            value, reason = _measure_2d(j, side, view, pts, forward, left_dir,
                                        shoulder_width)
            out.values[col] = value
            if reason:
                out.flags.append(f"{col}:{reason}")
            if j.has_3d:
                col3 = j.column(side, True)
                v3, r3 = _angle_3d(j, side, pts)
                out.values[col3] = v3
                if r3:
                    out.flags.append(f"{col3}:{r3}")
    return out


def _measure_2d(j: JointDef, side: str | None, view: str, pts: _Points,
                forward: float | None, left_dir: float | None,
                shoulder_width: float) -> tuple[float | None, str | None]:
    if view not in j.views:
        return None, f"view:{view}"
    # unsided sagittal joints use the side facing the camera (a side view's name)
    s = side if side is not None else (view if view in SIDE_VIEWS else None)
    p, reason = pts.get(j.points, s, world=False)
    if p is None:
        return None, reason
    if j.kind == "hip_height":
        shank = []
        for leg in SIDES:
            k, _ = pts.get((f"{leg}_knee", f"{leg}_ankle"), None, world=False)
            if k is not None:
                shank.append(float(np.linalg.norm(k[0] - k[1])))
        if not shank:
            return None, "low_visibility:knees"
        value = _hip_height(p, float(np.mean(shank)))
        return (value, None) if value is not None else (None, "implausible:shank_length")
    if view in SIDE_VIEWS:
        if forward is None:
            return None, "facing_unclear"
        return _flexion(j.kind, p, forward), None
    if j.kind == "height_difference" and shoulder_width <= 1.0:
        return None, "implausible:shoulder_width"
    return _frontal(j.kind, p, side, left_dir or 1.0, shoulder_width), None
