"""The committed desk webcam clips (real, BSD-2) and the forward-head sequences built from
them by tools/fetch_test_media.py. Cheap: no pose estimation here (the builder itself uses
MediaPipe once, and `make test` has already built the clips into tests/.media)."""

import hashlib

import cv2
import numpy as np
import pytest

SHA256 = {
    "front_cam2.mp4": "e094cf26c0297edf879d77f0786873e5111281a12661080a58bcc4055fa372ea",
    "front_low_cam0.mp4": "3d41354796133b6aa7103befb518ed87b2d2da28455988d185d5a824b8e9d9d3",
    "oblique_cam1.mp4": "94dd9b2fc86245ba4c35a6a2d58e7269d5d61f87fed668183267949aa4d77737",
    "LICENSE.BSD-2-Clause.txt":
        "99eec61852f6e7281acce0c0f2e11f07cd1ee16be181e528c026af223d14302b",
}


def test_fixture_files_match_their_recorded_sha256(desk_webcam_dir):
    readme = (desk_webcam_dir / "README.md").read_text(encoding="utf-8")
    for name, sha in SHA256.items():
        assert hashlib.sha256((desk_webcam_dir / name).read_bytes()).hexdigest() == sha, name
        assert sha in readme, f"{name}: sha256 not recorded in README.md"
    assert "BSD 2-Clause" in (desk_webcam_dir / "LICENSE.BSD-2-Clause.txt").read_text()


def _video(path, keep=()):
    """fps, (width, height), number of frames decoded, {index: frame} for indices in keep."""
    cap = cv2.VideoCapture(str(path))
    fps, size = cap.get(cv2.CAP_PROP_FPS), (cap.get(cv2.CAP_PROP_FRAME_WIDTH),
                                            cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    count, kept = 0, {}
    while cap.grab():
        if count in keep:
            kept[count] = cap.retrieve()[1]
        count += 1
    cap.release()
    return fps, size, count, kept


def _diff(a, b):
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


@pytest.mark.parametrize("low", [False, True], ids=["front", "low"])
def test_forward_head_sequence_has_the_clips_rate_size_and_70_s(low, desk_webcam_dir):
    from fetch_test_media import DESK_VARIANTS, _pingpong, desk_forward_head_sequence

    path = desk_forward_head_sequence(low=low)
    clip, used = DESK_VARIANTS[path.name]
    check = (0, 60, 119, 330, 419)  # 0, 10, 19.8, 55 and 69.8 s: upright
    fps, size, count, frames = _video(path, check)
    assert fps == 6.0 and size == (1280, 720)
    assert count == 420  # (20 + 30 + 20) s x 6 fps
    # the upright phases are the real frames, played forwards then backwards
    _, _, _, real = _video(desk_webcam_dir / clip, {_pingpong(i, used) for i in check})
    for i in check:
        diff = _diff(frames[i], real[_pingpong(i, used)]).mean()
        assert diff < 4.0, (i, diff)  # only the mp4v re-encoding (about 2.5)


def test_forward_head_moves_the_head_not_the_torso(desk_webcam_dir):
    from fetch_test_media import _pingpong, desk_forward_head_sequence

    upright, forward = 60, 210  # 10 s and 35 s (full forward head): real frames 60 and 38
    frames = _video(desk_forward_head_sequence(), {upright, forward})[3]
    real = _video(desk_webcam_dir / "front_cam2.mp4", {60, 38})[3]
    head = (slice(250, 450), slice(700, 900))  # ears at about y 325, x 700-900
    assert _diff(frames[upright], real[60]).mean(axis=2)[head].mean() < 5.0  # about 2.5
    diff = _diff(frames[forward], real[_pingpong(forward, 63)]).mean(axis=2)
    assert diff[head].mean() > 15.0  # moved (about 40)
    assert diff[520:].mean() < 4.0  # below the shoulder line (y about 465-480): untouched
    assert diff[:, :500].mean() < 4.0  # the room left of the person: untouched


def test_forward_head_ramps_in_at_20_s_out_at_50_s_and_the_pingpong_steps_by_one():
    from fetch_test_media import _forward_head_strength, _pingpong

    assert [_forward_head_strength(t) for t in (0.0, 19.99, 20.0, 51.5, 69.9)] == [0.0] * 5
    assert all(_forward_head_strength(t) == 1.0 for t in (21.5, 35.0, 50.0))
    assert 0.4 < _forward_head_strength(20.75) < 0.6 and 0.4 < _forward_head_strength(50.75) < 0.6
    seq = [_pingpong(i, 63) for i in range(420)]
    assert np.abs(np.diff(seq)).max() == 1 and max(seq) == 62 and min(seq) == 0
