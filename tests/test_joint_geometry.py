"""Every joint angle and sign convention of core/measure/joints.py on constructed
landmarks with exactly known angles: 2D in the views whose plane they live in (both
facing directions), withheld elsewhere, and the 3D columns from world landmarks in any
orientation."""

import math

import numpy as np
import pytest

from posture_monitor.core.measure.joint_angles import measure_joints
from posture_monitor.core.measure.joints import ANGLE_COLUMNS, JOINTS
from posture_monitor.core.measure.metrics import measure
from posture_monitor.core.vision.landmarks import INDEX
from tests.posegen import H, W, blank_pose, put


def down(phi_deg: float) -> np.ndarray:
    """Unit vector pointing down, turned `phi` deg towards the front (person coords:
    x = forward, y = up)."""
    p = math.radians(phi_deg)
    return np.array([math.sin(p), -math.cos(p)])


def side_body(view: str, knee=20.0, thigh=10.0, trunk=5.0, hip=None, neck=15.0,
              shoulder=30.0, elbow=40.0, dorsi=5.0, heel_lift=None):
    """A side-view pose built joint by joint. `thigh`: thigh from the downward vertical,
    forward positive; the hip flexion is then thigh + trunk (unless `hip` is given, which
    sets the thigh). Returns the pose and the angles it was built with."""
    pose = blank_pose(-90.0 if view == "left" else 90.0)
    along = -1.0 if view == "left" else 1.0
    if hip is not None:
        thigh = hip - trunk
    origin = np.array([640.0, 360.0])

    def px(p):  # person coords (forward, up) -> pixels
        return origin[0] + along * p[0], origin[1] - p[1]

    hip_p = np.array([0.0, 0.0])
    knee_p = hip_p + 120 * down(thigh)
    ankle_p = knee_p + 110 * down(thigh - knee)
    shank_down = thigh - knee
    foot_dir = down(shank_down + 90.0 + dorsi)  # neutral: perpendicular, forward
    if heel_lift is not None:  # a foot tilted heel-up by this angle instead
        a = math.radians(heel_lift)
        foot_dir = np.array([math.cos(a), -math.sin(a)])
    heel_p = ankle_p - 15 * foot_dir
    toe_p = heel_p + 60 * foot_dir
    a = math.radians(trunk)
    shoulder_p = hip_p + 150 * np.array([math.sin(a), math.cos(a)])
    n = math.radians(trunk + neck)
    ear_p = shoulder_p + 50 * np.array([math.sin(n), math.cos(n)])
    nose_p = ear_p + np.array([25.0, -5.0])
    elbow_p = shoulder_p + 70 * down(-trunk + shoulder)
    wrist_p = elbow_p + 60 * down(-trunk + shoulder + elbow)
    for s in ("left", "right"):
        for name, p in (("hip", hip_p), ("knee", knee_p), ("ankle", ankle_p),
                        ("heel", heel_p), ("foot_index", toe_p), ("shoulder", shoulder_p),
                        ("ear", ear_p), ("elbow", elbow_p), ("wrist", wrist_p)):
            put(pose, f"{s}_{name}", *px(p))
    put(pose, "nose", *px(nose_p))
    angles = {"knee_flex": knee, "hip_flex": thigh + trunk, "trunk_flex": trunk,
              "neck_flex": neck, "shoulder_flex": shoulder, "elbow_flex": abs(elbow),
              "ankle_dorsi": dorsi}
    return pose, angles


def joints_of(pose):
    m = measure(pose, W, H)
    return m.view, measure_joints(pose, W, H, m.view)


@pytest.mark.parametrize("view", ["left", "right"])
@pytest.mark.parametrize("kw", [
    dict(knee=0.0, thigh=0.0, trunk=0.0, neck=0.0, shoulder=0.0, elbow=0.0, dorsi=0.0),
    dict(knee=45.0, thigh=30.0, trunk=10.0, neck=20.0, shoulder=90.0, elbow=90.0, dorsi=15.0),
    dict(knee=120.0, hip=130.0, trunk=40.0, neck=-10.0, shoulder=150.0, elbow=30.0,
         dorsi=-20.0),
    dict(knee=-5.0, thigh=-10.0, trunk=-15.0, neck=5.0, shoulder=-30.0, elbow=5.0,
         dorsi=-40.0),
    dict(shoulder=180.0, trunk=0.0),  # arm straight overhead: 180, never -180
])
def test_sagittal_angles_exact_in_both_facing_directions(view, kw):
    pose, expected = side_body(view, **kw)
    seen, j = joints_of(pose)
    assert seen == view
    for name, value in expected.items():
        joint = next(x for x in JOINTS if x.name == name)
        for col in joint.columns():
            assert j.values[col] == pytest.approx(value, abs=1e-6), col
    # frontal angles never come out of a side view, and say why
    for col in ("shoulder_abd_l_deg", "knee_valgus_r_deg", "pelvic_obliquity_deg",
                "arm_height_diff_ratio"):
        assert j.values[col] is None
        assert f"{col}:view:{view}" in j.flags


def test_sagittal_signs_flexion_positive():
    pose, _ = side_body("right", knee=60, thigh=40, trunk=20, neck=10, shoulder=45,
                        dorsi=10)
    v = joints_of(pose)[1].values
    assert v["knee_flex_r_deg"] > 0 and v["hip_flex_r_deg"] > 0
    assert v["trunk_flex_deg"] > 0 and v["neck_flex_deg"] > 0
    assert v["shoulder_flex_r_deg"] > 0 and v["ankle_dorsi_r_deg"] > 0
    back, _ = side_body("left", knee=-4, thigh=-15, trunk=-10, shoulder=-25, dorsi=-30)
    b = joints_of(back)[1].values
    assert b["knee_flex_l_deg"] < 0  # hyperextension
    assert b["trunk_flex_deg"] < 0 and b["shoulder_flex_l_deg"] < 0  # extension
    assert b["ankle_dorsi_l_deg"] < 0  # plantarflexion


@pytest.mark.parametrize("lift", [0.0, 12.0, -5.0])
def test_heel_lift_is_the_foot_line_from_horizontal_heel_up_positive(lift):
    pose, _ = side_body("right", heel_lift=lift)
    assert joints_of(pose)[1].values["heel_lift_r_deg"] == pytest.approx(lift, abs=1e-6)


def test_hip_height_in_shank_lengths_from_the_side():
    pose, _ = side_body("right", knee=0.0, thigh=0.0)  # straight leg, 120 + 110 px
    v = joints_of(pose)[1].values
    assert v["hip_height_ratio"] == pytest.approx(230.0 / 110.0, abs=1e-6)


def test_a_side_view_with_unclear_facing_withholds_sagittal_angles():
    pose, _ = side_body("right")
    ear = pose.image[INDEX["right_ear"], :2].copy()
    pose.image[INDEX["nose"], :2] = ear  # nose on the ear: which way is forward?
    j = joints_of(pose)[1]
    assert j.values["knee_flex_r_deg"] is None
    assert "knee_flex_r_deg:facing_unclear" in j.flags


def front_body(abd_l=20.0, abd_r=35.0, valgus_l=8.0, valgus_r=-4.0, pelvis=0.0,
               wrist_diff=0.0):
    """Front view (subject's left = image right). Angles as built."""
    pose = blank_pose(0.0)
    cx = 640.0
    sh_y, hip_y = 200.0, 420.0
    put(pose, "left_shoulder", cx + 100, sh_y)
    put(pose, "right_shoulder", cx - 100, sh_y)
    p = math.radians(pelvis)
    put(pose, "left_hip", cx + 60 * math.cos(p), hip_y - 60 * math.sin(p))
    put(pose, "right_hip", cx - 60 * math.cos(p), hip_y + 60 * math.sin(p))
    for s, sign, abd, val in (("left", 1.0, abd_l, valgus_l), ("right", -1.0, abd_r,
                                                               valgus_r)):
        sh = np.array([cx + sign * 100, sh_y])
        a = math.radians(abd)
        elbow = sh + 80 * np.array([sign * math.sin(a), math.cos(a)])  # image y down
        put(pose, f"{s}_elbow", *elbow)
        wrist_y = 300.0 - (wrist_diff / 2 * 200.0 if s == "left" else -wrist_diff / 2 * 200)
        put(pose, f"{s}_wrist", cx + sign * 190, wrist_y)
        hip = np.array([cx + sign * 60, hip_y])
        knee = hip + np.array([0.0, 150.0])
        v = math.radians(val)
        ankle = knee + 140 * np.array([sign * math.sin(v), math.cos(v)])
        put(pose, f"{s}_hip", *(hip if pelvis == 0 else pose.image[INDEX[f"{s}_hip"], :2]
                                * (W, H)))
        put(pose, f"{s}_knee", *knee)
        put(pose, f"{s}_ankle", *ankle)
        put(pose, f"{s}_ear", cx + sign * 40, 120.0)
    put(pose, "nose", cx, 130.0)
    return pose


@pytest.mark.parametrize("abd_l,abd_r", [(0.0, 0.0), (20.0, 35.0), (90.0, 120.0),
                                         (170.0, 180.0), (-15.0, 10.0)])
def test_shoulder_abduction_exact_outward_positive(abd_l, abd_r):
    view, j = joints_of(front_body(abd_l, abd_r))
    assert view == "front"
    assert j.values["shoulder_abd_l_deg"] == pytest.approx(abd_l, abs=1e-6)
    assert j.values["shoulder_abd_r_deg"] == pytest.approx(abd_r, abs=1e-6)


@pytest.mark.parametrize("vl,vr", [(8.0, -4.0), (0.0, 0.0), (15.0, 12.0)])
def test_knee_valgus_exact_valgus_positive_varus_negative(vl, vr):
    j = joints_of(front_body(valgus_l=vl, valgus_r=vr))[1]
    assert j.values["knee_valgus_l_deg"] == pytest.approx(vl, abs=1e-6)
    assert j.values["knee_valgus_r_deg"] == pytest.approx(vr, abs=1e-6)


@pytest.mark.parametrize("tilt", [3.0, -6.0, 0.0])
def test_pelvic_obliquity_left_hip_higher_positive(tilt):
    j = joints_of(front_body(pelvis=tilt))[1]
    assert j.values["pelvic_obliquity_deg"] == pytest.approx(tilt, abs=1e-6)


def test_arm_height_difference_in_shoulder_widths_left_higher_positive():
    j = joints_of(front_body(wrist_diff=0.25))[1]
    assert j.values["arm_height_diff_ratio"] == pytest.approx(0.25, abs=1e-6)


def test_front_view_withholds_every_sagittal_2d_angle_with_the_view_as_reason():
    j = joints_of(front_body())[1]
    for col in ("knee_flex_l_deg", "hip_flex_r_deg", "ankle_dorsi_l_deg", "trunk_flex_deg",
                "neck_flex_deg", "shoulder_flex_l_deg", "elbow_flex_r_deg"):
        assert j.values[col] is None and f"{col}:view:front" in j.flags


def test_oblique_view_gives_no_2d_angle_at_all():
    pose = front_body()
    # shoulders yawed 45 deg in world space: oblique
    y = math.radians(45.0)
    pose.world[INDEX["left_shoulder"]] = (0.18 * math.cos(y), -0.5, 0.18 * math.sin(y))
    pose.world[INDEX["right_shoulder"]] = (-0.18 * math.cos(y), -0.5, -0.18 * math.sin(y))
    view, j = joints_of(pose)
    assert view == "oblique"
    assert all(j.values[c] is None for c in ANGLE_COLUMNS if "_3d_" not in c)


def test_a_hidden_landmark_withholds_only_the_angles_that_need_it():
    pose, _ = side_body("right", knee=30.0)
    pose.visibility[INDEX["left_ankle"]] = 0.2  # the far ankle behind the near leg
    j = joints_of(pose)[1]
    assert j.values["knee_flex_l_deg"] is None
    assert "knee_flex_l_deg:low_visibility:left_ankle" in j.flags
    assert j.values["knee_flex_r_deg"] == pytest.approx(30.0, abs=1e-6)
    assert j.values["hip_flex_l_deg"] is not None  # needs no ankle


# --- 3D, from world landmarks --------------------------------------------------------

def rot_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])


def world_body(knee=50.0, hip=40.0, sh_flex=70.0, sh_abd=30.0, elbow=60.0, yaw=0.0):
    """World landmarks (MediaPipe: x right, y down, z away from the camera) of a person
    facing the camera (turned by `yaw` about the vertical): left leg bent in the body's
    sagittal plane, left arm flexed, right arm abducted."""
    pose = blank_pose(0.0)
    up, fwd, left = np.array([0, -1.0, 0]), np.array([0, 0, -1.0]), np.array([1.0, 0, 0])
    R = rot_y(yaw)
    pts = {"left_hip": 0.1 * left, "right_hip": -0.1 * left,
           "left_shoulder": 0.18 * left + 0.5 * up, "right_shoulder": -0.18 * left + 0.5 * up}

    def sag(deg):  # down, turned forward by deg
        a = math.radians(deg)
        return -math.cos(a) * up + math.sin(a) * fwd

    pts["left_knee"] = pts["left_hip"] + 0.4 * sag(hip)
    pts["left_ankle"] = pts["left_knee"] + 0.4 * sag(hip - knee)
    pts["right_knee"] = pts["right_hip"] + 0.4 * sag(0)
    pts["right_ankle"] = pts["right_knee"] + 0.4 * sag(0)
    pts["left_elbow"] = pts["left_shoulder"] + 0.3 * sag(sh_flex)
    pts["left_wrist"] = pts["left_elbow"] + 0.25 * sag(sh_flex + elbow)
    a = math.radians(sh_abd)
    pts["right_elbow"] = pts["right_shoulder"] + 0.3 * (-math.cos(a) * up
                                                        + math.sin(a) * -left)
    pts["right_wrist"] = pts["right_elbow"] + 0.25 * (-math.cos(a) * up
                                                      + math.sin(a) * -left)
    for name, p in pts.items():
        pose.world[INDEX[name]] = R @ p
    return pose


@pytest.mark.parametrize("yaw", [0.0, 45.0, 90.0, 180.0])
def test_3d_angles_exact_and_independent_of_the_view(yaw):
    pose = world_body(yaw=yaw)
    view = measure(pose, W, H).view
    v = measure_joints(pose, W, H, view).values
    assert v["knee_flex_l_3d_deg"] == pytest.approx(50.0, abs=1e-6)
    assert v["knee_flex_r_3d_deg"] == pytest.approx(0.0, abs=1e-6)
    assert v["hip_flex_l_3d_deg"] == pytest.approx(40.0, abs=1e-6)
    assert v["shoulder_flex_l_3d_deg"] == pytest.approx(70.0, abs=1e-6)
    assert v["elbow_flex_l_3d_deg"] == pytest.approx(60.0, abs=1e-6)
    assert v["shoulder_abd_r_3d_deg"] == pytest.approx(30.0, abs=1e-6)
    assert v["shoulder_abd_l_3d_deg"] == pytest.approx(0.0, abs=1e-6)  # flexed, not abducted


def test_3d_hip_extension_and_overhead_arm_signs():
    v = measure_joints(world_body(hip=-15.0, knee=0.0, sh_flex=180.0, elbow=0.0), W, H,
                       "front").values
    assert v["hip_flex_l_3d_deg"] == pytest.approx(-15.0, abs=1e-6)
    assert v["shoulder_flex_l_3d_deg"] == pytest.approx(180.0, abs=1e-6)


def test_no_pose_gives_every_column_empty():
    j = measure_joints(None, W, H, "unknown")
    assert set(j.values) == set(ANGLE_COLUMNS) and all(v is None for v in j.values.values())
    assert j.flags == ["no_pose"]
