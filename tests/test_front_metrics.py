"""The front-view head and upper-trunk measures on constructed landmarks of known geometry."""

import math

import numpy as np
import pytest

from posture_monitor.core.measure.metrics import (
    BITRAGION_CM,
    NOSE_AHEAD_OF_TRAGUS_CM,
    NOSE_BELOW_TRAGUS_CM,
    measure,
)
from posture_monitor.core.vision.landmarks import INDEX
from tests.posegen import H, W, front_pose, put, side_pose

# trunk_flex_3d_deg is measured in every view since issue 15 (tests/test_posture3d.py)
FRONT_ONLY = ("head_fwd_cm", "head_size_ratio", "neck_height_ratio", "head_pitch_deg")


def _rotate_world(pose, yaw_deg: float) -> None:
    """Turn the whole 3D body about the vertical (the person turns on their chair)."""
    a = math.radians(yaw_deg)
    rot = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    pose.world[:] = pose.world @ rot.T


def _world_head(pose, ahead_m: float, above_m: float = 0.15) -> None:
    """Both ears `ahead_m` towards the camera (world z shrinks towards it) from the shoulders."""
    mid = (pose.world[INDEX["left_shoulder"]] + pose.world[INDEX["right_shoulder"]]) / 2
    for side, dx in (("left", 0.075), ("right", -0.075)):
        pose.world[INDEX[f"{side}_ear"]] = mid + (dx, -above_m, -ahead_m)


@pytest.mark.parametrize("ahead_cm", [-3.0, 0.0, 4.5, 12.0])
@pytest.mark.parametrize("turned_deg", [0.0, 20.0, -25.0])
def test_head_forward_distance_in_cm_along_the_body_axis(ahead_cm, turned_deg):
    pose = front_pose()
    _world_head(pose, ahead_cm / 100)
    _rotate_world(pose, turned_deg)  # still a front view: the body's own axis is used
    m = measure(pose, W, H)
    assert m.view == "front"
    assert m.values["head_fwd_cm"] == pytest.approx(ahead_cm, abs=1e-9)


def test_head_size_and_neck_height_relative_to_shoulder_width():
    m = measure(front_pose(nose_height=100.0), W, H)  # shoulders 200 px apart, ears 90 px
    assert m.values["head_size_ratio"] == pytest.approx(90.0 / 200.0)
    assert m.values["neck_height_ratio"] == pytest.approx(100.0 / 200.0)  # ears level with nose
    nearer = front_pose(nose_height=100.0)
    for side, sign in (("left", 1), ("right", -1)):  # a head nearer the camera looks wider
        x, y = nearer.image[INDEX[f"{side}_ear"], :2] * (W, H)
        put(nearer, f"{side}_ear", x + sign * 10.0, y)
    assert measure(nearer, W, H).values["head_size_ratio"] == pytest.approx(110.0 / 200.0)
    dropped = measure(front_pose(nose_height=60.0), W, H).values["neck_height_ratio"]
    assert dropped == pytest.approx(0.3)  # head lower: smaller neck height


def _pose_with_pitch(pitch_deg: float, head_tilt_deg: float = 0.0):
    """Ears 90 px apart (tilted by head_tilt), nose placed where an average head pitched by
    `pitch_deg` puts it: a*sin(p) + d*cos(p) below the ear line, in ear-width units."""
    pose = front_pose(head_tilt=head_tilt_deg)
    le = pose.image[INDEX["left_ear"], :2] * (W, H)
    re = pose.image[INDEX["right_ear"], :2] * (W, H)
    mid, width = (le + re) / 2, float(np.linalg.norm(le - re))
    p = math.radians(pitch_deg)
    drop_cm = NOSE_AHEAD_OF_TRAGUS_CM * math.sin(p) + NOSE_BELOW_TRAGUS_CM * math.cos(p)
    drop_px = drop_cm / BITRAGION_CM * width
    line = (le - re) / width
    down = np.array([-line[1], line[0]])
    down = down if down[1] > 0 else -down
    put(pose, "nose", *(mid + drop_px * down))
    return pose


@pytest.mark.parametrize("pitch", [-20.0, -5.0, 0.0, 10.0, 30.0])
@pytest.mark.parametrize("tilt", [0.0, 12.0, -8.0])
def test_head_pitch_from_face_landmarks_exact_and_tilt_free(pitch, tilt):
    m = measure(_pose_with_pitch(pitch, tilt), W, H)
    assert m.values["head_pitch_deg"] == pytest.approx(pitch, abs=1e-6)
    assert m.values["head_tilt_deg"] == pytest.approx(tilt, abs=1e-6)


def test_head_pitch_sign_chin_down_positive():
    down = measure(_pose_with_pitch(15.0), W, H).values["head_pitch_deg"]
    up = measure(_pose_with_pitch(-15.0), W, H).values["head_pitch_deg"]
    assert down > 0 > up


@pytest.mark.parametrize("flex", [-15.0, 0.0, 10.0, 35.0])
def test_trunk_flexion_3d_from_world_landmarks(flex):
    pose = front_pose()
    f = math.radians(flex)
    # mid-shoulder 0.5 m from the mid-hip, bent towards the camera (world -z) by `flex`
    for side, dx in (("left", 0.18), ("right", -0.18)):
        pose.world[INDEX[f"{side}_shoulder"]] = (dx, -0.5 * math.cos(f), -0.5 * math.sin(f))
    _rotate_world(pose, 15.0)
    assert measure(pose, W, H).values["trunk_flex_3d_deg"] == pytest.approx(flex, abs=1e-9)


def test_front_measures_withheld_with_a_reason():
    pose = front_pose()
    pose.visibility[INDEX["left_ear"]] = 0.2  # hair over the ear: no reading, not a guess
    m = measure(pose, W, H)
    for col in ("head_fwd_cm", "head_size_ratio", "neck_height_ratio", "head_pitch_deg"):
        assert m.values[col] is None
        assert f"{col}:low_visibility:left_ear" in m.flags
    assert m.values["fwd_head_ratio"] is not None  # the nose rule still measures
    pose = front_pose()
    pose.image[INDEX["left_hip"], 1] = 1.2  # hips below the frame (a desk webcam)
    m = measure(pose, W, H)
    assert m.values["trunk_flex_3d_deg"] is None
    assert "trunk_flex_3d_deg:out_of_frame:left_hip" in m.flags


def test_front_measures_never_from_a_side_view():
    m = measure(side_pose("left", 60.0, 5.0, 0.0), W, H)
    assert all(m.values[c] is None for c in FRONT_ONLY)
