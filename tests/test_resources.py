"""Model and asset resolution: named models, paths, and the data-folder override."""

import shutil

from posture_monitor.core.common import resources
from posture_monitor.core.vision.model_files import resolve_pose_model


def test_named_models_resolve_to_shipped_files():
    for name in ("lite", "full"):
        model = resolve_pose_model(name)
        assert model.path.is_file() and model.name == name
        assert model.path.stat().st_size > 1_000_000
    assert resolve_pose_model("lite").sha256 == (
        "59929e1d1ee95287735ddd833b19cf4ac46d29bc7afddbbf6753c459690d574a")


def test_pose_model_given_by_path_resolves_to_that_file(tmp_path):
    copy = tmp_path / "my_pose.task"
    shutil.copy(resolve_pose_model("lite").path, copy)
    model = resolve_pose_model(str(copy))
    assert model.path == copy.resolve() and model.name == "my_pose.task"


def test_shipped_data_has_no_environment_override(tmp_path, monkeypatch):
    # The program's one override (POSTURE_MONITOR_DATA_HOME) moves what it writes, never
    # where its models come from: a folder there holding models/ is not searched.
    (tmp_path / "models").mkdir()
    monkeypatch.setenv("POSTURE_MONITOR_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("POSTURE_MONITOR_DATA", str(tmp_path))
    assert resources.models_dir() != tmp_path / "models"
    assert (resources.models_dir() / "pose_landmarker_lite.task").is_file()


def test_sample_clip_is_shipped():
    assert resources.sample_video().is_file()
