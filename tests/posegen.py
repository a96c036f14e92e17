"""Build `Pose` objects with exactly known geometry for the geometry tests."""

from __future__ import annotations

import math

import numpy as np

from posture_monitor.core.vision.landmarks import COUNT, INDEX
from posture_monitor.core.vision.pose import Pose

W, H = 1280, 720  # non-square on purpose: angles must be computed in pixels


def blank_pose(view_yaw_deg: float) -> Pose:
    """All landmarks at the frame centre, fully visible; shoulders yawed in world space."""
    image = np.zeros((COUNT, 3))
    image[:, :2] = 0.5
    world = np.zeros((COUNT, 3))
    yaw = math.radians(view_yaw_deg)
    half = 0.18  # half shoulder width in metres
    # right->left shoulder vector (dx, dz) = (cos yaw, sin yaw)
    world[INDEX["left_shoulder"]] = (half * math.cos(yaw), -0.5, half * math.sin(yaw))
    world[INDEX["right_shoulder"]] = (-half * math.cos(yaw), -0.5, -half * math.sin(yaw))
    world[INDEX["left_hip"]] = (0.1, 0.0, 0.0)
    world[INDEX["right_hip"]] = (-0.1, 0.0, 0.0)
    return Pose(image, world, np.ones(COUNT), np.ones(COUNT))


def put(pose: Pose, name: str, x_px: float, y_px: float) -> None:
    pose.image[INDEX[name], :2] = (x_px / W, y_px / H)


def at_angle(origin: tuple[float, float], length: float, deg_from_horizontal: float,
             along_sign: float) -> tuple[float, float]:
    """Point `length` px from origin at an angle above the horizontal; along_sign picks
    which horizontal direction counts as positive in the image."""
    a = math.radians(deg_from_horizontal)
    return origin[0] + along_sign * length * math.cos(a), origin[1] - length * math.sin(a)


def side_pose(view: str, cva: float, torso: float, head_flex: float) -> Pose:
    """A side-view pose (view 'left' or 'right') facing image-right or image-left.

    The subject's `view` side faces the camera; `facing` in the image follows from it
    (left side to camera = facing image-left).
    """
    pose = blank_pose(-90.0 if view == "left" else 90.0)
    along = -1.0 if view == "left" else 1.0
    s = view
    shoulder = (640.0, 300.0)
    # hip->shoulder from vertical = torso: the shoulder is `torso` deg ahead of the hip
    a = math.radians(torso)
    hip = (shoulder[0] - along * 250.0 * math.sin(a), shoulder[1] + 250.0 * math.cos(a))
    ear = at_angle(shoulder, 120.0, cva, along)
    eye = at_angle(ear, 40.0, -head_flex, along)
    nose = (ear[0] + along * 60.0, ear[1] + 10.0)
    for side in ("left", "right"):  # far side overlaps the near side in a true side view
        put(pose, f"{side}_shoulder", *shoulder)
        put(pose, f"{side}_hip", *hip)
    put(pose, f"{s}_ear", *ear)
    put(pose, f"{s}_eye", *eye)
    put(pose, "nose", *nose)
    return pose


def front_pose(shoulder_tilt: float = 0.0, head_tilt: float = 0.0, lean: float = 0.0,
               from_behind: bool = False, nose_height: float = 100.0) -> Pose:
    """A frontal-plane pose; positive angles raise the subject's left side / lean left.

    Facing the camera the subject's left is image-right; seen `from_behind` it is
    image-left, and the signs must not change.
    """
    pose = blank_pose(180.0 if from_behind else 0.0)
    left = -1.0 if from_behind else 1.0  # image direction of the subject's left
    hip_mid = (640.0, 600.0)
    a = math.radians(lean)
    sh_mid = (hip_mid[0] + left * 300.0 * math.sin(a), hip_mid[1] - 300.0 * math.cos(a))
    t = math.radians(shoulder_tilt)
    dx, dy = 100.0 * math.cos(t), 100.0 * math.sin(t)
    put(pose, "left_shoulder", sh_mid[0] + left * dx, sh_mid[1] - dy)
    put(pose, "right_shoulder", sh_mid[0] - left * dx, sh_mid[1] + dy)
    put(pose, "left_hip", hip_mid[0] + left * 60, hip_mid[1])
    put(pose, "right_hip", hip_mid[0] - left * 60, hip_mid[1])
    head = (sh_mid[0], sh_mid[1] - nose_height)
    put(pose, "nose", *head)
    h = math.radians(head_tilt)
    for part, r in (("ear", 45.0), ("eye", 20.0)):
        put(pose, f"left_{part}", head[0] + left * r * math.cos(h), head[1] - r * math.sin(h))
        put(pose, f"right_{part}", head[0] - left * r * math.cos(h), head[1] + r * math.sin(h))
    return pose
