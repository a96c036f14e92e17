"""Classifier features of one frame: the one module training and runtime both call.

Version 2, 106 numbers, all invariant to where the person stands in the frame and to
their size, and to which side faces the camera:
  * image landmarks of the upper body in pixels, centred on the mid-shoulder point,
    divided by the RMS spread of the head and shoulder points, y up, x pointing "forward"
    in side views and towards the subject's left in front views; left/right landmarks are
    reordered as (near side, far side) in side views                          13 x 2
  * world landmarks (metres) relative to the mid-shoulder point, rotated about the vertical
    so the shoulder line is the x axis: (left, up, forward) in the body's own frame, with
    x pointing to the near side in side views                                  13 x 3
  * MediaPipe visibility of the same landmarks                                13
  * the 13 metrics of V2_METRICS (0 when empty) and a 0/1 "measured" flag        13 + 13
    (version 2 added the front-view head and trunk measures of issue 10; the table's
    later columns are not features until a new version)
  * the view: side, front                                                      2
A model file records FEATURE_VERSION; the classifier refuses a model built on another.
"""

from __future__ import annotations

import math

import numpy as np

from posture_monitor.core.measure.definitions import SIDE_VIEWS
from posture_monitor.core.measure.metrics import Measurement
from posture_monitor.core.vision.landmarks import INDEX
from posture_monitor.core.vision.pose import Pose

FEATURE_VERSION = 2
# The metrics of version 2, frozen: the shipped model was trained on these 13, with
# trunk_flex_3d_deg as it was then (front view only). Metrics added to the table later
# (issue 15's every-view 3D ones) enter only with a new version and a retrained model.
V2_METRICS = ("cva_deg", "neck_incl_deg", "torso_incl_deg", "head_flex_deg",
              "shoulder_tilt_deg", "head_tilt_deg", "lateral_lean_deg", "fwd_head_ratio",
              "head_fwd_cm", "head_size_ratio", "neck_height_ratio", "head_pitch_deg",
              "trunk_flex_3d_deg")  # fmt: skip

# (first, second) pairs are reordered per view; singles stay.
_POINTS: tuple[tuple[str, ...], ...] = (
    ("nose",), ("left_eye", "right_eye"), ("left_ear", "right_ear"),
    ("mouth_left", "mouth_right"), ("left_shoulder", "right_shoulder"),
    ("left_elbow", "right_elbow"), ("left_hip", "right_hip"),
)  # fmt: skip
_SCALE_POINTS = ("nose", "left_eye", "right_eye", "left_ear", "right_ear",
                 "left_shoulder", "right_shoulder")  # fmt: skip


def _order(view: str) -> list[str]:
    """Landmark names in feature order: near side first in side views, left first else."""
    names = []
    for group in _POINTS:
        if len(group) == 2 and view == "right":
            group = (group[1], group[0])  # right side faces the camera: it is "near"
        names.extend(group)
    return names


def _roles() -> list[str]:
    roles = []
    for group in _POINTS:
        roles.extend([group[0]] if len(group) == 1 else
                     [group[0].replace("left", "a"), group[1].replace("right", "b")])
    return roles


def feature_names() -> list[str]:
    roles = _roles()
    names = [f"img_{r}_{c}" for r in roles for c in ("x", "y")]
    names += [f"world_{r}_{c}" for r in roles for c in ("left", "up", "fwd")]
    names += [f"vis_{r}" for r in roles]
    names += list(V2_METRICS) + [f"has_{c}" for c in V2_METRICS]
    names += ["view_side", "view_front"]
    return names


N_FEATURES = len(feature_names())


def _along_sign(pose: Pose, view: str, width: int) -> float:
    if view in SIDE_VIEWS:
        ear = pose.image[INDEX[f"{view}_ear"], 0]
        return 1.0 if pose.image[INDEX["nose"], 0] >= ear else -1.0
    dx = pose.image[INDEX["left_shoulder"], 0] - pose.image[INDEX["right_shoulder"], 0]
    return 1.0 if dx >= 0 else -1.0


def compute_features(pose: Pose, m: Measurement, width: int, height: int) -> np.ndarray:
    """The feature vector (float32, N_FEATURES) of a frame with a pose."""
    names = _order(m.view)
    idx = [INDEX[n] for n in names]
    along = _along_sign(pose, m.view, width)

    px = pose.image[:, :2] * (width, height)
    mid = (px[INDEX["left_shoulder"]] + px[INDEX["right_shoulder"]]) / 2
    head = px[[INDEX[n] for n in _SCALE_POINTS]]
    scale = float(np.sqrt(np.mean(np.sum((head - head.mean(axis=0)) ** 2, axis=1))))
    rel = (px[idx] - mid) / max(scale, 1e-6)
    img = np.stack([rel[:, 0] * along, -rel[:, 1]], axis=1)

    w = pose.world
    d = w[INDEX["left_shoulder"]] - w[INDEX["right_shoulder"]]
    yaw = math.atan2(d[2], d[0])
    c, s = math.cos(yaw), math.sin(yaw)
    wrel = w[idx] - (w[INDEX["left_shoulder"]] + w[INDEX["right_shoulder"]]) / 2
    left = wrel[:, 0] * c + wrel[:, 2] * s
    depth = -wrel[:, 0] * s + wrel[:, 2] * c
    if m.view == "right":
        left = -left  # keep the near side ("a") on +x in both side views
    world = np.stack([left, -wrel[:, 1], -depth], axis=1)  # MediaPipe y points down

    vis = pose.visibility[idx]
    values = [None if col == "trunk_flex_3d_deg" and m.view != "front" else m.values[col]
              for col in V2_METRICS]
    metric = [0.0 if v is None else float(v) for v in values]
    has = [0.0 if v is None else 1.0 for v in values]
    view = [1.0 if m.view in SIDE_VIEWS else 0.0, 1.0 if m.view == "front" else 0.0]
    return np.concatenate([img.ravel(), world.ravel(), vis, metric, has, view]).astype(
        np.float32)
