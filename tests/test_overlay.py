"""The overlay on real frames: drawn where the landmarks are, mirrored with the picture,
and silent (no lines) where a reading is withheld."""

import re
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtGui import QImage

from posture_monitor.core.classify.classifier import Classification
from posture_monitor.core.measure.metrics import Measurement, measure
from posture_monitor.core.vision.landmarks import INDEX
from posture_monitor.core.vision.pose import Pose
from posture_monitor.gui.overlay import OverlayOptions, no_reading_lines, render_overlay
from tests.conftest import FIXTURES, SEATED


def _process(model, path):
    """The first frame of a real picture or clip. No posture classifier: the overlay is
    tested on its own, and the label box with a label made here."""
    from posture_monitor.core.capture.sources import open_source
    from posture_monitor.core.common.settings import AnalysisSettings
    from posture_monitor.core.posture.pipeline import PosePipeline

    settings = AnalysisSettings(classifier="none")
    with PosePipeline(settings, sequence=False, model=model) as pipe, open_source(path) as src:
        return pipe.process(next(iter(src)))


@pytest.fixture(scope="module")
def hunchback(full_model):
    result = _process(full_model, SEATED / "hunchback.jpg")
    assert result.pose is not None and result.measurement.view == "left"
    assert result.measurement.values["cva_deg"] is not None
    assert result.measurement.values["torso_incl_deg"] is not None
    return result


def _bgr(image: QImage) -> np.ndarray:
    """QImage -> BGR uint8 array, for pixel comparisons with the input frame."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = rgb.width(), rgb.height(), rgb.bytesPerLine()
    rows = np.frombuffer(rgb.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return rows[:, : w * 3].reshape(h, w, 3)[:, :, ::-1].copy()


def _px(pose: Pose, name: str, w: int, h: int) -> tuple[int, int]:
    x, y = pose.image[INDEX[name], :2]
    return min(int(x * w), w - 1), min(int(y * h), h - 1)


def _changed(out: np.ndarray, ref: np.ndarray, x: int, y: int, r: int = 1) -> bool:
    a = out[y - r : y + r + 1, x - r : x + r + 1].astype(int)
    b = ref[y - r : y + r + 1, x - r : x + r + 1].astype(int)
    return int(np.abs(a - b).max()) > 40


def test_overlay_keeps_the_frame_size_and_leaves_the_input_untouched(qapp, hunchback):
    frame = hunchback.frame.image
    before = frame.copy()
    image = render_overlay(frame, hunchback.pose, hunchback.measurement)
    h, w = frame.shape[:2]
    assert (image.width(), image.height()) == (w, h)
    assert np.array_equal(frame, before)


def test_drawn_at_ear_and_shoulder_but_not_in_a_free_corner(qapp, hunchback):
    frame = hunchback.frame.image
    h, w = frame.shape[:2]
    out = _bgr(render_overlay(frame, hunchback.pose, hunchback.measurement))
    for name in ("left_ear", "left_shoulder"):
        assert _changed(out, frame, *_px(hunchback.pose, name, w, h)), name
    # The person sits left of centre and nothing is flagged: the top-right is bare picture.
    assert np.array_equal(out[:40, w - 40 :], frame[:40, w - 40 :])


def test_mirror_moves_overlay_with_picture(qapp, hunchback):
    frame = hunchback.frame.image
    h, w = frame.shape[:2]
    mirrored = frame[:, ::-1]
    out = _bgr(render_overlay(frame, hunchback.pose, hunchback.measurement,
                              options=OverlayOptions(mirror=True)))
    for name in ("left_ear", "left_shoulder"):
        x, y = _px(hunchback.pose, name, w, h)
        assert _changed(out, mirrored, w - 1 - x, y), name
    # The picture itself is mirrored: the bare top-right corner is now at the top-left.
    assert np.array_equal(out[:40, :40], mirrored[:40, :40])
    assert not np.array_equal(out[:40, :40], frame[:40, :40])


def test_no_pose_draws_only_the_notice_box(qapp, hunchback):
    frame = hunchback.frame.image
    h, w = frame.shape[:2]
    m = measure(None, w, h)
    assert m.flags == ["no_pose"]
    out = _bgr(render_overlay(frame, None, m, options=OverlayOptions(grid=False)))
    diff = np.abs(out.astype(int) - frame.astype(int)).max(axis=2) > 0
    ys, xs = np.nonzero(diff)
    assert len(ys) > 0
    # Everything changed lies in one box at the top-left, nothing elsewhere.
    assert ys.min() < 20 and xs.min() < 20
    assert ys.max() < h // 8 and xs.max() < w - 20
    assert no_reading_lines(m) == ["No person found: no reading"]


def test_withheld_torso_is_not_drawn_but_reported(qapp, hunchback):
    frame = hunchback.frame.image
    h, w = frame.shape[:2]
    pose = hunchback.pose
    hip, shoulder = pose.image[INDEX["left_hip"], :2], pose.image[INDEX["left_shoulder"], :2]
    mx, my = int((hip[0] + shoulder[0]) / 2 * w), int((hip[1] + shoulder[1]) / 2 * h)
    full = _bgr(render_overlay(frame, pose, hunchback.measurement))
    assert _changed(full, frame, mx, my)  # the torso line is there when measured

    moved = Pose(pose.image.copy(), pose.world.copy(), pose.visibility.copy(),
                 pose.presence.copy())
    for name in ("left_hip", "right_hip"):
        moved.image[INDEX[name], 1] = 1.2  # below the frame: under a desk, say
    m = measure(moved, w, h)
    assert m.view == "left" and m.values["torso_incl_deg"] is None
    assert m.values["cva_deg"] is not None
    assert "Torso inclination: no reading (out of frame: left hip)" in no_reading_lines(m)

    out = _bgr(render_overlay(frame, moved, m))
    r = 3
    assert np.array_equal(out[my - r : my + r + 1, mx - r : mx + r + 1],
                          frame[my - r : my + r + 1, mx - r : mx + r + 1])
    assert _changed(out, frame, 25, 25, r=5)  # the notice box at the top-left
    assert _changed(out, frame, *_px(moved, "left_shoulder", w, h))  # CVA still drawn


def test_label_box_only_with_a_label(qapp, hunchback):
    frame = hunchback.frame.image
    h, w = frame.shape[:2]
    labelled = Classification({"forward_head": 0.9}, "forward_head", 0.9)
    texts = []
    with_label = _bgr(render_overlay(frame, hunchback.pose, hunchback.measurement, labelled,
                                     texts=texts))
    assert "forward head 90 %" in texts
    without = _bgr(render_overlay(frame, hunchback.pose, hunchback.measurement, None))
    corner = (slice(h - 30, h - 10), slice(10, 60))
    assert not np.array_equal(with_label[corner], frame[corner])
    assert np.array_equal(without[corner], frame[corner])
    abstained = replace(labelled, label=None, confidence=None)
    silent = _bgr(render_overlay(frame, hunchback.pose, hunchback.measurement, abstained))
    assert np.array_equal(silent[corner], frame[corner])


def test_front_view_draws_the_shoulder_line(qapp, full_model):
    result = _process(full_model, FIXTURES / "skimage" / "astronaut.png")
    m = result.measurement
    assert m.view == "front" and m.values["shoulder_tilt_deg"] is not None
    frame = result.frame.image
    h, w = frame.shape[:2]
    out = _bgr(render_overlay(frame, result.pose, m))
    (lx, ly), (rx, ry) = (_px(result.pose, n, w, h) for n in ("left_shoulder", "right_shoulder"))
    assert _changed(out, frame, (lx + rx) // 2, (ly + ry) // 2)


def test_no_reading_lines_name_metrics_and_frame_reasons():
    m = Measurement("unknown", None, {}, ["cva_deg:low_visibility:left_ear", "view:oblique",
                                          "view:back", "view:out_of_frame:left_shoulder"])
    assert no_reading_lines(m) == [
        "CVA (proxy): no reading (low visibility: left ear)",
        "Oblique view: turn side-on or face the camera",
        "Seen from behind: no reading",
        "Shoulders not visible: no reading (out of frame: left shoulder)",
    ]
    assert no_reading_lines(Measurement("left", -90.0, {}, [])) == []


# --- the front view: neck height, head forward distance and pitch (issue 10) -----------

FRONT_MEASURES = ("head_fwd_cm", "head_size_ratio", "neck_height_ratio", "head_pitch_deg",
                  "trunk_flex_3d_deg")


@pytest.fixture(scope="module")
def facing(full_model, media_dir):
    """A real person facing the camera (pose2sim cam02, first frame): every front measure
    is read."""
    result = _process(full_model, media_dir / "pose2sim_cam02.mp4")
    m = result.measurement
    assert m.view == "front", m.flags
    assert all(m.values[c] is not None for c in FRONT_MEASURES), m.flags
    return result


def _screen(pose: Pose, names: tuple[str, ...], w: int, h: int, mirror: bool) -> np.ndarray:
    """Mean screen position of landmarks (as the overlay places them)."""
    xy = np.mean([pose.image[INDEX[n], :2] * (w, h) for n in names], axis=0)
    if mirror:
        xy[0] = w - xy[0]
    return xy


def _neck_line_middle(pose: Pose, w: int, h: int, mirror: bool) -> tuple[int, int]:
    """Middle of the neck height mark: straight above the shoulder midpoint, half-way up
    to the ear midpoint's height."""
    sh = _screen(pose, ("left_shoulder", "right_shoulder"), w, h, mirror)
    ear = _screen(pose, ("left_ear", "right_ear"), w, h, mirror)
    return int(round(sh[0])), int(round((sh[1] + ear[1]) / 2))


@pytest.mark.parametrize("mirror", [False, True])
def test_front_view_draws_neck_height_head_forward_and_pitch(qapp, facing, mirror):
    frame = facing.frame.image
    h, w = frame.shape[:2]
    m = facing.measurement
    texts: list[str] = []
    out = _bgr(render_overlay(frame, facing.pose, m, options=OverlayOptions(mirror=mirror),
                              texts=texts))
    picture = frame[:, ::-1] if mirror else frame
    x, y = _neck_line_middle(facing.pose, w, h, mirror)
    assert _changed(out, picture, x, y), "the neck height mark"
    fwd, pitch = m.values["head_fwd_cm"], m.values["head_pitch_deg"]
    assert f"Neck height {m.values['neck_height_ratio']:.2f}" in texts
    assert f"Head {abs(fwd):.0f} cm {'ahead' if fwd >= 0 else 'behind'}" in texts
    assert f"Chin {'down' if pitch >= 0 else 'up'} {abs(pitch):.0f}°" in texts
    assert any(t.startswith("Shoulder tilt ") for t in texts)  # the shoulder line's label
    assert not any("no reading" in t for t in texts)  # nothing withheld, no notice box


def test_withheld_front_measures_are_not_drawn_but_named(qapp, facing):
    frame = facing.frame.image
    h, w = frame.shape[:2]
    pose = facing.pose
    hidden = Pose(pose.image.copy(), pose.world.copy(), pose.visibility.copy(),
                  pose.presence.copy())
    hidden.visibility[INDEX["left_ear"]] = 0.1  # hair or a hand over the ear, say
    m = measure(hidden, w, h)
    assert m.view == "front"
    for c in ("head_fwd_cm", "head_size_ratio", "neck_height_ratio", "head_pitch_deg"):
        assert m.values[c] is None, c
    assert m.values["trunk_flex_3d_deg"] is not None  # hips and shoulders: still read
    assert m.values["head_tilt_deg"] is not None  # from the eyes instead

    texts: list[str] = []
    out = _bgr(render_overlay(frame, hidden, m, texts=texts))
    x, y = _neck_line_middle(pose, w, h, False)
    r = 2
    assert np.array_equal(out[y - r : y + r + 1, x - r : x + r + 1],
                          frame[y - r : y + r + 1, x - r : x + r + 1]), "no neck mark"
    values = [t for t in texts if "no reading" not in t]
    assert any(t.startswith("Head tilt ") for t in values)  # still drawn, from the eyes
    assert not [t for t in values if t.startswith(("Neck height", "Chin "))
                or re.fullmatch(r"Head \d+ cm (ahead|behind)", t)], values
    for name in ("Head forward", "Head size", "Neck height", "Head pitch"):
        assert f"{name}: no reading (low visibility: left ear)" in texts  # in the box
    # Drawn from the same measurement it is not: with the ear seen, the mark is there.
    full = _bgr(render_overlay(frame, pose, facing.measurement))
    assert _changed(full, frame, x, y)


def test_front_notice_lines_use_the_patient_names():
    m = Measurement("front", 2.0, {}, ["trunk_flex_3d_deg:out_of_frame:left_hip",
                                       "head_fwd_cm:low_visibility:right_ear",
                                       "head_pitch_deg:low_presence:nose"])
    assert no_reading_lines(m) == [
        "Trunk flexion (3D): no reading (out of frame: left hip)",
        "Head forward: no reading (low visibility: right ear)",
        "Head pitch: no reading (low presence: nose)",
    ]
