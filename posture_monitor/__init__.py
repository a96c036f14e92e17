"""Posture Monitor: webcam posture measurement with MediaPipe Pose, fully offline."""

import os as _os

__version__ = "0.1.0"

# MediaPipe's native code logs through glog/absl to stderr ("W0000 ... inference_feedback_manager");
# users see those lines as errors. Quiet them unless the user asked otherwise. Must run
# before mediapipe is first imported, which is why it lives in the package root.
_os.environ.setdefault("GLOG_minloglevel", "2")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# FFmpeg inside OpenCV prints decoder complaints for damaged files; we report those
# ourselves in one line.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
_os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
