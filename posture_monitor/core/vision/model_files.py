"""Resolve and check pose model files (`--model lite|full|PATH`)."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from posture_monitor.core.common.errors import ModelError
from posture_monitor.core.common.hashing import file_sha256_cached
from posture_monitor.core.common.resources import models_dir

POSE_MODELS = {
    "lite": "pose_landmarker_lite.task",
    "full": "pose_landmarker_full.task",
}
DEFAULT_POSE_MODEL = "full"


@dataclass(frozen=True)
class ModelFile:
    name: str  # "lite", "full" or the file name of a user-given path
    path: Path

    @property
    def sha256(self) -> str:
        return file_sha256_cached(self.path)


def resolve_pose_model(spec: str | Path = DEFAULT_POSE_MODEL) -> ModelFile:
    """Turn `lite`, `full` or a path into a checked model file, or raise ModelError.

    A .task bundle is a zip archive holding the detector and landmarker .tflite files;
    checking that up front turns a corrupt download into a clear message instead of a
    native crash deep in MediaPipe.
    """
    spec_str = str(spec)
    if spec_str in POSE_MODELS:
        path = models_dir() / POSE_MODELS[spec_str]
        name = spec_str
        fix = "reinstall Posture Monitor or pass --model PATH to a pose_landmarker .task file"
    else:
        path = Path(spec_str).expanduser()
        name = path.name
        fix = ("pass --model lite, --model full or the path of a MediaPipe pose_landmarker "
               ".task file")
    if not path.is_file():
        raise ModelError(f"pose model not found: {path} ({fix})")
    try:
        with zipfile.ZipFile(path) as bundle:
            members = bundle.namelist()
            bad = bundle.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"pose model {path} is not a valid .task bundle ({exc}); {fix}") from None
    if bad is not None or not any(m.endswith(".tflite") for m in members):
        raise ModelError(f"pose model {path} is damaged or holds no .tflite model; {fix}")
    return ModelFile(name=name, path=path.resolve())
