"""Where a person is in the frame and how big: the mid-shoulder point and the head-neck
size, used to tell the calibrated person from a passer-by."""

from __future__ import annotations

import numpy as np

from posture_monitor.core.vision.landmarks import INDEX
from posture_monitor.core.vision.pose import Pose


def person_position(pose: Pose) -> tuple[float, float]:
    """Mid-shoulder point, normalized 0..1 (x, y)."""
    mid = (pose.image[INDEX["left_shoulder"], :2] + pose.image[INDEX["right_shoulder"], :2]) / 2
    return float(mid[0]), float(mid[1])


def person_scale(pose: Pose, width: int, height: int) -> float:
    """Person size in the image: nose to mid-shoulder distance in pixels / frame height.

    Both points exist in side and front views (the far shoulder is estimated in a side
    view, but consistently), and the head-neck distance does not depend on whether the
    hips are hidden under a desk. Pixels keep the frame's aspect ratio honest.
    """
    d = (pose.image[INDEX["nose"], :2] - person_position(pose)) * (width, height)
    return float(np.hypot(d[0], d[1]) / height)
