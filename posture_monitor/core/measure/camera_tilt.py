"""The camera's tilt (pitch and roll) in MediaPipe's world landmarks: estimated, removed.

MediaPipe's world landmarks (metres, origin between the hips) use the camera's axes:
x right, y down, z away from the camera. Their "vertical" is therefore the camera's y
axis, and a camera pitched down at the person or rolled on its tripod adds its own tilt
to every 3D angle measured against the vertical (a trunk tilt, a forward flexion). A
`CameraTilt` is the rotation from the camera's axes to level axes (same x/y/z names, but
y along gravity, pointing down), with the pitch and roll it stands for; metrics.measure
applies it to the world landmarks before the 3D metrics that need the vertical.

One estimator is implemented, `UprightCalibration`: while the person stands or sits
upright for a few seconds, the median direction of their trunk (mid-hip to mid-shoulder)
IS the vertical. That is an assumption, stated wherever its result is recorded: a person
who leans during the calibration moves the zero of every trunk angle by that lean, and
MediaPipe's own error of the trunk direction adds to it. Measured on the four Pose2Sim
cameras (bench/pose2sim_3d_agreement.py, 0.2 s of upright standing): against the lab's own
calibration of each camera the estimated vertical is off by 1.4-9.7 deg (pitch 1.1-9.2,
roll 1.0-5.8 deg); trunk_tilt_3d_deg then follows a 4-camera triangulation of the same
trunk within 2.6-3.5 deg (mean absolute error; 7.5-17.3 deg with the tilt left in, 3.0-5.4
with the lab's tilt: this estimate also takes out MediaPipe's own constant lean).

A floor-plane fit (heels and toes over time, the lowest points of each frame) was tried
on the same clips during development and left out: MediaPipe's depth of the feet is too
poor (median heel-to-toe lines up to 24 deg off the triangulated ones), so the floor's
normal missed the camera's pitch by 6-23 deg (its roll came within about 6 deg).

Conventions: pitch_deg > 0 = camera looking down (the world's down has a component along
the camera's line of sight); roll_deg > 0 = the camera's right side lower (turned
clockwise as seen from behind it). Both are the angles of the world's down direction
d = (dx, dy, dz) in camera axes: pitch = atan2(dz, dy), roll = atan2(dx, dy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from posture_monitor.core.common.settings import QualitySettings
from posture_monitor.core.measure.definitions import TILT_COLUMNS
from posture_monitor.core.vision.landmarks import INDEX
from posture_monitor.core.vision.pose import Pose

# The trunk landmarks the calibration reads; both shoulders and both hips.
TRUNK_LANDMARKS = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
NOT_REMOVED_FLAG = "camera_tilt:not_removed"
UPRIGHT_ASSUMPTION = ("the person stood or sat upright during the calibration: the median "
                      "direction of their trunk (mid-hip to mid-shoulder) then is taken as "
                      "the vertical, so a lean during the calibration shifts every trunk "
                      "angle by that lean")
# A calibration whose trunk directions scatter more than this (median angle from their
# median) was not taken while the person held still and upright.
MAX_CALIBRATION_SPREAD_DEG = 12.0


def landmark_problem(pose: Pose, name: str, q: QualitySettings) -> str | None:
    """Why a landmark cannot be used (out of frame, poorly visible, not present), or None.
    The one rule for 2D and 3D alike: MediaPipe's 3D guess of a hidden point is no better
    than its 2D guess."""
    i = INDEX[name]
    x, y = pose.image[i, :2]
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
        return f"out_of_frame:{name}"
    if pose.visibility[i] < q.min_visibility:
        return f"low_visibility:{name}"
    if pose.presence[i] < q.min_presence:
        return f"low_presence:{name}"
    return None


def _unit(v: np.ndarray) -> np.ndarray | None:
    n = float(np.linalg.norm(v))
    return None if n < 1e-9 else v / n


def _rotation_onto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector a onto unit vector b (Rodrigues): no turn
    about b, so removing a tilt never adds a yaw."""
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if np.linalg.norm(v) < 1e-12:
        if c > 0:
            return np.eye(3)
        # upside down: half a turn about any axis perpendicular to a
        axis = _unit(np.cross(a, [1.0, 0.0, 0.0])) if abs(a[0]) < 0.9 else _unit(
            np.cross(a, [0.0, 0.0, 1.0]))
        return 2.0 * np.outer(axis, axis) - np.eye(3)
    k = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + k + k @ k / (1.0 + c)


@dataclass(frozen=True)
class CameraTilt:
    """The camera's tilt as estimated for one stream: `rotation` takes a vector in the
    camera's axes to level axes (y down along gravity)."""

    down: tuple[float, float, float]  # the world's down in the camera's axes (unit)
    method: str  # "upright_calibration" | "given" (pitch and roll known, e.g. a level)
    frames: int = 0  # frames the estimate rests on
    spread_deg: float | None = None  # median angle of those frames' directions from it
    rotation: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        d = _unit(np.asarray(self.down, dtype=float))
        if d is None:
            raise ValueError("the down direction has no length")
        object.__setattr__(self, "down", tuple(float(x) for x in d))
        object.__setattr__(self, "rotation", _rotation_onto(d, np.array([0.0, 1.0, 0.0])))

    @classmethod
    def from_pitch_roll(cls, pitch_deg: float, roll_deg: float,
                        method: str = "given") -> CameraTilt:
        """A tilt known from elsewhere (a spirit level, the phone's own sensors, a lab
        calibration), in this module's conventions."""
        return cls((math.tan(math.radians(roll_deg)), 1.0, math.tan(math.radians(pitch_deg))),
                   method)

    @property
    def pitch_deg(self) -> float:
        return math.degrees(math.atan2(self.down[2], self.down[1]))

    @property
    def roll_deg(self) -> float:
        return math.degrees(math.atan2(self.down[0], self.down[1]))

    @property
    def angle_deg(self) -> float:
        """The whole tilt: the angle between the camera's y axis and the world's down."""
        return math.degrees(math.acos(max(-1.0, min(1.0, self.down[1]))))

    def level(self, points: np.ndarray) -> np.ndarray:
        """Points or vectors (..., 3) from the camera's axes to level axes."""
        return np.asarray(points) @ self.rotation.T


def tilt_record(tilt: CameraTilt | None, columns: tuple[str, ...] = TILT_COLUMNS) -> dict:
    """What a sidecar says of the camera's tilt: the method and its estimate, or that the
    tilt was not removed (each frame's flags then say NOT_REMOVED_FLAG)."""
    if tilt is None:
        return {"removed": False, "method": "none", "flag": NOT_REMOVED_FLAG,
                "columns": list(columns),
                "note": "the camera's pitch and roll were not estimated: the 3D columns "
                        "that need the vertical are measured against the camera's own "
                        "vertical and carry its tilt as a constant offset"}
    out = {"removed": True, "method": tilt.method, "pitch_deg": round(tilt.pitch_deg, 2),
           "roll_deg": round(tilt.roll_deg, 2), "tilt_deg": round(tilt.angle_deg, 2),
           "frames": tilt.frames, "columns": list(columns),
           "conventions": "pitch > 0 = camera looking down; roll > 0 = the camera's right "
                          "side lower"}
    if tilt.spread_deg is not None:
        out["spread_deg"] = round(tilt.spread_deg, 2)
    if tilt.method == "upright_calibration":
        out["assumes"] = UPRIGHT_ASSUMPTION
    return out


class UprightCalibration:
    """Collects the trunk's direction, in the camera's axes, over a calibration while the
    person stands or sits upright; `estimate()` turns it into a CameraTilt. Any view
    will do (front, side, oblique, back): the trunk line needs no facing direction."""

    def __init__(self, q: QualitySettings | None = None, min_frames: int = 10) -> None:
        self.q = q or QualitySettings()
        self.min_frames = min_frames
        self._up: list[np.ndarray] = []
        self.skipped: dict[str, int] = {}  # reason -> frames left out

    def add(self, pose: Pose | None) -> bool:
        """Take one frame's pose; False (and the reason counted) when it cannot serve."""
        reason = "no_pose" if pose is None else next(
            (r for n in TRUNK_LANDMARKS if (r := landmark_problem(pose, n, self.q))), None)
        up = None
        if reason is None:
            w = pose.world
            trunk = ((w[INDEX["left_shoulder"]] + w[INDEX["right_shoulder"]]) / 2
                     - (w[INDEX["left_hip"]] + w[INDEX["right_hip"]]) / 2)
            length = float(np.linalg.norm(trunk))
            if not self.q.torso_min_m <= length <= self.q.torso_max_m:
                reason = "implausible:torso_length"
            else:
                up = trunk / length
        if up is None:
            self.skipped[reason] = self.skipped.get(reason, 0) + 1
            return False
        self._up.append(up)
        return True

    @property
    def frames(self) -> int:
        return len(self._up)

    def estimate(self) -> tuple[CameraTilt | None, str | None]:
        """(tilt, None), or (None, why not): too few usable frames, or a trunk that moved
        too much to have been held upright."""
        if len(self._up) < self.min_frames:
            return None, (f"only {len(self._up)} frames with shoulders and hips in view "
                          f"(at least {self.min_frames} needed)")
        ups = np.array(self._up)
        # The component-wise median, not the mean: one bad detection in a few seconds
        # must not tip the vertical.
        up = _unit(np.median(ups, axis=0))
        if up is None:
            return None, "the trunk directions cancel out"
        spread = float(np.median(np.degrees(np.arccos(np.clip(ups @ up, -1.0, 1.0)))))
        if spread > MAX_CALIBRATION_SPREAD_DEG:
            return None, (f"the trunk moved during the calibration (median {spread:.0f} deg "
                          f"from its median direction, at most {MAX_CALIBRATION_SPREAD_DEG:g}"
                          " allowed): stand or sit still and upright")
        return CameraTilt(tuple(-up), "upright_calibration", len(ups), spread), None
