"""Frame sources on real files, and their one-line errors."""

import json
import shutil

import numpy as np
import pytest

from posture_monitor.core.capture.sources import (
    CameraSource,
    ImageFilesSource,
    VideoFileSource,
    open_source,
)
from posture_monitor.core.capture.worker import CaptureWorker, LatestFrameMailbox
from posture_monitor.core.common.errors import SourceError
from tests.conftest import FIXTURES, SEATED


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
        worker = CaptureWorker(b)
        fetched = [f.image[::50, ::50].copy() for f in worker.frames()]
    assert len(fetched) == len(direct) == 230
    assert all(np.array_equal(x, y) for x, y in zip(direct, fetched, strict=True))
    assert worker.decode_ms > 0 and worker.dropped == 0


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


# --- container timestamps (variable frame rate) ----------------------------------------
# A phone's video changes its rate with the light: 25 fps, then 12.5, then 50 (ms steps).
VFR_STEPS_MS = [40] * 14 + [80] * 12 + [20] * 14


def _write_video(path, frames, times_ms):
    """Encode `frames` with exactly these presentation times (PyAV, explicit pts)."""
    from fractions import Fraction

    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4")
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = stream.time_base = Fraction(1, 1000)
        for image, t in zip(frames, times_ms, strict=True):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.fixture(scope="module")
def real_frames():
    """40 real frames of a person at a desk (the committed front webcam clip), half size."""
    import cv2

    cap = cv2.VideoCapture(str(FIXTURES / "desk_webcam_bsd2" / "front_cam2.mp4"))
    frames = []
    while len(frames) < len(VFR_STEPS_MS):
        ok, image = cap.read()
        assert ok
        frames.append(cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2)))
    cap.release()
    return frames


def _vfr_times_ms() -> list[int]:
    return [int(t) for t in np.concatenate([[0], np.cumsum(VFR_STEPS_MS[:-1])])]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_video_uses_the_container_timestamps(tmp_path, real_frames,
                                                                  suffix):
    # .mkv has no frame count: OpenCV estimates it from duration x nominal rate, which
    # must not make a complete variable-rate file look truncated
    path = tmp_path / f"phone{suffix}"
    times = _vfr_times_ms()
    _write_video(path, real_frames, times)
    with open_source(path) as src:
        got = [f.time_s for f in src]
    assert len(got) == len(times)
    assert np.allclose(got, np.array(times) / 1000.0, atol=0.0015)
    # after a seek (the window's scrubber) the time is still the one of the picture shown
    # (OpenCV's frame seek is only approximate on a variable rate)
    with open_source(path) as src:
        pictures = [f.image for f in src]
        src.seek(30)
        frame = src.read()
    k = int(np.argmin(np.abs(np.array(times) - frame.time_s * 1000.0)))
    assert abs(times[k] - frame.time_s * 1000.0) < 1.5 and abs(k - 30) <= 2
    assert np.array_equal(frame.image, pictures[k])


def test_analyze_writes_the_container_times_of_a_variable_rate_video(tmp_path, real_frames):
    import subprocess
    import sys

    from tests.conftest import ROOT, read_rows

    times = _vfr_times_ms()
    _write_video(tmp_path / "phone.mp4", real_frames, times)
    constant = [i * 40 for i in range(len(real_frames))]  # 25 fps throughout
    _write_video(tmp_path / "steady.mp4", real_frames, constant)
    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze",
                           str(tmp_path / "phone.mp4"), str(tmp_path / "steady.mp4"),
                           "--out", str(tmp_path / "out"), "--model", "lite",
                           "--classifier", "none", "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for stem, expected in (("phone", times), ("steady", constant)):
        rows = read_rows(tmp_path / "out" / f"{stem}.csv")
        written = np.array([float(r["time_s"]) for r in rows])
        assert len(written) == len(expected)
        assert np.abs(written - np.array(expected) / 1000.0).max() <= 0.0015, stem
        assert (np.diff(written) > 0).all()
    assert sum(r["pose_detected"] == "1" for r in rows) > 20  # real frames, a real person
    # --baseline-from takes the seconds asked for: 1.5 to 1.8 s are the 14 frames at 50 fps
    # (frame 1.5 x average rate is later: 1.66 s)
    proc = subprocess.run([sys.executable, "-m", "posture_monitor", "analyze",
                           str(tmp_path / "phone.mp4"), "--baseline-from", "1.5:1.8",
                           "--out", str(tmp_path / "base"), "--model", "lite",
                           "--classifier", "none", "--quiet"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((tmp_path / "base" / "phone.json").read_text())
    assert max(m["n"] for m in meta["baseline"]["metrics"].values()) == 14


def test_constant_rate_video_times_are_frame_index_over_fps(sports2d_video, media_dir):
    for path, fps in ((sports2d_video, 30.0), (media_dir / "pose2sim_cam02.mp4", 60.0)):
        with open_source(path) as src:
            times = np.array([f.time_s for f in src])
        assert np.abs(times - np.arange(len(times)) / fps).max() < 1e-6


class _NoTimestamps:
    """A capture whose container gives no usable position (OpenCV answers 0 or junk)."""

    def __init__(self, cap, answers):
        self._cap, self._answers = cap, iter(answers)

    def get(self, prop):
        import cv2

        if prop == cv2.CAP_PROP_POS_MSEC:
            return next(self._answers, 0.0)
        return self._cap.get(prop)

    def __getattr__(self, name):
        return getattr(self._cap, name)


def test_missing_or_broken_timestamps_fall_back_to_the_frame_rate(sports2d_video):
    with open_source(sports2d_video) as src:
        src._cap = _NoTimestamps(src._cap, [])  # nothing: index / fps
        times = [f.time_s for f in src]
    assert np.abs(np.array(times) - np.arange(230) / 30.0).max() < 1e-9
    with open_source(sports2d_video) as src:
        # then the clock stalls, runs backwards, gives NaN and jumps a hair: still strictly
        # increasing, by at least a millisecond (MediaPipe's integer timestamps)
        src._cap = _NoTimestamps(src._cap, [100.0, 100.0, 50.0, float("nan"), 200.5, 500.0])
        times = [src.read().time_s for _ in range(7)]
    assert times[1] == pytest.approx(0.1)
    assert times[2] == pytest.approx(0.1 + 1 / 30) and times[3] == pytest.approx(0.1 + 2 / 30)
    assert times[4] == pytest.approx(0.1 + 3 / 30)
    assert times[5] == pytest.approx(times[4] + 0.001)  # 200.5 ms: only 0.5 ms later
    assert times[6] == pytest.approx(0.5)
    assert all(b - a >= 0.001 - 1e-12 for a, b in zip(times, times[1:], strict=False))
