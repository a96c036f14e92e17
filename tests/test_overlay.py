"""The overlay on real frames: drawn where the landmarks are, mirrored with the picture,
and silent (no lines) where a reading is withheld."""

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtGui import QImage

from posture_monitor.core.landmarks import INDEX
from posture_monitor.core.metrics import Measurement, measure
from posture_monitor.core.pose import Pose
from posture_monitor.gui.overlay import OverlayOptions, no_reading_lines, render_overlay
from tests.conftest import FIXTURES, SEATED


def _process(model, path):
    from posture_monitor.core.pipeline import PosePipeline
    from posture_monitor.core.sources import open_source

    with PosePipeline(sequence=False, model=model) as pipe, open_source(path) as src:
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


def test_size_and_input_untouched(qapp, hunchback):
    frame = hunchback.frame.image
    before = frame.copy()
    image = render_overlay(frame, hunchback.pose, hunchback.measurement,
                           hunchback.classification)
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
    assert "Torso: no reading (out of frame: left hip)" in no_reading_lines(m)

    out = _bgr(render_overlay(frame, moved, m))
    r = 3
    assert np.array_equal(out[my - r : my + r + 1, mx - r : mx + r + 1],
                          frame[my - r : my + r + 1, mx - r : mx + r + 1])
    assert _changed(out, frame, 25, 25, r=5)  # the notice box at the top-left
    assert _changed(out, frame, *_px(moved, "left_shoulder", w, h))  # CVA still drawn


def test_label_box_only_with_a_label(qapp, hunchback):
    frame = hunchback.frame.image
    h, w = frame.shape[:2]
    assert hunchback.classification.label
    with_label = _bgr(render_overlay(frame, hunchback.pose, hunchback.measurement,
                                     hunchback.classification))
    without = _bgr(render_overlay(frame, hunchback.pose, hunchback.measurement, None))
    corner = (slice(h - 30, h - 10), slice(10, 60))
    assert not np.array_equal(with_label[corner], frame[corner])
    assert np.array_equal(without[corner], frame[corner])
    abstained = replace(hunchback.classification, label=None, confidence=None)
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
        "CVA: no reading (low visibility: left ear)",
        "Oblique view: turn side-on or face the camera",
        "Seen from behind: no reading",
        "Shoulders not visible: no reading (out of frame: left shoulder)",
    ]
    assert no_reading_lines(Measurement("left", -90.0, {}, [])) == []
