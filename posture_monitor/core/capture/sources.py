"""Frame sources behind one small interface: camera, video file, image, folder of images.

Everything below this interface (pose, metrics, recording, the GUI) sees only `Frame`s,
so a video file can play the camera's role in tests and in the app.
"""

from __future__ import annotations

import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posture_monitor.core.common.errors import SourceError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})
# A video whose last frames cannot be decoded is reported as truncated when fewer than this
# share of the container's announced frames came out (frame counts in headers are estimates).
TRUNCATED_SHARE = 0.98
# A camera that delivers no frame for this long is reported as lost.
CAMERA_LOST_S = 2.0
# Video frames are at least this far apart (MediaPipe's VIDEO mode needs strictly
# increasing integer milliseconds; the CSV writes milliseconds).
MIN_FRAME_STEP_S = 0.001


@dataclass
class Frame:
    index: int  # 0-based position in the source
    time_s: float  # seconds since the source started (video: the container's timestamp)
    image: np.ndarray | None  # BGR uint8; None for an unreadable file in a folder
    name: str | None = None  # file name for image sources


class FrameSource(ABC):
    """A finite or live stream of frames. Use as a context manager or iterate it."""

    kind: str = "source"
    is_live = False  # frames arrive in real time (a camera): drop stale ones, never queue
    is_sequence = True  # frames are consecutive moments of one scene (tracking, smoothing)

    def __init__(self) -> None:
        self.fps: float | None = None
        self.width = 0
        self.height = 0
        self.frame_count: int | None = None  # None when unknown or endless
        self.description = ""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or None at the end. Raises SourceError on a broken source."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def grab(self) -> bool:
        """Advance one frame without decoding it where the source allows (desk mode keeps
        a camera's buffer fresh this way at a fraction of the cost of reading)."""
        return self.read() is not None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Frame]:
        while (frame := self.read()) is not None:
            yield frame

    def info(self) -> dict:
        return {
            "kind": self.kind,
            "description": self.description,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frame_count": self.frame_count,
        }


class CameraSource(FrameSource):
    kind = "camera"
    is_live = True

    def __init__(self, index: int, width: int | None = None, height: int | None = None,
                 fps: float | None = None) -> None:
        super().__init__()
        self.index = index
        self.description = f"camera {index}"
        # OpenCV logs "[ERROR] ... Camera index out of range" itself when probing a missing
        # camera; we report that in one line of our own, so silence it for the probe.
        log = cv2.utils.logging
        previous = log.getLogLevel()
        log.setLogLevel(log.LOG_LEVEL_SILENT)
        try:
            self._cap = cv2.VideoCapture(index)
        finally:
            log.setLogLevel(previous)
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(
                f"no camera at index {index}: plug one in, choose another index, "
                "or pass a video file instead"
            )
        if width and height:
            self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        if fps:
            self._cap.set(cv2.CAP_PROP_FPS, fps)
        self.width = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or None
        self._t0 = time.monotonic()
        self._index = 0

    def read(self) -> Frame | None:
        deadline = time.monotonic() + CAMERA_LOST_S
        while True:
            ok, image = self._cap.read()
            if ok and image is not None:
                frame = Frame(self._index, time.monotonic() - self._t0, image)
                self._index += 1
                return frame
            if time.monotonic() > deadline:
                raise SourceError(
                    f"camera {self.index} stopped delivering frames (unplugged or in use "
                    "by another program?)"
                )
            time.sleep(0.02)

    def grab(self) -> bool:
        return bool(self._cap.grab())

    def close(self) -> None:
        self._cap.release()


class VideoFileSource(FrameSource):
    kind = "video"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.description = str(path)
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            self._cap.release()
            raise SourceError(
                f"{path} is not a readable video (OpenCV could not open it): check the file "
                "is a complete video such as .mp4 or .avi"
            )
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        # Some containers announce 0 or absurd rates; 30 is what webcams deliver.
        self.fps = fps if 1.0 <= fps <= 1000.0 else 30.0
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 else None
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(
                f"{path} holds no decodable video frame (empty or damaged file): "
                "re-export or re-copy the video"
            )
        self.height, self.width = first.shape[:2]
        self._pending: np.ndarray | None = first
        self._index = 0
        # Times come from the container (a phone's video changes its rate with the light:
        # index / fps would put a frame seconds away from when it was filmed), counted from
        # the first frame; index / fps only where the container gives nothing usable.
        self._origin_s = self._container_s() or 0.0
        self._pending_t = 0.0
        self._last_t: float | None = None

    def _container_s(self) -> float | None:
        """The last read frame's presentation time in seconds, or None when the container
        gives nothing usable (OpenCV answers 0 for a frame without a timestamp)."""
        ms = self._cap.get(cv2.CAP_PROP_POS_MSEC)
        if not isinstance(ms, (int, float)) or not math.isfinite(ms) or ms < 0 or (
                ms == 0 and self._index > 0):
            return None
        return ms / 1000.0

    def _frame_time(self) -> float:
        """This frame's time: the container's, else one frame after the last (index /
        fps from the start or a seek); strictly increasing by at least MIN_FRAME_STEP_S."""
        t = self._container_s()
        last = self._last_t
        if t is not None:
            t -= self._origin_s
        if t is None or (last is not None and t <= last):  # none, stalled or backwards
            t = self._index / self.fps if last is None else last + 1.0 / self.fps
        if last is not None:
            t = max(t, last + MIN_FRAME_STEP_S)
        return t

    def read(self) -> Frame | None:
        if self._pending is not None:
            image, self._pending = self._pending, None
            t = self._pending_t
        else:
            ok, image = self._cap.read()
            if not ok or image is None:
                self._check_complete()
                return None
            t = self._frame_time()
        self._last_t = t
        frame = Frame(self._index, t, image)
        self._index += 1
        return frame

    def _check_complete(self) -> None:
        if self.frame_count and self._index < TRUNCATED_SHARE * self.frame_count - 1:
            # Containers without a frame count (.mkv, .webm) make OpenCV estimate one from
            # duration x nominal rate, too many for a variable rate: frames reaching the
            # announced duration are the whole file.
            duration = self.frame_count / self.fps
            if self._last_t is not None and \
                    self._last_t + 1.0 / self.fps >= TRUNCATED_SHARE * duration:
                return
            raise SourceError(
                f"{self.path} ends early: only {self._index} of {self.frame_count} frames "
                "could be decoded (truncated or damaged file); the frames before were kept"
            )

    def seek(self, index: int) -> None:
        """Continue reading at frame `index` (used by the app's scrubber)."""
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        self._pending = None
        self._index = index
        self._last_t = None  # the clock restarts from the container's time there

    def close(self) -> None:
        self._cap.release()


class VideoAsCameraSource(VideoFileSource):
    """A video file in a camera's role: frames arrive in real time at the file's rate and
    the clip loops, so everything above this interface takes the camera path. Used by the
    tests, the display benchmark and demos on machines without a camera."""

    is_live = True

    def __init__(self, path: Path, loop: bool = True) -> None:
        super().__init__(path)
        self.kind = "camera"
        self.description = f"{path.name} (as a camera)"
        self.loop = loop
        self._t0 = time.monotonic()
        self._delivered = 0

    def read(self) -> Frame | None:
        due = self._t0 + self._delivered / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        frame = super().read()
        if frame is None and self.loop:
            self.seek(0)
            frame = super().read()
        if frame is None:
            return None
        frame = Frame(self._delivered, time.monotonic() - self._t0, frame.image)
        self._delivered += 1
        return frame

    def grab(self) -> bool:
        """Like a camera's grab(): wait for the frame, skip decoding where the codec
        allows (MJPEG), loop at the end."""
        due = self._t0 + self._delivered / self.fps
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if self._pending is not None:
            self._pending = None
            ok = True
        else:
            ok = bool(self._cap.grab())
        if not ok and self.loop:
            self.seek(0)
            ok = bool(self._cap.grab())
        self._delivered += ok
        return ok


def _read_image(path: Path) -> np.ndarray | None:
    # imdecode(fromfile) instead of imread: works with non-ASCII paths on Windows.
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


class ImageFilesSource(FrameSource):
    """One image or a folder of images: independent photos, so no tracking between them."""

    is_sequence = False

    def __init__(self, paths: list[Path], description: str, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.paths = paths
        self.description = description
        self.frame_count = len(paths)
        self._index = 0
        first = _read_image(paths[0])
        if first is None and kind == "image":
            raise SourceError(
                f"{paths[0]} is not a readable image: check the file is a complete "
                ".jpg/.png image"
            )
        if first is not None:
            self.height, self.width = first.shape[:2]

    def read(self) -> Frame | None:
        if self._index >= len(self.paths):
            return None
        path = self.paths[self._index]
        frame = Frame(self._index, float(self._index), _read_image(path), name=path.name)
        self._index += 1
        return frame


def probe_cameras(max_index: int = 5) -> list[tuple[int, int, int]]:
    """(index, width, height) of the cameras that open, for the camera chooser."""
    found = []
    for index in range(max_index):
        try:
            cam = CameraSource(index)
        except SourceError:
            continue
        found.append((index, cam.width, cam.height))
        cam.close()
    return found


def _natural_key(path: Path) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def open_source(spec: str | int | Path) -> FrameSource:
    """Open a camera index ("0"), a video file, an image file or a folder of images."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        return CameraSource(int(spec))
    path = Path(spec).expanduser()
    if path.is_dir():
        images = sorted(
            (p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
            key=_natural_key,
        )
        if not images:
            videos = [p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES]
            hint = (
                f"; it holds {len(videos)} video(s): pass them as inputs, e.g. {path}/*.mp4"
                if videos
                else ""
            )
            raise SourceError(
                f"no images in folder {path} (looked for "
                f"{', '.join(sorted(IMAGE_SUFFIXES))}){hint}"
            )
        return ImageFilesSource(images, str(path), kind="folder")
    if not path.exists():
        raise SourceError(f"input not found: {path} (check the path, or give a camera index)")
    if not path.is_file():
        raise SourceError(f"input is not a file or folder: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageFilesSource([path], str(path), kind="image")
    return VideoFileSource(path)
