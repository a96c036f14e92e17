"""Every metric and sign convention on constructed landmarks with exactly known angles."""

import math

import pytest

from posture_monitor.core.common.settings import QualitySettings
from posture_monitor.core.measure.camera_tilt import NOT_REMOVED_FLAG
from posture_monitor.core.measure.definitions import (
    ANY_VIEW,
    METRIC_BY_COLUMN,
    METRIC_COLUMNS,
    METRICS,
)
from posture_monitor.core.measure.metrics import classify_view, measure
from posture_monitor.core.vision.landmarks import INDEX
from tests.posegen import H, W, blank_pose, front_pose, put, side_pose


@pytest.mark.parametrize("view", ["left", "right"])
@pytest.mark.parametrize("cva,torso,flex", [(50.0, 10.0, 5.0), (72.5, -12.0, -8.0),
                                            (95.0, 35.0, 20.0)])
def test_side_view_angles_exact(view, cva, torso, flex):
    m = measure(side_pose(view, cva, torso, flex), W, H)
    assert m.view == view
    assert m.values["cva_deg"] == pytest.approx(cva, abs=1e-6)
    assert m.values["neck_incl_deg"] == pytest.approx(90.0 - cva, abs=1e-6)
    assert m.values["torso_incl_deg"] == pytest.approx(torso, abs=1e-6)
    assert m.values["head_flex_deg"] == pytest.approx(flex, abs=1e-6)
    for col in ("shoulder_tilt_deg", "head_tilt_deg", "lateral_lean_deg", "fwd_head_ratio"):
        assert m.values[col] is None  # frontal metrics never come out of a side view
    assert m.flags == [NOT_REMOVED_FLAG]  # the 3D ones read, the camera's tilt not removed


def test_side_view_signs_slouch_and_chin_down_positive_recline_negative():
    slouched = measure(side_pose("left", 40.0, 30.0, 15.0), W, H).values
    reclined = measure(side_pose("right", 95.0, -25.0, -10.0), W, H).values
    assert slouched["cva_deg"] < 50 and slouched["neck_incl_deg"] > 0  # head forward
    assert slouched["torso_incl_deg"] > 0 and reclined["torso_incl_deg"] < 0
    assert slouched["head_flex_deg"] > 0 > reclined["head_flex_deg"]  # chin down / up
    assert reclined["neck_incl_deg"] < 0  # ear behind the shoulder


@pytest.mark.parametrize("tilt,head,lean", [(5.0, -7.0, 3.0), (-4.0, 12.0, -6.0), (0, 0, 0)])
def test_frontal_angles_exact(tilt, head, lean):
    m = measure(front_pose(tilt, head, lean), W, H)
    assert m.view == "front"
    assert m.values["shoulder_tilt_deg"] == pytest.approx(tilt, abs=1e-6)
    assert m.values["head_tilt_deg"] == pytest.approx(head, abs=1e-6)
    assert m.values["lateral_lean_deg"] == pytest.approx(lean, abs=1e-6)
    for col in ("cva_deg", "neck_incl_deg", "torso_incl_deg", "head_flex_deg"):
        assert m.values[col] is None


def test_back_view_is_reported_but_not_measured():
    # MediaPipe may swap left and right when it believes it sees a back: no signed guess.
    m = measure(front_pose(5.0, 5.0, 5.0, from_behind=True), W, H)
    assert m.view == "back" and m.flags == ["view:back", NOT_REMOVED_FLAG]
    # the 3D metrics read in every view (issue 15: tests/test_posture3d.py), no 2D one
    assert all(v is None for c, v in m.values.items() if METRIC_BY_COLUMN[c].views != ANY_VIEW)
    assert m.values["trunk_tilt_3d_deg"] == pytest.approx(0.0)


def test_forward_head_ratio_exact_and_front_only():
    m = measure(front_pose(nose_height=150.0), W, H)
    assert m.values["fwd_head_ratio"] == pytest.approx(150.0 / 200.0)  # shoulder width 200 px
    lower = measure(front_pose(nose_height=90.0), W, H).values["fwd_head_ratio"]
    assert lower < m.values["fwd_head_ratio"]  # head lower/forward = smaller


def test_head_tilt_falls_back_to_eyes():
    pose = front_pose(head_tilt=6.0)
    pose.visibility[INDEX["left_ear"]] = 0.1
    m = measure(pose, W, H)
    assert m.values["head_tilt_deg"] == pytest.approx(6.0, abs=1e-6)  # from the eyes


def test_aspect_ratio_is_respected():
    # The same normalized landmarks on a square frame give a different, wrong angle:
    # the metric must use pixels.
    pose = side_pose("right", 60.0, 0.0, 0.0)
    assert measure(pose, W, H).values["cva_deg"] == pytest.approx(60.0, abs=1e-6)
    assert measure(pose, W, W).values["cva_deg"] != pytest.approx(60.0, abs=1.0)


@pytest.mark.parametrize("yaw,view", [(0, "front"), (29, "front"), (-31, "oblique"),
                                      (45, "oblique"), (-61, "left"), (-90, "left"),
                                      (90, "right"), (119, "right"), (135, "oblique"),
                                      (151, "back"), (-179, "back")])
def test_view_follows_the_shoulder_yaw_bands(yaw, view):
    assert classify_view(yaw, QualitySettings()) == view
    assert measure(blank_pose(yaw), W, H).view == view


def test_no_pose_gives_empty_row_with_reason():
    m = measure(None, W, H)
    assert m.view == "unknown" and m.flags == ["no_pose"]
    assert all(m.values[c] is None for c in METRIC_COLUMNS)


def test_oblique_view_withholds_everything():
    pose = side_pose("left", 50, 10, 0)
    yaw = math.radians(-45)
    pose.world[INDEX["left_shoulder"]] = (0.18 * math.cos(yaw), -0.5, 0.18 * math.sin(yaw))
    pose.world[INDEX["right_shoulder"]] = (-0.18 * math.cos(yaw), -0.5, -0.18 * math.sin(yaw))
    m = measure(pose, W, H)
    assert m.view == "oblique" and m.flags == ["view:oblique", NOT_REMOVED_FLAG]
    assert all(v is None for c, v in m.values.items() if METRIC_BY_COLUMN[c].views != ANY_VIEW)
    assert m.values["trunk_tilt_3d_deg"] is not None


def test_hip_out_of_frame_withholds_torso_only():
    pose = side_pose("left", 50, 10, 0)
    put(pose, "left_hip", 600, H + 40)  # below the frame: guessed under the desk
    m = measure(pose, W, H)
    assert m.values["torso_incl_deg"] is None
    assert "torso_incl_deg:out_of_frame:left_hip" in m.flags
    assert m.values["cva_deg"] == pytest.approx(50, abs=1e-6)  # head metrics unaffected


def test_low_visibility_ear_withholds_head_metrics():
    pose = side_pose("right", 50, 10, 0)
    pose.visibility[INDEX["right_ear"]] = 0.2
    m = measure(pose, W, H)
    assert m.values["cva_deg"] is None and m.values["neck_incl_deg"] is None
    assert "cva_deg:low_visibility:right_ear" in m.flags


def test_implausible_hips_under_desk_are_rejected():
    # Visible, in frame, but the trunk is only as long as the neck: a guessed hip.
    pose = side_pose("left", 50, 0, 0)
    shoulder = pose.image[INDEX["left_shoulder"], :2] * (W, H)
    put(pose, "left_hip", shoulder[0], shoulder[1] + 100)
    m = measure(pose, W, H)
    assert m.values["torso_incl_deg"] is None
    assert "torso_incl_deg:implausible:torso_short" in m.flags
    pose = side_pose("left", 50, 0, 0)
    pose.world[INDEX["left_hip"], 1] = pose.world[INDEX["right_hip"], 1] = 1.5  # 2 m trunk
    assert "torso_incl_deg:implausible:torso_length" in measure(pose, W, H).flags


def test_unclear_facing_withholds_side_metrics():
    pose = side_pose("left", 70, 0, 0)
    ear = pose.image[INDEX["left_ear"], :2] * (W, H)
    put(pose, "nose", ear[0] + 2, ear[1])  # nose not ahead of the ear: direction unknown
    m = measure(pose, W, H)
    assert m.values["cva_deg"] is None
    assert "cva_deg:facing_unclear" in m.flags


def test_metric_table_columns_are_unique_and_each_fully_described():
    cols = [m.column for m in METRICS]
    assert len(cols) == len(set(cols))
    for m in METRICS:
        assert m.unit in ("deg", "ratio", "cm") and m.sign in (1, -1) and m.views and m.convention
