"""MediaPipe Pose (tasks API) for one or several people, returning plain numpy arrays.

VIDEO mode is used for sequences: MediaPipe then tracks the person between frames
instead of re-detecting, which is both faster and steadier; it needs strictly
increasing integer millisecond timestamps. IMAGE mode is used for independent photos.
One estimator per thread: MediaPipe's Python API funnels calls through its own
dispatcher and is not meant to be shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from posture_monitor.core.common.errors import ModelError
from posture_monitor.core.common.native_log import quiet_native_stderr
from posture_monitor.core.vision.landmarks import COUNT
from posture_monitor.core.vision.model_files import ModelFile


@dataclass
class Pose:
    """Landmarks of one person in one frame (MediaPipe's 33-point layout)."""

    image: np.ndarray  # (33, 3): x, y normalized to the frame (0..1), z relative depth
    world: np.ndarray  # (33, 3): metres, origin between the hips, axes as the camera's
    visibility: np.ndarray  # (33,): probability the point is visible (not occluded)
    presence: np.ndarray  # (33,): probability the point is inside the frame


def _to_arrays(image_landmarks, world_landmarks) -> Pose:
    image = np.empty((COUNT, 3), dtype=np.float64)
    world = np.empty((COUNT, 3), dtype=np.float64)
    visibility = np.empty(COUNT, dtype=np.float64)
    presence = np.empty(COUNT, dtype=np.float64)
    for i, lm in enumerate(image_landmarks):
        image[i] = (lm.x, lm.y, lm.z)
        visibility[i] = lm.visibility if lm.visibility is not None else 0.0
        presence[i] = lm.presence if lm.presence is not None else 0.0
    for i, lm in enumerate(world_landmarks):
        world[i] = (lm.x, lm.y, lm.z)
    return Pose(image, world, visibility, presence)


class PoseEstimator:
    """Wraps `PoseLandmarker`. Use as a context manager so it is closed deterministically."""

    def __init__(self, model: ModelFile, video_mode: bool = True,
                 min_detection_confidence: float = 0.5, min_tracking_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5, max_people: int = 1) -> None:
        from posture_monitor.core.vision.mediapipe_import import import_mediapipe

        mp, BaseOptions, vision = import_mediapipe()  # heavy: kept out of module import

        self._mp = mp
        self.model = model
        self.video_mode = video_mode
        # More than one person costs time: MediaPipe then runs its person detector on
        # every frame where fewer than max_people are tracked (one person in view: all).
        self.max_people = max(1, int(max_people))
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model.path)),
            running_mode=vision.RunningMode.VIDEO if video_mode else vision.RunningMode.IMAGE,
            num_poses=self.max_people,
            min_pose_detection_confidence=min_detection_confidence,
            min_tracking_confidence=min_tracking_confidence,
            min_pose_presence_confidence=min_presence_confidence,
        )
        try:
            with quiet_native_stderr():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except Exception as exc:  # MediaPipe raises RuntimeError/ValueError with C++ text
            text = str(exc).strip()
            first_line = text.splitlines()[0] if text else type(exc).__name__
            raise ModelError(
                f"MediaPipe cannot load pose model {model.path} ({first_line[:160]}); "
                "pass --model lite or --model full, or a valid pose_landmarker .task file"
            ) from None
        self._last_ms = -1
        # MediaPipe logs once more when it first finds a person; stay quiet until then.
        self._quiet_frames_left = 300  # about 10 s at 30 fps, 2.5 min in desk mode

    def estimate(self, image_bgr: np.ndarray, time_s: float) -> Pose | None:
        """Landmarks of the most prominent person, or None when nobody is found."""
        people = self.estimate_all(image_bgr, time_s)
        return people[0] if people else None

    def estimate_all(self, image_bgr: np.ndarray, time_s: float) -> list[Pose]:
        """Landmarks of everyone found (up to max_people), in MediaPipe's order (which is
        not an identity: core/vision/people.py keeps one across frames)."""
        rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
        mp_image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        if self._quiet_frames_left > 0:
            with quiet_native_stderr():
                pose = self._detect(mp_image, time_s)
            self._quiet_frames_left = 0 if pose else self._quiet_frames_left - 1
            return pose
        return self._detect(mp_image, time_s)

    def _detect(self, mp_image, time_s: float) -> list[Pose]:
        if self.video_mode:
            # Strictly increasing integer milliseconds, whatever the source's clock does.
            ms = max(int(round(time_s * 1000.0)), self._last_ms + 1)
            self._last_ms = ms
            result = self._landmarker.detect_for_video(mp_image, ms)
        else:
            result = self._landmarker.detect(mp_image)
        return [_to_arrays(image, world) for image, world
                in zip(result.pose_landmarks, result.pose_world_landmarks, strict=True)]

    def close(self) -> None:
        if self._landmarker is not None:
            with quiet_native_stderr():  # LiteRT says goodbye on fd 2 (mediapipe 1.2.3)
                self._landmarker.close()
            self._landmarker = None

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
