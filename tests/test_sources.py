"""Frame sources on real files, and their one-line errors."""

import shutil

import numpy as np
import pytest

from posture_monitor.core.errors import SourceError
from posture_monitor.core.frames import LatestFrameMailbox, iter_frames
from posture_monitor.core.sources import (
    CameraSource,
    ImageFilesSource,
    VideoFileSource,
    open_source,
)
from tests.conftest import SEATED


def test_video_file_reads_every_frame_with_times(sports2d_video):
    with open_source(sports2d_video) as src:
        assert isinstance(src, VideoFileSource)
        assert (src.width, src.height, src.fps, src.frame_count) == (1768, 994, 30.0, 230)
        frames = list(src)
    assert len(frames) == 230
    assert [f.index for f in frames[:3]] == [0, 1, 2]
    assert frames[30].time_s == pytest.approx(1.0)
    assert frames[0].image.shape == (994, 1768, 3) and frames[0].image.dtype == np.uint8


def test_prefetching_yields_the_same_frames_in_order(sports2d_video):
    with open_source(sports2d_video) as a, open_source(sports2d_video) as b:
        direct = [f.image[::50, ::50].copy() for f in a]
        timings = {}
        fetched = [f.image[::50, ::50].copy() for f in iter_frames(b, timings=timings)]
    assert len(fetched) == len(direct) == 230
    assert all(np.array_equal(x, y) for x, y in zip(direct, fetched, strict=True))
    assert timings["decode_ms"] > 0


def test_folder_of_images_in_natural_order(tmp_path):
    for i, name in enumerate(["img10.jpg", "img2.jpg", "img1.jpg"]):
        shutil.copy(sorted(SEATED.glob("*.jpg"))[i], tmp_path / name)
    (tmp_path / "notes.txt").write_text("not an image")
    with open_source(tmp_path) as src:
        assert isinstance(src, ImageFilesSource) and not src.is_sequence
        names = [f.name for f in src]
    assert names == ["img1.jpg", "img2.jpg", "img10.jpg"]


def test_single_image(tmp_path):
    with open_source(SEATED / "straight_hf.jpg") as src:
        (frame,) = list(src)
    assert frame.image.shape == (1280, 720, 3) and src.kind == "image"


def _message(exc_info) -> str:
    msg = str(exc_info.value)
    assert "\n" not in msg and len(msg) < 300  # one line a user can read
    return msg


def test_missing_file():
    with pytest.raises(SourceError) as e:
        open_source("/no/such/clip.mp4")
    assert "not found" in _message(e)


def test_text_file_named_mp4(tmp_path):
    fake = tmp_path / "clip.mp4"
    fake.write_text("this is not a video\n" * 50)
    with pytest.raises(SourceError) as e:
        open_source(fake)
    assert "not a readable video" in _message(e)


def test_truncated_video_reports_after_keeping_frames(tmp_path, sports2d_video):
    cut = tmp_path / "cut.mp4"
    data = sports2d_video.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    src = open_source(cut)
    frames = 0
    with pytest.raises(SourceError) as e:
        for _ in src:
            frames += 1
    assert 50 < frames < 230
    assert f"only {frames} of 230 frames" in _message(e)


def test_video_without_its_index_is_unreadable(tmp_path, sports2d_video):
    cut = tmp_path / "head.mp4"
    cut.write_bytes(sports2d_video.read_bytes()[:2000])  # header cut mid-way
    with pytest.raises(SourceError):
        open_source(cut)


def test_empty_folder(tmp_path):
    with pytest.raises(SourceError) as e:
        open_source(tmp_path)
    assert "no images in folder" in _message(e)


def test_folder_of_videos_gets_a_hint(tmp_path, sports2d_video):
    shutil.copy(sports2d_video, tmp_path / "a.mp4")
    with pytest.raises(SourceError) as e:
        open_source(tmp_path)
    assert "pass them as inputs" in _message(e)


def test_corrupt_image(tmp_path):
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(SourceError) as e:
        open_source(bad)
    assert "not a readable image" in _message(e)


def test_missing_camera():
    with pytest.raises(SourceError) as e:
        CameraSource(7)
    assert "no camera at index 7" in _message(e)


def test_mailbox_keeps_newest_and_counts_drops():
    box = LatestFrameMailbox()
    for i in range(5):
        box.put(i)
    assert box.get(timeout=0.1) == 4
    assert box.dropped == 4
    assert box.get(timeout=0.01) is None
